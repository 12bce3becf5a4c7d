/**
 * The TRINITY multi-turn coordinator loop (DESIGN.md): each turn the router reads one evolving
 * observation and picks (agent, role).
 *
 * - Worker: answers the user's request (seeing the previous answer, critique and hint when any).
 *   Its reply becomes the current answer and is appended to the observation in numbered tags
 *   `<response_k>…</response_k>`.
 * - Thinker: suggests the next role and a hint (parsed tolerantly); the hint goes to the next Worker.
 * - Verifier: replies ACCEPT (the run ends, reason `accepted`) or a critique that goes to the next Worker.
 *   A Verifier chosen before any answer exists is turned into a Worker.
 * - After `maxTurns` turns the run ends with reason `max_turns` and the latest answer.
 *
 * Workers are called only through the `Worker` interface, each call under its own AbortSignal, which fires
 * on the caller's signal or after `turnTimeoutMs`. A Worker-role call on the last allowed turn is the run's
 * answer whatever it says (no later turn can replace it): it is made with `final: true` in its call options
 * ({@link FinalCallOptions}), so a worker may stream it straight to the client. A failing worker either ends the run (reason `error`,
 * default) or, with `onWorkerError: 'fallback'`, is masked out and the same turn is routed again.
 */
import {
  AbortedError,
  type AbortSignalLike,
  addUsage,
  type ChatMessage,
  emptyUsage,
  NoAvailableWorkerError,
  OpenFuguError,
  type Random,
  type Role,
  type RoutingDecision,
  TimeoutError,
  UpstreamError,
  type Usage,
  type Worker,
  type WorkerCallOptions,
  type WorkerRequest,
  type WorkerResponse,
} from '@openfugu/schema';
import {
  parseThinkerReply,
  parseVerifierReply,
  type RolePromptContext,
  thinkerMessages,
  verifierMessages,
  workerMessages,
} from './prompts.js';
import { renderMessages } from './render.js';
import type { AgentMask, RouteOptions } from './router.js';

/** The part of a `Router` the coordinator uses (a real router or a test double). */
export interface CoordinatorRouter {
  readonly agents: readonly string[];
  route(observation: string, options?: RouteOptions): Promise<RoutingDecision>;
}

/**
 * The per-call options the coordinator passes to `Worker.complete`: `WorkerCallOptions` plus `final`, set
 * (to `true`) only on a call whose reply becomes the run's answer unchanged — a Worker-role call on the last
 * allowed turn. Workers that do not know the field ignore it; a streaming gateway uses it to pass that one
 * call through to its client as it arrives. (A local extension: `@openfugu/schema`'s `Worker` is unchanged.)
 */
export interface FinalCallOptions extends WorkerCallOptions {
  /** True when no later turn can replace this call's reply: it is the answer. */
  final?: boolean;
}

/** Why a coordinator run ended. */
export type CoordinatorEndReason = 'accepted' | 'max_turns' | 'aborted' | 'error';

/** One turn (or one failed attempt at a turn) of a run. */
export interface CoordinatorTurn {
  /** 1-based turn number (a retried turn after a worker failure repeats the number). */
  turn: number;
  agent: string;
  /** The role that was played. */
  role: Role;
  /** The role the router chose, when something changed it (see `roleChange`). */
  routedRole?: Role;
  /** Why the role differs from the router's choice. */
  roleChange?: 'verifier_before_answer' | 'last_turn_needs_answer' | 'thinker_suggestion';
  /** The request sent to the worker. */
  request: WorkerRequest;
  /** The worker's reply text ('' when the call failed). */
  reply: string;
  usage?: Usage;
  latencyMs: number;
  /** The router's probabilities for this turn. */
  agentProbabilities: number[];
  roleProbabilities?: number[];
  /** Thinker turns: the parsed suggestion. */
  suggestion?: { nextRole?: Role; hint: string };
  /** Verifier turns: whether the answer was accepted (never when the answer was cut at the token limit). */
  accepted?: boolean;
  /** The worker's finish reason, when it reported one (`length`: cut at the token limit). */
  finishReason?: WorkerResponse['finishReason'];
  /** Set when the worker call failed. */
  error?: OpenFuguError;
  /** True when the call was made with `final: true` (its reply is the answer; see {@link FinalCallOptions}). */
  final?: boolean;
}

/** Result of {@link runCoordinator}. */
export interface CoordinatorResult {
  /** The latest Worker answer (undefined when no Worker answered). */
  answer: string | undefined;
  /**
   * The finish reason of the call that produced `answer`, when its worker reported one: `length` means the
   * answer was cut at the token limit (such an answer is never accepted by a Verifier).
   */
  finishReason?: WorkerResponse['finishReason'];
  reason: CoordinatorEndReason;
  turns: CoordinatorTurn[];
  /** Sum of every worker call's usage. */
  usage: Usage;
  /** The router's final observation (query plus numbered Worker responses). */
  observation: string;
  /** The error that ended the run (reason `error` or `aborted`). */
  error?: OpenFuguError;
}

