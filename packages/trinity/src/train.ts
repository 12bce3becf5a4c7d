/**
 * Training a router head on recorded outcomes with sep-CMA-ES (@openfugu/cmaes), as TRINITY does
 * (DESIGN.md: the paper found sep-CMA-ES beat REINFORCE, imitation learning and random search).
 *
 * Data: one cached feature vector per prompt and a reward table `outcomes[prompt][agent]` (e.g. 0/1
 * correctness, or AlpacaEval's P(win)). Fitness of a head (maximised):
 *
 *   mean over train prompts of  reward[p][a*] − λ · cost[p][a*]  +  β · H(softmax(logits_p))
 *
 * with a* = argmax of the head's agent logits (ties → lowest index) and H the entropy (nats) of the
 * agent softmax. Only agent rows are searched (`agentCount × dimension` parameters); role rows, when
 * requested, are zeros (role training needs multi-turn rollouts, see the README).
 *
 * Each generation the distribution mean is scored on the train and validation prompts; the returned head
 * is the mean with the best validation reward (`selection: 'validation'`, default) — a held-out test set
 * must be kept outside `features` entirely.
 */
import {
  type Cmaes,
  type CmaesState,
  createRng,
  createSepCmaes,
  fromState,
  type TerminationReason,
} from '@openfugu/cmaes';
import {
  AbortedError,
  type AbortSignalLike,
  InvalidArgumentError,
  ShapeMismatchError,
} from '@openfugu/schema';
import { createRouterHead, type RouterHead } from './head.js';

/** Progress of one generation. */
export interface TrainingGeneration {
  generation: number;
  evaluations: number;
  /** Mean reward (no cost, no entropy) of the distribution mean, argmax-routed, on train prompts. */
  trainReward: number;
  /** Same on validation prompts (null when there are none). */
  validationReward: number | null;
  /** Fitness (reward − λ·cost + β·entropy) of the distribution mean on train prompts. */
  trainFitness: number;
  /** Fitness on validation prompts (null when there are none). */
  validationFitness: number | null;
  /** Best candidate fitness on train prompts so far (null before the first generation). */
  bestCandidateFitness: number | null;
  /** CMA-ES step size. */
  stepSize: number;
}

/** A JSON-serialisable checkpoint; pass it back as `resume` to continue bit-for-bit. */
export interface TrainingCheckpoint {
  format: 'openfugu.trinity-training/1';
  agentCount: number;
  dimension: number;
  promptCount: number;
  trainIndices: number[];
  validationIndices: number[];
  cmaes: CmaesState;
  history: TrainingGeneration[];
  selected: { generation: number; score: number; weights: number[] };
}

/** Settings of {@link trainRouterHead}. */
export interface TrainRouterHeadSettings {
  /** One feature vector per prompt (all the same length). Cache them: training never calls a backbone. */
  features: readonly ArrayLike<number>[];
  /** `outcomes[prompt][agent]`: the reward of routing that prompt to that agent (finite numbers). */
  outcomes: readonly (readonly number[])[];
  /** Costs: one per agent (e.g. a price) or one per prompt × agent. Default none. */
  costs?: readonly number[] | readonly (readonly number[])[];
  /** Cost weight λ. Default 0. */
  lambda?: number;
  /** Entropy bonus β (nats). Default 0. */
  entropyBonus?: number;
  /** Fraction of prompts held out for validation (model selection). Default 0.2. Ignored with `validationIndices`. */
  validationFraction?: number;
  /** Explicit validation prompt indices (the rest train). */
  validationIndices?: readonly number[];
  /** Seed of the split and of CMA-ES. Default 0. */
  seed?: number;
  /** CMA-ES initial step size. Default 0.3 (features are unit-norm, so this is the logit noise scale). */
  sigma0?: number;
  /** CMA-ES population size λ. Default 4 + ⌊3 ln n⌋. */
  populationSize?: number;
  /** Generations to run. Default 100. */
  maxGenerations?: number;
  /** Stop after this many candidate evaluations. Default unlimited. */
  maxEvaluations?: number;
  /**
   * Starting head: `'best-single'` (default) points the best train agent's row along the mean train feature,
   * so the search starts from "always the best single model"; `'zeros'`; or explicit agent-row weights.
   */
  init?: 'best-single' | 'zeros' | ArrayLike<number>;
  /**
   * With `init: 'best-single'`: the mean train logit margin of the best agent's row. Default `sigma0`, so the
   * first perturbations can flip decisions (a margin much larger than σ₀ leaves the fitness flat).
   */
  initMargin?: number;
  /** Which head to return: best validation reward of the distribution mean (default) or the final mean. */
  selection?: 'validation' | 'final';
  /** Add three zero role rows to the returned head. Default false. */
  roles?: boolean;
  agents?: readonly string[];
  backboneId?: string;
  /** Called after every generation. */
  onProgress?: (progress: TrainingGeneration) => void;
  /** Called every `checkpointEvery` generations (default 10) and at the end. */
  onCheckpoint?: (checkpoint: TrainingCheckpoint) => void;
  checkpointEvery?: number;
  /** Continue from a checkpoint (same data and settings). */
  resume?: TrainingCheckpoint;
  signal?: AbortSignalLike;
}

