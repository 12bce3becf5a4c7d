/**
 * `fugu`: the TRINITY coordinator loop (`@openfugu/trinity`'s `runCoordinator`) over the pool.
 * Requests that carry `tools` are routed once (the router's first-turn choice) and passed through to that
 * worker (`passthrough`: the gateway streams its answer as it comes), because a tool call must come back to
 * the client verbatim rather than be reviewed by other roles. `run` keeps the same rule for direct callers.
 * In a streamed run, the Worker call on the last allowed turn (`final: true`, see `runCoordinator`) streams to
 * the client as it is generated.
 */
import { AbortedError, UpstreamError } from '@openfugu/schema';
import { type CoordinatorRouter, type Router, runCoordinator } from '@openfugu/trinity';
import type { ModeRouter } from './knob.js';
import type { GatewayMode, ModeInput } from './modes.js';

/** Settings of `createTrinityMode`. */
export interface TrinityModeSettings {
  /** Public model name (default `fugu`). */
  model?: string;
  description?: string;
  /**
   * A router over the pool (agent ids = worker ids), or one per request (the cost–quality knob: preset and
   * request hints, see knob.ts).
   */
  router: Router | ((input: ModeInput) => ModeRouter);
  /** Turns per request (default 5, the paper's). */
  maxTurns?: number;
  /** Per-turn timeout in ms (default none: the request deadline applies). */
  turnTimeoutMs?: number;
}

/**
 * Creates the TRINITY mode.
 *
 * @example
 * ```ts
 * const router = createRouter({ backbone: createHashingBackbone(), head, agents: workers.map((w) => w.id) });
 * const gateway = createGateway({ workers, modes: [createTrinityMode({ router, maxTurns: 3 })] });
 * ```
 */
export function createTrinityMode(settings: TrinityModeSettings): GatewayMode {
  const model = settings.model ?? 'fugu';
  const routerFor = (input: ModeInput): ModeRouter =>
    typeof settings.router === 'function' ? settings.router(input) : settings.router;
  return {
    kind: 'run',
    model,
    ...(settings.description === undefined ? {} : { description: settings.description }),
    // A request with tools is routed once and passed through to the chosen worker (its tool calls must reach
    // the client verbatim): true streaming, fallback to other workers before the first byte.
    async passthrough(input, context) {
      const request = input.workerRequest;
      if (!request.tools || request.tools.length === 0) return undefined;
      const router = routerFor(input);
      const mask = router.agents.map((agent) => context.pool.isAvailable(agent));
      const decision = await router.route(request.messages, mask.some(Boolean) ? { mask } : {});
      return {
        workerId: decision.agent,
        trace: { turns: [{ turn: 1, agent: decision.agent, role: 'worker', tools: true }], reason: 'tools' },
      };
    },
    async run(input, context) {
      const router = routerFor(input);
      const mask = router.agents.map((agent) => context.pool.isAvailable(agent));
      const anyAvailable = mask.some(Boolean);
      const timed: CoordinatorRouter = {
        agents: router.agents,
        async route(observation, options) {
          const started = performance.now();
          const decision = await router.route(observation, options);
          context.observeRouting?.((performance.now() - started) / 1000);
          return decision;
        },
      };
      const request = input.workerRequest;
      if (request.tools && request.tools.length > 0) {
        const started = performance.now();
        const decision = await router.route(request.messages, anyAvailable ? { mask } : {});
        context.observeRouting?.((performance.now() - started) / 1000);
        const { response, workerId } = await context.pool.complete(decision.agent, request, context.ledger, {
          signal: context.signal,
        });
        return {
          content: response.content,
          ...(response.toolCalls ? { toolCalls: response.toolCalls } : {}),
          ...(response.finishReason ? { finishReason: response.finishReason } : {}),
          trace: { turns: [{ turn: 1, agent: workerId, role: 'worker', tools: true }], reason: 'tools' },
        };
      }
      const result = await runCoordinator({
        router: timed,
        workers: context.workers,
        messages: request.messages,
        ...(settings.maxTurns === undefined ? {} : { maxTurns: settings.maxTurns }),
        ...(settings.turnTimeoutMs === undefined ? {} : { turnTimeoutMs: settings.turnTimeoutMs }),
        ...(anyAvailable ? { mask } : {}),
        signal: context.signal,
        onWorkerError: 'fallback',
        ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
        ...(request.temperature === undefined ? {} : { workerTemperature: request.temperature }),
      });
      const trace = {
        reason: result.reason,
        agents: router.agents,
        turns: result.turns.map((turn) => ({
          turn: turn.turn,
          agent: turn.agent,
          role: turn.role,
          ...(turn.roleChange ? { roleChange: turn.roleChange } : {}),
          ...(turn.accepted === undefined ? {} : { accepted: turn.accepted }),
          ...(turn.final ? { final: true } : {}),
          latencyMs: Math.round(turn.latencyMs),
          ...(turn.error ? { error: turn.error.code } : {}),
          scores: turn.agentProbabilities,
          ...(turn.usage ? { usage: turn.usage } : {}),
        })),
      };
      if (result.reason === 'aborted') throw result.error ?? new AbortedError();
      if (result.answer === undefined) {
        throw result.error ?? new UpstreamError({ message: 'no worker produced an answer' });
      }
      // The answering call's finish reason (`length` when the worker was cut at max_tokens).
      return {
        content: result.answer,
        ...(result.finishReason ? { finishReason: result.finishReason } : {}),
        trace,
      };
    },
  };
}
