/**
 * `minimize` / `maximize`: a driver around the ask/tell optimisers for async (expensive) fitness
 * functions — concurrent evaluation with a limit, AbortSignal, a progress callback per generation,
 * and IPOP restarts (Auger & Hansen 2005: restart with the population size multiplied by 2).
 */

import type { AbortSignalLike } from '@openfugu/schema';
import { InvalidArgumentError } from '@openfugu/schema';
import {
  type Cmaes,
  type CmaesKind,
  type CmaesSettings,
  type CmaesState,
  createCmaes,
  createSepCmaes,
  fromState,
  type TerminationReason,
} from './cmaes.js';
import { createRng } from './random.js';

/** What a fitness function learns about the call besides the point. */
export interface FitnessContext {
  /** 0-based restart index (IPOP). */
  restart: number;
  /** Generation within the current run (0-based). */
  generation: number;
  /** Index of the candidate within its generation. */
  index: number;
  /** Fires when `minimize` is aborted; pass it on to model calls. */
  signal?: AbortSignalLike;
}

/** A fitness function: lower is better for `minimize`. NaN/±Infinity are allowed and rank worst. */
export type FitnessFunction = (x: Float64Array, context: FitnessContext) => number | Promise<number>;

/** Reported after every generation. */
export interface MinimizeProgress {
  restart: number;
  /** Generation within the current run (1 after the first tell). */
  generation: number;
  /** Evaluations over all runs so far. */
  evaluations: number;
  /** Best fitness over all runs so far. */
  bestFitness: number;
  /** Best finite fitness of this generation (+Infinity if none). */
  generationBestFitness: number;
  stepSize: number;
  populationSize: number;
  /** NaN/±Infinity values seen over all runs. */
  nonFiniteEvaluations: number;
  /** The live optimiser, e.g. for `optimizer.state()` checkpoints. */
  optimizer: Cmaes;
}

/** Options of {@link minimize}; see {@link CmaesSettings} for the shared ones. */
export interface MinimizeOptions extends Omit<CmaesSettings, 'seed'> {
  /** Default 0. Each restart draws its own seed from this one. */
  seed?: number;
  /** Default `full` up to 200 dimensions, `sep` above. */
  method?: CmaesKind;
  /** Evaluations in flight at once. Default: the whole generation. */
  concurrency?: number;
  /** IPOP restarts after a run stops for a reason other than budget/target/abort. Default 0. */
  restarts?: number;
  /** Population factor per restart. Default 2. */
  populationGrowth?: number;
  /** Budget over all runs together (each run gets what is left). */
  maxEvaluations?: number;
  /** Stops evaluation; `minimize` then resolves with reason `aborted` and the best so far. */
  signal?: AbortSignalLike;
  /**
   * Continue from a checkpoint (`progress.optimizer.state()`) instead of starting afresh: the first
   * run is `fromState(resume)` (its own settings apply; `dimension`/`sigma0` here must match it),
   * and evaluations count on from the state's. Restarts, if any, then start from `x0`/`sigma0`.
   */
  resume?: CmaesState;
  /** Awaited after each generation (so a checkpoint may be written). */
  onGeneration?: (progress: MinimizeProgress) => void | Promise<void>;
}

/** The outcome of {@link minimize} (for {@link maximize}, `fitness` is the maximum found). */
export interface MinimizeResult {
  x: Float64Array;
  fitness: number;
  evaluations: number;
  /** Generations over all runs. */
  generations: number;
  /** Restarts performed (0 without IPOP). */
  restarts: number;
  /** Why the last run stopped. */
  reason: TerminationReason;
  /** Why each run stopped, in order. */
  runs: Array<{
    populationSize: number;
    evaluations: number;
    bestFitness: number;
    reason: TerminationReason;
  }>;
  nonFiniteEvaluations: number;
}

const FINAL_REASONS: ReadonlySet<TerminationReason> = new Set(['maxEvaluations', 'targetFitness', 'aborted']);

/**
 * Minimises `f` with (sep-)CMA-ES, evaluating each generation concurrently.
 *
 * Defaults: method `full` for n ≤ 200 else `sep`, λ = 4 + ⌊3 ln n⌋, seed 0, all candidates of a
 * generation in flight at once, no restarts. A fitness function that throws rejects the promise.
 * @example
 * ```ts
 * const result = await minimize(async (x) => score(x), {
 *   dimension: 10, sigma0: 0.5, maxEvaluations: 5000, concurrency: 4, restarts: 3,
 *   onGeneration: (p) => console.log(p.generation, p.bestFitness),
 * });
 * result.x; result.fitness; result.reason;
 * ```
 */