/** Result of {@link trainRouterHead}. */
export interface TrainRouterHeadResult {
  head: RouterHead;
  history: TrainingGeneration[];
  /** Generation of the returned head (0 = the initial mean). */
  selectedGeneration: number;
  trainIndices: number[];
  validationIndices: number[];
  checkpoint: TrainingCheckpoint;
  /** Why CMA-ES stopped early, if it did. */
  termination: TerminationReason | null;
}

/** Packed training data: features row-major, rewards and costs per prompt × agent. */
interface Table {
  count: number;
  features: Float32Array;
  rewards: Float64Array;
  costs: Float64Array;
}

/** Scores `weights` (agentCount × d) on a table: mean reward, mean cost and mean entropy of argmax routing. */
function score(
  weights: ArrayLike<number>,
  table: Table,
  agentCount: number,
  d: number,
  logits: Float64Array,
): { reward: number; cost: number; entropy: number } {
  let reward = 0;
  let cost = 0;
  let entropy = 0;
  const { features, rewards, costs } = table;
  for (let p = 0; p < table.count; p++) {
    const base = p * d;
    let best = 0;
    for (let a = 0; a < agentCount; a++) {
      const w = a * d;
      let sum = 0;
      for (let i = 0; i < d; i++) sum += weights[w + i]! * features[base + i]!;
      logits[a] = sum;
      if (sum > logits[best]!) best = a;
    }
    reward += rewards[p * agentCount + best]!;
    cost += costs[p * agentCount + best]!;
    // Entropy of the softmax (stable): H = log Z − Σ p·(l − max).
    const max = logits[best]!;
    let z = 0;
    let weighted = 0;
    for (let a = 0; a < agentCount; a++) {
      const shifted = logits[a]! - max;
      const e = Math.exp(shifted);
      z += e;
      weighted += e * shifted;
    }
    entropy += Math.log(z) - weighted / z;
  }
  const n = table.count || 1;
  return { reward: reward / n, cost: cost / n, entropy: entropy / n };
}

function pack(
  indices: readonly number[],
  settings: TrainRouterHeadSettings,
  agentCount: number,
  d: number,
): Table {
  const features = new Float32Array(indices.length * d);
  const rewards = new Float64Array(indices.length * agentCount);
  const costs = new Float64Array(indices.length * agentCount);
  indices.forEach((p, row) => {
    features.set(Array.from(settings.features[p]!), row * d);
    const outcome = settings.outcomes[p]!;
    for (let a = 0; a < agentCount; a++) {
      rewards[row * agentCount + a] = outcome[a]!;
      const c = settings.costs;
      costs[row * agentCount + a] =
        c === undefined
          ? 0
          : typeof c[0] === 'number'
            ? (c as readonly number[])[a]!
            : (c as readonly (readonly number[])[])[p]![a]!;
    }
  });
  return { count: indices.length, features, rewards, costs };
}

