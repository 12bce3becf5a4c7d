/**
 * Test doubles for code that uses @openfugu/trinity (import from `@openfugu/trinity/test`): scripted
 * workers and a scripted router, so coordinator runs can be tested without models, GPUs or a network.
 */
import {
  AbortedError,
  NoAvailableWorkerError,
  ROLES,
  type Role,
  type RoutingDecision,
  type Usage,
  type Worker,
  type WorkerCallOptions,
  type WorkerRequest,
  type WorkerResponse,
} from '@openfugu/schema';
import type { CoordinatorRouter } from './coordinator.js';
import { type RouteOptions, resolveMask } from './router.js';

/** One scripted reply: text, a full response, an error to throw, or a function of the request. */
export type ScriptedReply =
  | string
  | WorkerResponse
  | Error
  | ((
      request: WorkerRequest,
      callIndex: number,
    ) => string | WorkerResponse | Promise<string | WorkerResponse>);

/** Settings of {@link createScriptedWorker}. */
export interface ScriptedWorkerSettings {
  id: string;
  /** Replies in call order; the last one repeats when the script runs out. */
  replies: readonly ScriptedReply[];
  /** Delay before replying, in ms (honours the abort signal). Default 0. */
  delayMs?: number;
  /** Usage reported with string replies. Default `{ promptTokens: 10, completionTokens: 5, totalTokens: 15 }`. */
  usage?: Usage;
}

/** A scripted worker that records every call. */
export interface ScriptedWorker extends Worker {
  readonly calls: WorkerRequest[];
}

/**
 * Creates a worker that replies from a script and records its requests.
 *
 * @example
 * ```ts
 * const worker = createScriptedWorker({ id: 'a', replies: ['42', new Error('down')] });
 * ```
 */
export function createScriptedWorker(settings: ScriptedWorkerSettings): ScriptedWorker {
  const calls: WorkerRequest[] = [];
  const usage = settings.usage ?? { promptTokens: 10, completionTokens: 5, totalTokens: 15 };
  return {
    id: settings.id,
    calls,
    async complete(request: WorkerRequest, options?: WorkerCallOptions): Promise<WorkerResponse> {
      const index = calls.length;
      calls.push(request);
      const signal = options?.signal;
      if (settings.delayMs !== undefined && settings.delayMs > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, settings.delayMs);
          signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              reject(new AbortedError({ cause: signal.reason }));
            },
            { once: true },
          );
        });
      }
      if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
      const script = settings.replies;
      const reply = script[Math.min(index, script.length - 1)];
      if (reply === undefined) return { content: '', usage };
      if (reply instanceof Error) throw reply;
      const value = typeof reply === 'function' ? await reply(request, index) : reply;
      return typeof value === 'string' ? { content: value, usage } : value;
    },
  };
}

/**
 * A router that returns scripted (agent, role) decisions in order (the last repeats), honouring masks:
 * when the scripted agent is masked it picks the first available agent.
 *
 * @example
 * ```ts
 * const router = createScriptedRouter(['a', 'b'], [{ agent: 'a', role: 'worker' }, { agent: 'b', role: 'verifier' }]);
 * ```
 */
export function createScriptedRouter(
  agents: readonly string[],
  script: readonly { agent: string; role: Role }[],
): CoordinatorRouter & { readonly observations: string[] } {
  const observations: string[] = [];
  return {
    agents,
    observations,
    async route(observation: string, options: RouteOptions = {}): Promise<RoutingDecision> {
      const step = script[Math.min(observations.length, script.length - 1)]!;
      observations.push(observation);
      const mask = resolveMask(options.mask, agents);
      let agentIndex = agents.indexOf(step.agent);
      if (agentIndex < 0 || !mask[agentIndex]) agentIndex = mask.indexOf(true);
      if (agentIndex < 0) throw new NoAvailableWorkerError({ message: 'no agent available' });
      const agentProbabilities = agents.map((_, i) => (i === agentIndex ? 1 : 0));
      return {
        agentIndex,
        agent: agents[agentIndex]!,
        role: step.role,
        agentLogits: agentProbabilities.slice(),
        agentProbabilities,
        roleProbabilities: ROLES.map((r) => (r === step.role ? 1 : 0)),
      };
    },
  };
}