/** Settings of {@link runCoordinator}. */
export interface CoordinatorSettings {
  router: CoordinatorRouter;
  /** Pool members; matched to `router.agents` by id. Agents without a worker are masked out. */
  workers: readonly Worker[];
  /** The user's conversation. */
  messages: readonly ChatMessage[];
  /** Maximum number of turns. Default 5. */
  maxTurns?: number;
  /** Caller's abort signal: the run stops with reason `aborted`. */
  signal?: AbortSignalLike;
  /** Per-turn timeout in ms (worker call). Default none. */
  turnTimeoutMs?: number;
  /** `'fail'` (default): a failing worker ends the run with reason `error`; `'fallback'`: mask it and re-route the turn. */
  onWorkerError?: 'fail' | 'fallback';
  /** Restrict the pool for this run (k-of-n). */
  mask?: AgentMask;
  /** Router sampling options (argmax by default). */
  sample?: boolean;
  temperature?: number;
  random?: Random;
  /** Let a Thinker's suggested role replace the router's role choice on the next turn. Default false. */
  followThinkerRole?: boolean;
  /** On the last turn, when no answer exists yet, play Worker whatever the router chose. Default true. */
  forceAnswerOnLastTurn?: boolean;
  /** Longest Worker response appended to the observation, in characters (the rest is cut). Default 8000. */
  observationCharsPerResponse?: number;
  /** Passed to every worker request. */
  maxTokens?: number;
  workerTemperature?: number;
  /** Called after every turn (also failed attempts). */
  onTurn?: (turn: CoordinatorTurn) => void;
  /** Clock for latencies, in ms. Default `performance.now`. */
  now?: () => number;
}

interface TurnSignal {
  signal: AbortSignal;
  cleanup(): void;
  /** Rejects when the turn is aborted or times out. */
  failure: Promise<never>;
}