function validate(settings: TrainRouterHeadSettings): { agentCount: number; d: number } {
  const { features, outcomes } = settings;
  if (features.length === 0)
    throw new InvalidArgumentError({ argument: 'features', message: 'no training prompts' });
  if (outcomes.length !== features.length) {
    throw new ShapeMismatchError({
      message: `${features.length} feature vectors but ${outcomes.length} outcome rows`,
      expected: `${features.length}`,
      actual: `${outcomes.length}`,
    });
  }
  const d = features[0]!.length;
  const agentCount = outcomes[0]!.length;
  if (agentCount < 2)
    throw new InvalidArgumentError({ argument: 'outcomes', message: 'routing needs at least 2 agents' });
  features.forEach((f, p) => {
    if (f.length !== d)
      throw new ShapeMismatchError({
        message: `feature vector ${p} has length ${f.length}, expected ${d}`,
        expected: `${d}`,
        actual: `${f.length}`,
      });
  });
  outcomes.forEach((row, p) => {
    if (row.length !== agentCount)
      throw new ShapeMismatchError({
        message: `outcome row ${p} has ${row.length} agents, expected ${agentCount}`,
        expected: `${agentCount}`,
        actual: `${row.length}`,
      });
    if (!row.every(Number.isFinite))
      throw new InvalidArgumentError({
        argument: `outcomes[${p}]`,
        message: 'outcomes must be finite numbers (fill or drop missing cells)',
      });
  });
  const costs = settings.costs;
  if (costs !== undefined) {
    if (typeof costs[0] === 'number') {
      if (costs.length !== agentCount)
        throw new ShapeMismatchError({
          message: `costs lists ${costs.length} agents, expected ${agentCount}`,
          expected: `${agentCount}`,
          actual: `${costs.length}`,
        });
    } else if (costs.length !== features.length) {
      throw new ShapeMismatchError({
        message: `costs has ${costs.length} rows, expected ${features.length}`,
        expected: `${features.length}`,
        actual: `${costs.length}`,
      });
    }
  }
  if (settings.agents !== undefined && settings.agents.length !== agentCount) {
    throw new ShapeMismatchError({
      message: `${settings.agents.length} agent ids for ${agentCount} outcome columns`,
      expected: `${agentCount}`,
      actual: `${settings.agents.length}`,
    });
  }
  return { agentCount, d };
}

/**
 * Splits `count` prompts into train and validation indices with a seeded shuffle (both sorted).
 *
 * @example
 * ```ts
 * const { train, validation } = splitIndices(100, 0.2, 7); // 80 / 20
 * ```
 */
export function splitIndices(
  count: number,
  validationFraction: number,
  seed: number,
): { train: number[]; validation: number[] } {
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new InvalidArgumentError({
      argument: 'validationFraction',
      message: `validationFraction must be in [0, 1), got ${validationFraction}`,
    });
  }
  const order = Array.from({ length: count }, (_, i) => i);
  const rng = createRng(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const v = Math.round(count * validationFraction);
  return { validation: order.slice(0, v).sort((a, b) => a - b), train: order.slice(v).sort((a, b) => a - b) };
}

/**
 * Trains the agent rows of a router head on recorded outcomes with sep-CMA-ES.
 *
 * Defaults: 20 % validation, seed 0, σ₀ 0.3, λ = 4 + ⌊3 ln n⌋, 100 generations, start from the best
 * single agent (mean logit margin σ₀), return the best-validation mean, λ_cost 0, entropy bonus 0.
 *
 * @example
 * ```ts
 * const { head, history } = trainRouterHead({ features, outcomes, agents: ['a', 'b'], maxGenerations: 50 });
 * ```
 */
