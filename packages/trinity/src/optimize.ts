/**
 * Black-box head training through one fitness interface: any `(head) → score` (higher is better), e.g. the
 * mean reward of multi-turn coordinator runs against live or simulated workers. sep-CMA-ES searches all
 * head rows (agents and, by default, roles), so the role policy is learned too — which one-shot recorded
 * outcomes cannot teach. Candidates of a generation are evaluated concurrently (`concurrency`).
 */
import { type CmaesState, createSepCmaes, fromState } from '@openfugu/cmaes';
import { AbortedError, type AbortSignalLike, ShapeMismatchError } from '@openfugu/schema';
import { createRouterHead, ROLE_COUNT, type RouterHead } from './head.js';

/** One generation of {@link optimizeRouterHead}. */
export interface OptimizeGeneration {
  generation: number;
  evaluations: number;
  /** Best candidate score of this generation. */
  bestScore: number;
  /** Mean candidate score of this generation. */
  meanScore: number;
  /** Best score seen so far. */
  bestSoFar: number;
  stepSize: number;
}

/** JSON checkpoint of {@link optimizeRouterHead}. */
export interface OptimizeCheckpoint {
  format: 'openfugu.trinity-optimize/1';
  cmaes: CmaesState;
  history: OptimizeGeneration[];
}

/** Settings of {@link optimizeRouterHead}. */
export interface OptimizeRouterHeadSettings {
  agentCount: number;
  dimension: number;
  /** Search the three role rows too. Default true. */
  roles?: boolean;
  /** Score of a head (higher is better). May be async (rollouts). Non-finite scores rank worst. */
  fitness: (head: RouterHead) => number | Promise<number>;
  /** Initial weights (`rows × dimension`); default zeros. */
  x0?: ArrayLike<number>;
  /** Default 0.3. */
  sigma0?: number;
  populationSize?: number;
  /** Default 0. */
  seed?: number;
  /** Default 30. */
  maxGenerations?: number;
  /** Candidates evaluated at once. Default: the whole population. */
  concurrency?: number;
  agents?: readonly string[];
  backboneId?: string;
  onProgress?: (generation: OptimizeGeneration) => void;
  onCheckpoint?: (checkpoint: OptimizeCheckpoint) => void;
  resume?: OptimizeCheckpoint;
  signal?: AbortSignalLike;
}

/**
 * Trains a router head with sep-CMA-ES against an arbitrary (possibly async) fitness; returns the best
 * candidate seen.
 *
 * @example
 * ```ts
 * const { head } = await optimizeRouterHead({
 *   agentCount: 3, dimension: 256,
 *   fitness: async (head) => meanReward(await Promise.all(tasks.map((t) => runCoordinator({ router: createRouter({ backbone, head, agents }), workers, messages: t.messages })))),
 * });
 * ```
 */
export async function optimizeRouterHead(settings: OptimizeRouterHeadSettings): Promise<{
  head: RouterHead;
  bestScore: number;
  history: OptimizeGeneration[];
  checkpoint: OptimizeCheckpoint;
}> {
  const { agentCount, dimension } = settings;
  const roles = settings.roles ?? true;
  const rows = agentCount + (roles ? ROLE_COUNT : 0);
  const n = rows * dimension;
  if (settings.x0 !== undefined && settings.x0.length !== n) {
    throw new ShapeMismatchError({
      message: `x0 has ${settings.x0.length} values, expected ${rows} × ${dimension}`,
      expected: `${n}`,
      actual: `${settings.x0.length}`,
    });
  }
  const toHead = (weights: ArrayLike<number>): RouterHead =>
    createRouterHead({
      agentCount,
      dimension,
      roles,
      weights,
      ...(settings.agents === undefined ? {} : { agents: settings.agents }),
      ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
    });
  const cmaes =
    settings.resume !== undefined
      ? fromState(settings.resume.cmaes)
      : createSepCmaes({
          dimension: n,
          x0: settings.x0 ?? 0,
          sigma0: settings.sigma0 ?? 0.3,
          seed: settings.seed ?? 0,
          stagnation: false,
          ...(settings.populationSize === undefined ? {} : { populationSize: settings.populationSize }),
        });
  const history: OptimizeGeneration[] = settings.resume?.history.map((h) => ({ ...h })) ?? [];
  const maxGenerations = settings.maxGenerations ?? 30;
  const concurrency = Math.max(1, settings.concurrency ?? cmaes.populationSize);
  const checkpoint = (): OptimizeCheckpoint => ({
    format: 'openfugu.trinity-optimize/1',
    cmaes: cmaes.state(),
    history: history.map((h) => ({ ...h })),
  });

  while (cmaes.generation < maxGenerations && cmaes.stop() === null) {
    if (settings.signal?.aborted) throw new AbortedError({ cause: settings.signal.reason });
    const candidates = cmaes.ask();
    const scores = new Float64Array(candidates.length);
    for (let start = 0; start < candidates.length; start += concurrency) {
      const batch = candidates.slice(start, start + concurrency);
      const values = await Promise.all(batch.map((c) => settings.fitness(toHead(c))));
      values.forEach((v, k) => {
        scores[start + k] = Number.isFinite(v) ? v : Number.NEGATIVE_INFINITY;
      });
    }
    cmaes.tell(
      candidates,
      scores.map((s) => -s),
    );
    let best = Number.NEGATIVE_INFINITY;
    let sum = 0;
    for (const s of scores) {
      best = Math.max(best, s);
      sum += s;
    }
    const entry: OptimizeGeneration = {
      generation: cmaes.generation,
      evaluations: cmaes.evaluations,
      bestScore: best,
      meanScore: sum / scores.length,
      bestSoFar: -cmaes.best.fitness,
      stepSize: cmaes.stepSize,
    };
    history.push(entry);
    settings.onProgress?.(entry);
    settings.onCheckpoint?.(checkpoint());
  }
  const best = cmaes.best;
  return { head: toHead(best.x), bestScore: -best.fitness, history, checkpoint: checkpoint() };
}