export async function minimize(f: FitnessFunction, options: MinimizeOptions): Promise<MinimizeResult> {
  const {
    seed = 0,
    method = options.dimension <= 200 ? 'full' : 'sep',
    concurrency = Number.POSITIVE_INFINITY,
    restarts = 0,
    populationGrowth = 2,
    maxEvaluations,
    signal,
    onGeneration,
    resume,
    ...settings
  } = options;
  if (resume && (resume.dimension !== settings.dimension || resume.kind !== method)) {
    throw new InvalidArgumentError({
      argument: 'resume',
      message: `resume holds a ${resume.kind} state of dimension ${resume.dimension}, expected ${method}/${settings.dimension}`,
    });
  }
  if (!(concurrency >= 1)) {
    throw new InvalidArgumentError({ argument: 'concurrency', message: 'concurrency must be ≥ 1' });
  }
  if (!(Number.isInteger(restarts) && restarts >= 0)) {
    throw new InvalidArgumentError({ argument: 'restarts', message: 'restarts must be an integer ≥ 0' });
  }
  if (!(populationGrowth >= 1)) {
    throw new InvalidArgumentError({ argument: 'populationGrowth', message: 'populationGrowth must be ≥ 1' });
  }
  const seeds = createRng(seed);
  const create = method === 'sep' ? createSepCmaes : createCmaes;
  const baseLambda = settings.populationSize ?? 4 + Math.floor(3 * Math.log(settings.dimension));

  let bestX: Float64Array | null = null;
  let bestFitness = Number.POSITIVE_INFINITY;
  let evaluations = resume?.evaluations ?? 0;
  let generations = 0;
  let nonFinite = resume?.nonFiniteEvaluations ?? 0;
  const runs: MinimizeResult['runs'] = [];
  let reason: TerminationReason = 'maxEvaluations';

  for (let restart = 0; restart <= restarts; restart++) {
    const runSettings: CmaesSettings = {
      ...settings,
      seed: restart === 0 ? seed : seeds.nextUint32(),
      populationSize: Math.round(baseLambda * populationGrowth ** restart),
    };
    if (maxEvaluations !== undefined) {
      const left = maxEvaluations - evaluations;
      if (left <= 0) break;
      runSettings.maxEvaluations = left;
    }
    const es = restart === 0 && resume ? fromState(resume) : create(runSettings);
    let runReason: TerminationReason | null = null;
    while (runReason === null) {
      if (signal?.aborted) {
        runReason = 'aborted';
        break;
      }
      const candidates = es.ask();
      const generation = es.generation;
      const values = await evaluateAll(candidates, f, concurrency, restart, generation, signal);
      if (values === 'aborted') {
        runReason = 'aborted';
        break;
      }
      es.tell(candidates, values);
      generations++;
      evaluations += candidates.length;
      let generationBest = Number.POSITIVE_INFINITY;
      for (const value of values) {
        if (!Number.isFinite(value)) nonFinite++;
        else if (value < generationBest) generationBest = value;
      }
      const runBest = es.best;
      if (runBest.fitness < bestFitness) {
        bestFitness = runBest.fitness;
        bestX = runBest.x;
      }
      if (onGeneration) {
        await onGeneration({
          restart,
          generation: es.generation,
          evaluations,
          bestFitness,
          generationBestFitness: generationBest,
          stepSize: es.stepSize,
          populationSize: es.populationSize,
          nonFiniteEvaluations: nonFinite,
          optimizer: es,
        });
      }
      runReason = es.stop();
    }
    runs.push({
      populationSize: es.populationSize,
      evaluations: es.evaluations,
      bestFitness: es.best.fitness,
      reason: runReason,
    });
    reason = runReason;
    if (bestX === null) bestX = es.mean;
    if (FINAL_REASONS.has(runReason)) break;
  }
  return {
    x: bestX ?? new Float64Array(settings.dimension),
    fitness: bestFitness,
    evaluations,
    generations,
    restarts: Math.max(0, runs.length - 1),
    reason,
    runs,
    nonFiniteEvaluations: nonFinite,
  };
}

/**
 * Maximises `f`: {@link minimize} on −f, with `targetFitness`, progress and result in the original
 * (maximised) sign.
 * @example
 * ```ts
 * const { x, fitness } = await maximize(async (w) => meanReward(w), { dimension: 19456, sigma0: 0.03, seed: 1 });
 * ```
 */
export async function maximize(f: FitnessFunction, options: MinimizeOptions): Promise<MinimizeResult> {
  const { targetFitness, onGeneration, ...rest } = options;
  const negated: MinimizeOptions = { ...rest };
  if (targetFitness !== undefined) negated.targetFitness = -targetFitness;
  if (onGeneration) {
    negated.onGeneration = (progress) =>
      onGeneration({
        ...progress,
        bestFitness: -progress.bestFitness,
        generationBestFitness: -progress.generationBestFitness,
      });
  }
  const result = await minimize(async (x, context) => -(await f(x, context)), negated);
  return {
    ...result,
    fitness: -result.fitness,
    runs: result.runs.map((run) => ({ ...run, bestFitness: -run.bestFitness })),
  };
}

async function evaluateAll(
  candidates: Float64Array[],
  f: FitnessFunction,
  concurrency: number,
  restart: number,
  generation: number,
  signal: AbortSignalLike | undefined,
): Promise<number[] | 'aborted'> {
  const values: number[] = new Array(candidates.length).fill(Number.NaN);
  return new Promise<number[] | 'aborted'>((resolve, reject) => {
    let next = 0;
    let running = 0;
    let settled = false;
    const onAbort = (): void => finish('aborted');
    const finish = (outcome: number[] | 'aborted' | { error: unknown }): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (typeof outcome === 'object' && !Array.isArray(outcome)) reject(outcome.error);
      else resolve(outcome);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const launch = (): void => {
      while (!settled && running < concurrency && next < candidates.length) {
        if (signal?.aborted) {
          finish('aborted');
          return;
        }
        const index = next++;
        running++;
        const context: FitnessContext = { restart, generation, index };
        if (signal) context.signal = signal;
        let result: number | Promise<number>;
        try {
          result = f(candidates[index]!, context);
        } catch (error) {
          finish({ error });
          return;
        }
        Promise.resolve(result).then(
          (value) => {
            values[index] = Number(value);
            running--;
            if (next >= candidates.length && running === 0) finish(values);
            else launch();
          },
          (error: unknown) => finish({ error }),
        );
      }
    };
    if (candidates.length === 0) finish(values);
    else launch();
  });
}