export function trainRouterHead(settings: TrainRouterHeadSettings): TrainRouterHeadResult {
  const { agentCount, d } = validate(settings);
  const n = agentCount * d;
  const lambda = settings.lambda ?? 0;
  const beta = settings.entropyBonus ?? 0;
  const seed = settings.seed ?? 0;
  const maxGenerations = settings.maxGenerations ?? 100;
  const checkpointEvery = settings.checkpointEvery ?? 10;
  const selection = settings.selection ?? 'validation';

  let trainIndices: number[];
  let validationIndices: number[];
  if (settings.resume !== undefined) {
    const r = settings.resume;
    if (
      r.format !== 'openfugu.trinity-training/1' ||
      r.agentCount !== agentCount ||
      r.dimension !== d ||
      r.promptCount !== settings.features.length
    ) {
      throw new InvalidArgumentError({
        argument: 'resume',
        message: 'checkpoint does not match these features/outcomes',
      });
    }
    trainIndices = [...r.trainIndices];
    validationIndices = [...r.validationIndices];
  } else if (settings.validationIndices !== undefined) {
    const held = new Set(settings.validationIndices);
    validationIndices = [...held].sort((a, b) => a - b);
    trainIndices = settings.features.map((_, i) => i).filter((i) => !held.has(i));
  } else {
    const split = splitIndices(settings.features.length, settings.validationFraction ?? 0.2, seed);
    trainIndices = split.train;
    validationIndices = split.validation;
  }
  if (trainIndices.length === 0)
    throw new InvalidArgumentError({
      argument: 'validationFraction',
      message: 'no prompts left to train on',
    });
  const train = pack(trainIndices, settings, agentCount, d);
  const validation = pack(validationIndices, settings, agentCount, d);
  const logits = new Float64Array(agentCount);
  const fitnessOf = (s: { reward: number; cost: number; entropy: number }): number =>
    s.reward - lambda * s.cost + beta * s.entropy;

  let cmaes: Cmaes;
  let history: TrainingGeneration[];
  let selected: { generation: number; score: number; weights: Float64Array };
  const record = (
    generation: number,
    weights: Float64Array,
    evaluations: number,
    best: number | null,
    stepSize: number,
  ): TrainingGeneration => {
    const t = score(weights, train, agentCount, d, logits);
    const v = validation.count > 0 ? score(weights, validation, agentCount, d, logits) : undefined;
    const entry: TrainingGeneration = {
      generation,
      evaluations,
      trainReward: t.reward,
      validationReward: v === undefined ? null : v.reward,
      trainFitness: fitnessOf(t),
      validationFitness: v === undefined ? null : fitnessOf(v),
      bestCandidateFitness: best,
      stepSize,
    };
    const key = selection === 'final' ? generation : v === undefined ? entry.trainFitness : fitnessOf(v);
    if (selection === 'final' || key > selected.score)
      selected = { generation, score: key, weights: Float64Array.from(weights) };
    return entry;
  };

  if (settings.resume !== undefined) {
    cmaes = fromState(settings.resume.cmaes);
    history = settings.resume.history.map((h) => ({ ...h }));
    selected = { ...settings.resume.selected, weights: Float64Array.from(settings.resume.selected.weights) };
  } else {
    const x0 = new Float64Array(n);
    const init = settings.init ?? 'best-single';
    if (init === 'best-single') {
      // Point the best train agent's row along the mean train feature, scaled so its mean logit is the margin.
      const margin = settings.initMargin ?? settings.sigma0 ?? 0.3;
      let bestAgent = 0;
      let bestValue = Number.NEGATIVE_INFINITY;
      for (let a = 0; a < agentCount; a++) {
        let total = 0;
        for (let p = 0; p < train.count; p++)
          total += train.rewards[p * agentCount + a]! - lambda * train.costs[p * agentCount + a]!;
        if (total > bestValue) {
          bestValue = total;
          bestAgent = a;
        }
      }
      const mean = new Float64Array(d);
      for (let p = 0; p < train.count; p++)
        for (let i = 0; i < d; i++) mean[i]! += train.features[p * d + i]! / train.count;
      let meanDot = 0;
      for (let i = 0; i < d; i++) meanDot += mean[i]! * mean[i]!;
      if (meanDot > 0) for (let i = 0; i < d; i++) x0[bestAgent * d + i] = (margin * mean[i]!) / meanDot;
    } else if (init !== 'zeros') {
      if (init.length !== n)
        throw new ShapeMismatchError({
          message: `init has ${init.length} values, expected ${agentCount} × ${d}`,
          expected: `${n}`,
          actual: `${init.length}`,
        });
      for (let i = 0; i < n; i++) x0[i] = init[i]!;
    }
    cmaes = createSepCmaes({
      dimension: n,
      x0,
      sigma0: settings.sigma0 ?? 0.3,
      seed,
      ...(settings.populationSize === undefined ? {} : { populationSize: settings.populationSize }),
      ...(settings.maxEvaluations === undefined ? {} : { maxEvaluations: settings.maxEvaluations }),
      stagnation: false,
    });
    history = [];
    selected = { generation: 0, score: Number.NEGATIVE_INFINITY, weights: x0 };
    const first = record(0, x0, 0, null, cmaes.stepSize);
    history.push(first);
    settings.onProgress?.(first);
  }

  const checkpoint = (): TrainingCheckpoint => ({
    format: 'openfugu.trinity-training/1',
    agentCount,
    dimension: d,
    promptCount: settings.features.length,
    trainIndices,
    validationIndices,
    cmaes: cmaes.state(),
    history: history.map((h) => ({ ...h })),
    selected: {
      generation: selected.generation,
      score: selected.score,
      weights: Array.from(selected.weights),
    },
  });

  let termination: TerminationReason | null = cmaes.stop();
  while (cmaes.generation < maxGenerations && termination === null) {
    if (settings.signal?.aborted) throw new AbortedError({ cause: settings.signal.reason });
    const candidates = cmaes.ask();
    const fitnesses = new Float64Array(candidates.length);
    for (let k = 0; k < candidates.length; k++)
      fitnesses[k] = -fitnessOf(score(candidates[k]!, train, agentCount, d, logits));
    cmaes.tell(candidates, fitnesses);
    const entry = record(
      cmaes.generation,
      cmaes.mean,
      cmaes.evaluations,
      -cmaes.best.fitness,
      cmaes.stepSize,
    );
    history.push(entry);
    settings.onProgress?.(entry);
    termination = cmaes.stop();
    if (settings.onCheckpoint !== undefined && cmaes.generation % checkpointEvery === 0)
      settings.onCheckpoint(checkpoint());
  }
  const final = checkpoint();
  settings.onCheckpoint?.(final);

  const headWeights = new Float64Array((agentCount + (settings.roles === true ? 3 : 0)) * d);
  headWeights.set(selected.weights, 0);
  const head = createRouterHead({
    agentCount,
    dimension: d,
    roles: settings.roles === true,
    weights: headWeights,
    ...(settings.agents === undefined ? {} : { agents: settings.agents }),
    ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
  });
  return {
    head,
    history,
    selectedGeneration: selected.generation,
    trainIndices,
    validationIndices,
    checkpoint: final,
    termination,
  };
}