function turnSignal(outer: AbortSignalLike | undefined, timeoutMs: number | undefined): TurnSignal {
  const controller = new AbortController();
  let reject: (error: OpenFuguError) => void = () => {};
  const failure = new Promise<never>((_, r) => {
    reject = r;
  });
  failure.catch(() => {});
  const onOuterAbort = (): void => {
    const error = new AbortedError({ cause: outer?.reason });
    controller.abort(error);
    reject(error);
  };
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
    timer = setTimeout(() => {
      const error = new TimeoutError({ message: `worker turn timed out after ${timeoutMs} ms`, timeoutMs });
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  }
  return {
    signal: controller.signal,
    failure,
    cleanup() {
      if (timer !== undefined) clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
}

function asOpenFuguError(error: unknown, workerId: string): OpenFuguError {
  if (OpenFuguError.isInstance(error)) return error;
  return new UpstreamError({
    message: `worker call failed: ${error instanceof Error ? error.message : String(error)}`,
    workerId,
    cause: error,
  });
}

/**
 * Runs the TRINITY coordinator loop over a pool of workers and returns the answer with a full trace.
 * Never throws for worker, timeout or abort failures: they end the run with reason `error`/`aborted`.
 *
 * Defaults: `maxTurns` 5, no turn timeout, `onWorkerError` `'fail'`, argmax routing.
 *
 * @example
 * ```ts
 * const result = await runCoordinator({ router, workers, messages: [{ role: 'user', content: 'Prove …' }] });
 * result.answer; result.reason; // 'accepted' | 'max_turns' | …
 * ```
 */
export async function runCoordinator(settings: CoordinatorSettings): Promise<CoordinatorResult> {
  const { router, messages } = settings;
  const maxTurns = settings.maxTurns ?? 5;
  const now = settings.now ?? (() => performance.now());
  const onWorkerError = settings.onWorkerError ?? 'fail';
  const forceAnswer = settings.forceAnswerOnLastTurn ?? true;
  const responseChars = settings.observationCharsPerResponse ?? 8000;
  const byId = new Map(settings.workers.map((w) => [w.id, w]));
  const allowed = settings.mask === undefined ? undefined : new Set(resolveIds(settings.mask, router.agents));
  const available = router.agents.map((id) => byId.has(id) && (allowed === undefined || allowed.has(id)));

  let observation = renderMessages(messages);
  let usage = emptyUsage();
  const turns: CoordinatorTurn[] = [];
  const context: RolePromptContext = { messages };
  let answer: string | undefined;
  let answerFinish: WorkerResponse['finishReason'];
  let responses = 0;
  let suggestedRole: Role | undefined;

  const finish = (reason: CoordinatorEndReason, error?: OpenFuguError): CoordinatorResult => ({
    answer,
    ...(answer === undefined || answerFinish === undefined ? {} : { finishReason: answerFinish }),
    reason,
    turns,
    usage,
    observation,
    ...(error === undefined ? {} : { error }),
  });

  for (let turn = 1; turn <= maxTurns; turn++) {
    for (;;) {
      if (settings.signal?.aborted)
        return finish('aborted', new AbortedError({ cause: settings.signal.reason }));
      let decision: RoutingDecision;
      try {
        decision = await router.route(observation, {
          mask: available,
          ...(settings.sample === undefined ? {} : { sample: settings.sample }),
          ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
          ...(settings.random === undefined ? {} : { random: settings.random }),
          ...(settings.signal === undefined ? {} : { signal: settings.signal }),
        });
      } catch (error) {
        const failure = OpenFuguError.isInstance(error)
          ? error
          : new NoAvailableWorkerError({ message: 'routing failed', cause: error });
        return finish(failure.code === 'aborted' ? 'aborted' : 'error', failure);
      }
      const worker = byId.get(decision.agent);
      if (worker === undefined) {
        return finish(
          'error',
          new NoAvailableWorkerError({
            message: `router chose agent '${decision.agent}' that has no worker`,
          }),
        );
      }
      let role: Role = decision.role;
      let roleChange: CoordinatorTurn['roleChange'];
      if (settings.followThinkerRole === true && suggestedRole !== undefined && suggestedRole !== role) {
        role = suggestedRole;
        roleChange = 'thinker_suggestion';
      }
      if (role === 'verifier' && answer === undefined) {
        role = 'worker';
        roleChange = 'verifier_before_answer';
      }
      if (forceAnswer && turn === maxTurns && answer === undefined && role !== 'worker') {
        role = 'worker';
        roleChange = 'last_turn_needs_answer';
      }
      const request: WorkerRequest = {
        messages:
          role === 'worker'
            ? workerMessages(context)
            : role === 'thinker'
              ? thinkerMessages(context)
              : verifierMessages(context),
        ...(settings.maxTokens === undefined ? {} : { maxTokens: settings.maxTokens }),
        ...(settings.workerTemperature === undefined ? {} : { temperature: settings.workerTemperature }),
      };
      // The last turn's Worker reply is the answer whatever it says: nothing can follow it.
      const final = role === 'worker' && turn === maxTurns;
      const record: CoordinatorTurn = {
        turn,
        agent: worker.id,
        role,
        ...(final ? { final } : {}),
        ...(roleChange === undefined ? {} : { routedRole: decision.role, roleChange }),
        request,
        reply: '',
        latencyMs: 0,
        agentProbabilities: decision.agentProbabilities,
        ...(decision.roleProbabilities === undefined
          ? {}
          : { roleProbabilities: decision.roleProbabilities }),
      };
      const started = now();
      const scope = turnSignal(settings.signal, settings.turnTimeoutMs);
      let response: WorkerResponse;
      try {
        const options: FinalCallOptions = final ? { signal: scope.signal, final } : { signal: scope.signal };
        response = await Promise.race([worker.complete(request, options), scope.failure]);
      } catch (error) {
        record.latencyMs = now() - started;
        const failure = asOpenFuguError(error, worker.id);
        record.error = failure;
        turns.push(record);
        settings.onTurn?.(record);
        if (settings.signal?.aborted || failure.code === 'aborted') return finish('aborted', failure);
        if (onWorkerError === 'fail') return finish('error', failure);
        available[decision.agentIndex] = false;
        if (!available.some(Boolean)) {
          return finish(
            'error',
            new NoAvailableWorkerError({ message: 'every worker in the pool failed', cause: failure }),
          );
        }
        continue;
      } finally {
        scope.cleanup();
      }
      record.latencyMs = now() - started;
      record.reply = response.content;
      if (response.usage !== undefined) record.usage = response.usage;
      if (response.finishReason !== undefined) record.finishReason = response.finishReason;
      usage = addUsage(usage, response.usage);
      suggestedRole = undefined;

      if (role === 'worker') {
        answer = response.content;
        answerFinish = response.finishReason;
        context.answer = answer;
        delete context.critique;
        delete context.hint;
        responses++;
        const text = answer.length > responseChars ? answer.slice(0, responseChars) : answer;
        observation += `\n<response_${responses}>\n${text}\n</response_${responses}>`;
      } else if (role === 'thinker') {
        const suggestion = parseThinkerReply(response.content);
        record.suggestion = suggestion;
        if (suggestion.hint !== '') context.hint = suggestion.hint;
        suggestedRole = suggestion.nextRole;
      } else {
        const verdict = parseVerifierReply(response.content);
        // An answer cut at the token limit is incomplete whatever the Verifier says.
        if (answerFinish === 'length' && verdict.accepted) {
          verdict.accepted = false;
          verdict.critique = TRUNCATED_CRITIQUE;
        }
        record.accepted = verdict.accepted;
        if (verdict.accepted) {
          turns.push(record);
          settings.onTurn?.(record);
          return finish('accepted');
        }
        context.critique = verdict.critique;
      }
      turns.push(record);
      settings.onTurn?.(record);
      break;
    }
  }
  return finish('max_turns');
}

const TRUNCATED_CRITIQUE =
  'The answer was cut off at the token limit, so it is incomplete. Give a complete answer that fits the limit.';

function resolveIds(mask: AgentMask, agents: readonly string[]): string[] {
  if (mask.length > 0 && typeof mask[0] === 'string') return [...(mask as readonly string[])];
  return agents.filter((_, i) => (mask as readonly boolean[])[i] === true);
}
