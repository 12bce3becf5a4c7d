/**
 * `fugu-ultra`: the Conductor (`@openfugu/conductor`'s `runConductor`): a planner worker writes a workflow
 * over the pool, the workflow runs as a DAG (independent steps in parallel), and the last step's output is
 * the answer. The planner sees worker ids and descriptions only, never upstream model names. In a streamed run,
 * the last step of the last round (`final: true`, see `executeWorkflow`) streams to the client as generated.
 */

import { runConductor } from '@openfugu/conductor';
import { AbortedError, OpenFuguError, UpstreamError, type Worker } from '@openfugu/schema';
import { type GatewayMode, renderConversation } from './modes.js';

/** Settings of `createConductorMode`. */
export interface ConductorModeSettings {
  /** Public model name (default `fugu-ultra`). */
  model?: string;
  description?: string;
  /** Pool id of the planner, or a separate planner worker (not part of the pool). */
  planner: string | Worker;
  /** What the planner is told about each worker (id → one-line description). */
  descriptions?: Readonly<Record<string, string>>;
  /** Planning rounds (1 = no revision; default 1). */
  maxRounds?: number;
  /** Most steps per workflow (default 5). */
  maxSteps?: number;
}

/**
 * Creates the Conductor mode.
 *
 * @example
 * ```ts
 * const mode = createConductorMode({ planner: 'generalist', descriptions: { math: 'strong at math' } });
 * ```
 */
export function createConductorMode(settings: ConductorModeSettings): GatewayMode {
  const model = settings.model ?? 'fugu-ultra';
  return {
    kind: 'run',
    model,
    ...(settings.description === undefined ? {} : { description: settings.description }),
    async run(input, context) {
      const available = context.workers.filter((worker) => context.pool.isAvailable(worker.id));
      const planner =
        typeof settings.planner === 'string'
          ? context.workers.find((worker) => worker.id === settings.planner)
          : settings.planner;
      if (!planner)
        throw new OpenFuguError({ code: 'config_error', message: 'conductor planner is not in the pool' });
      const started = performance.now();
      const request = input.workerRequest;
      const result = await runConductor({
        planner,
        pool: (available.length > 0 ? available : context.workers).map((worker) => ({
          id: worker.id,
          ...(settings.descriptions?.[worker.id] ? { description: settings.descriptions[worker.id] } : {}),
        })),
        workers: context.workers,
        question: renderConversation(request.messages),
        signal: context.signal,
        ...(settings.maxRounds === undefined ? {} : { maxRounds: settings.maxRounds }),
        ...(settings.maxSteps === undefined ? {} : { maxSteps: settings.maxSteps }),
      });
      const trace = {
        stopReason: result.stopReason,
        ms: Math.round(performance.now() - started),
        workflow: result.workflow,
        rounds: result.rounds.map((round) => ({
          round: round.round,
          valid: round.validation.ok,
          unchanged: round.unchanged,
          ...(round.execution
            ? {
                steps: round.execution.trace.map((step) => ({
                  step: step.step,
                  worker: step.ranBy ?? step.worker,
                  status: step.status,
                  latencyMs: Math.round(step.latencyMs),
                })),
              }
            : {}),
        })),
      };
      if (context.signal.aborted) throw new AbortedError();
      if (result.answer === undefined) {
        throw new UpstreamError({
          message: `the conductor produced no answer (${result.stopReason})`,
          isRetryable: false,
        });
      }
      return { content: result.answer, trace };
    },
  };
}