/**
 * Mean reward of argmax routing with `head` over `features`/`outcomes` (e.g. on a held-out test split),
 * plus the per-prompt rewards and the chosen agents.
 *
 * @example
 * ```ts
 * const { mean } = evaluateHead(head, testFeatures, testOutcomes);
 * ```
 */
export function evaluateHead(
  head: RouterHead,
  features: readonly ArrayLike<number>[],
  outcomes: readonly (readonly number[])[],
): { mean: number; rewards: number[]; choices: number[] } {
  const d = head.dimension;
  const rewards: number[] = [];
  const choices: number[] = [];
  features.forEach((x, p) => {
    if (x.length !== d)
      throw new ShapeMismatchError({
        message: `feature vector ${p} has length ${x.length}, expected ${d}`,
        expected: `${d}`,
        actual: `${x.length}`,
      });
    let best = 0;
    let bestLogit = Number.NEGATIVE_INFINITY;
    for (let a = 0; a < head.agentCount; a++) {
      let sum = 0;
      for (let i = 0; i < d; i++) sum += head.weights[a * d + i]! * x[i]!;
      if (sum > bestLogit) {
        bestLogit = sum;
        best = a;
      }
    }
    choices.push(best);
    rewards.push(outcomes[p]![best]!);
  });
  return { mean: rewards.reduce((a, b) => a + b, 0) / (rewards.length || 1), rewards, choices };
}
