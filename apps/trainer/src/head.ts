/**
 * Training a TRINITY router head on recorded outcomes with either trainer, generation by generation,
 * with JSON checkpoints that resume bit-for-bit:
 *
 * - `cmaes`: @openfugu/trinity `trainRouterHead` (sep-CMA-ES; its own checkpoint format is embedded).
 * - `grpo`: @openfugu/trinity `trainRouterHeadGrpo` (@openfugu/grpo's softmax-linear trainer, G samples per
 *   prompt, Adam) with a fixed number of full-batch steps per generation; its checkpoint is embedded too.
 *
 * - `ridge` ({@link trainRidgeHead}): @openfugu/trinity `trainValueHead`, the supervised value head of
 *   issue 16 — one closed-form (or, on sparse features, conjugate-gradient) fit, no generations.
 *
 * The two iterative trainers hold out the same fraction of the training prompts for model selection and return the weights
 * with the best validation reward. A "generation" of GRPO is the number of steps that spends the reward
 * evaluations of one CMA-ES generation (λ candidates × training prompts), so curves share an x-axis.
 */
import { fromState } from '@openfugu/cmaes';
import { describeValueHead, fitValueHead } from '@openfugu/eval';
import { InvalidArgumentError } from '@openfugu/schema';
import {
  createRouterHead,
  evaluateHead,
  type FeatureVector,
  type GrpoEpoch,
  type GrpoTrainingCheckpoint,
  headLogits,
  type RouterHead,
  type TrainingCheckpoint,
  trainRouterHead,
  trainRouterHeadGrpo,
  type ValueHeadCvPoint,
} from '@openfugu/trinity';

/** One point of a learning curve. */
export interface CurvePoint {
  generation: number;
  /** Reward evaluations (table lookups) spent so far by the trainer. */
  evaluations: number;
  /** Mean reward of argmax routing with the current iterate on the training prompts. */
  train: number;
  /** Same on the validation prompts (null without validation). */
  validation: number | null;
}

/** GRPO hyper-parameters. */
export interface GrpoOptions {
  /** G, samples per prompt. Default 8. */
  groupSize?: number;
  /** Prompts per step. Default min(32, training prompts). */
  batchSize?: number;
  /** Adam learning rate. Default 0.05. */
  learningRate?: number;
}

/** Settings of {@link trainHead}. */
export interface TrainHeadSettings {
  trainer: 'cmaes' | 'grpo';
  features: readonly Float32Array[];
  /** `outcomes[prompt][model]`. */
  outcomes: readonly (readonly number[])[];
  models: readonly string[];
  backboneId?: string;
  seed: number;
  generations: number;
  /** Fraction of the training prompts used for model selection. Default 0.2. */
  validationFraction?: number;
  grpo?: GrpoOptions;
  /** Called after every generation with the current iterate's weights (agents × dimension). */
  onGeneration?: (point: CurvePoint, weights: ArrayLike<number>) => void;
  /** Called every `checkpointEvery` generations and at the end. */
  onCheckpoint?: (checkpoint: HeadCheckpoint) => void;
  checkpointEvery?: number;
  resume?: HeadCheckpoint;
  /**
   * Append the three role rows (Worker, Thinker, Verifier) as zeros, the published TRINITY layout that
   * loaders expect by default (role argmax → Worker). Default true.
   */
  roles?: boolean;
}

/** A checkpoint file's content. */
export interface HeadCheckpoint {
  format: 'openfugu.trainer-head/1';
  trainer: 'cmaes' | 'grpo';
  /** Settings that must match on resume (data shape, seed, hyper-parameters). */
  fingerprint: Record<string, unknown>;
  curve: CurvePoint[];
  cmaes?: TrainingCheckpoint;
  grpo?: GrpoTrainingCheckpoint;
}

/** Result of {@link trainHead}. */
export interface TrainHeadResult {
  head: RouterHead;
  curve: CurvePoint[];
  /** Generation of the returned (best-validation) weights. */
  selectedGeneration: number;
  evaluations: number;
  trainIndices: number[];
  validationIndices: number[];
  /** Reward evaluations per generation (λ × training prompts for CMA-ES; steps × batch × G for GRPO). */
  evaluationsPerGeneration: number;
  hyperparameters: Record<string, unknown>;
  checkpoint: HeadCheckpoint;
}

/** sep-CMA-ES default population size for `n` parameters (trinity's default). */
export function cmaesPopulation(n: number): number {
  return 4 + Math.floor(3 * Math.log(n));
}

/** Mean reward of argmax routing with `weights` (agents × d, row-major) on a set. */
export function routedReward(
  weights: ArrayLike<number>,
  features: readonly Float32Array[],
  outcomes: readonly (readonly number[])[],
  agentCount: number,
): number {
  if (features.length === 0) return Number.NaN;
  const dimension = features[0]!.length;
  // Agent rows only (role rows, when present, follow them and do not route).
  const agentWeights = Float64Array.from({ length: agentCount * dimension }, (_, i) => weights[i]!);
  const head = createRouterHead({ agentCount, dimension, roles: false, weights: agentWeights });
  return evaluateHead(head, features, outcomes).mean;
}

function checkFingerprint(resume: HeadCheckpoint, fingerprint: Record<string, unknown>): void {
  if (resume.format !== 'openfugu.trainer-head/1')
    throw new InvalidArgumentError({ argument: 'resume', message: 'not an openfugu-train head checkpoint' });
  const differences = Object.keys({ ...fingerprint, ...resume.fingerprint }).filter(
    (key) => JSON.stringify(fingerprint[key]) !== JSON.stringify(resume.fingerprint[key]),
  );
  if (differences.length > 0)
    throw new InvalidArgumentError({
      argument: 'resume',
      message: `checkpoint was written with different settings: ${differences
        .map((k) => `${k} ${JSON.stringify(resume.fingerprint[k])} ≠ ${JSON.stringify(fingerprint[k])}`)
        .join(', ')}`,
    });
}

/**
 * Trains the agent rows of a head with sep-CMA-ES or GRPO; same seed and settings give the same head,
 * and resuming from any checkpoint gives the head of the uninterrupted run, bit for bit.
 */
export function trainHead(settings: TrainHeadSettings): TrainHeadResult {
  const k = settings.models.length;
  const n = settings.features.length;
  const d = settings.features[0]?.length ?? 0;
  if (n === 0) throw new InvalidArgumentError({ argument: 'features', message: 'no training prompts' });
  if (k < 2)
    throw new InvalidArgumentError({ argument: 'models', message: 'routing needs at least 2 models' });
  if (!(Number.isInteger(settings.generations) && settings.generations >= 0))
    throw new InvalidArgumentError({
      argument: 'generations',
      message: 'generations must be an integer ≥ 0',
    });
  const validationFraction = settings.validationFraction ?? 0.2;
  const checkpointEvery = Math.max(1, settings.checkpointEvery ?? 10);
  const lambda = cmaesPopulation(k * d);
  const base = {
    promptCount: n,
    dimension: d,
    models: [...settings.models],
    seed: settings.seed,
    validationFraction,
  };
  const withRoles = settings.roles !== false;
  const finish = (weights: ArrayLike<number>, extra: Omit<TrainHeadResult, 'head'>): TrainHeadResult => ({
    head: createRouterHead({
      agentCount: k,
      dimension: d,
      roles: withRoles,
      // Agent rows, then (by default) three zero role rows.
      weights: Float64Array.from({ length: (k + (withRoles ? 3 : 0)) * d }, (_, i) =>
        i < k * d ? weights[i]! : 0,
      ),
      agents: settings.models,
      ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
    }),
    ...extra,
  });

  if (settings.trainer === 'cmaes') {
    const fingerprint = { ...base, trainer: 'cmaes', populationSize: lambda };
    if (settings.resume) {
      checkFingerprint(settings.resume, fingerprint);
      if (!settings.resume.cmaes)
        throw new InvalidArgumentError({ argument: 'resume', message: 'checkpoint has no CMA-ES state' });
    }
    const curve: CurvePoint[] = settings.resume ? settings.resume.curve.map((c) => ({ ...c })) : [];
    // trinity counts candidates; one candidate costs one reward lookup per training prompt.
    const trainCount = n - Math.round(n * validationFraction);
    let trainIdx: number[] = [];
    let validationIdx: number[] = [];
    const wrap = (cp: TrainingCheckpoint): HeadCheckpoint => ({
      format: 'openfugu.trainer-head/1',
      trainer: 'cmaes',
      fingerprint,
      curve: curve.map((c) => ({ ...c })),
      cmaes: cp,
    });
    // trinity calls onCheckpoint every generation here (checkpointEvery 1) so the current mean is
    // available for `onGeneration`; files are written every `checkpointEvery` generations.
    // Generation 0 (the initial mean) never reaches onCheckpoint, so CMA-ES curves with weights start at 1.
    const wantsMean = settings.onGeneration !== undefined;
    let lastReported = settings.resume?.cmaes?.cmaes.generation ?? 0;
    const result = trainRouterHead({
      features: settings.features,
      outcomes: settings.outcomes,
      seed: settings.seed,
      maxGenerations: settings.generations,
      validationFraction,
      populationSize: lambda,
      agents: settings.models,
      ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
      ...(settings.resume?.cmaes ? { resume: settings.resume.cmaes } : {}),
      checkpointEvery: wantsMean ? 1 : checkpointEvery,
      onProgress: (g) => {
        if (curve.length > 0 && curve.at(-1)!.generation >= g.generation) return;
        curve.push({
          generation: g.generation,
          evaluations: g.evaluations * trainCount,
          train: g.trainReward,
          validation: g.validationReward,
        });
      },
      onCheckpoint: (cp) => {
        trainIdx = cp.trainIndices;
        validationIdx = cp.validationIndices;
        const generation = cp.cmaes.generation;
        if (wantsMean && generation > lastReported) {
          const point = curve.find((c) => c.generation === generation);
          if (point) settings.onGeneration!(point, fromState(cp.cmaes).mean);
          lastReported = generation;
        }
        if (generation % checkpointEvery === 0 || generation >= settings.generations)
          settings.onCheckpoint?.(wrap(cp));
      },
    });
    return finish(result.head.weights.subarray(0, k * d), {
      curve,
      selectedGeneration: result.selectedGeneration,
      evaluations: curve.at(-1)?.evaluations ?? 0,
      trainIndices: trainIdx.length > 0 ? trainIdx : result.trainIndices,
      validationIndices: validationIdx.length > 0 ? validationIdx : result.validationIndices,
      evaluationsPerGeneration: lambda * result.trainIndices.length,
      hyperparameters: { algorithm: 'sep-CMA-ES', populationSize: lambda, sigma0: 0.3, init: 'best-single' },
      checkpoint: wrap(result.checkpoint),
    });
  }

  // ---- GRPO: trinity's trainRouterHeadGrpo with a fixed number of full-batch steps per generation.
  const trainCount = n - Math.round(n * validationFraction);
  const groupSize = settings.grpo?.groupSize ?? 8;
  const batchSize = Math.min(settings.grpo?.batchSize ?? 32, trainCount);
  const learningRate = settings.grpo?.learningRate ?? 0.05;
  const stepsPerGeneration = Math.max(1, Math.round((lambda * trainCount) / (batchSize * groupSize)));
  const fingerprint = { ...base, trainer: 'grpo', groupSize, batchSize, learningRate, stepsPerGeneration };
  if (settings.resume) {
    checkFingerprint(settings.resume, fingerprint);
    if (!settings.resume.grpo)
      throw new InvalidArgumentError({ argument: 'resume', message: 'checkpoint has no GRPO state' });
  }
  const toPoint = (e: GrpoEpoch): CurvePoint => ({
    generation: e.epoch,
    evaluations: e.evaluations,
    train: e.trainReward,
    validation: e.validationReward,
  });
  const wrap = (cp: GrpoTrainingCheckpoint): HeadCheckpoint => ({
    format: 'openfugu.trainer-head/1',
    trainer: 'grpo',
    fingerprint,
    curve: cp.history.map(toPoint),
    grpo: cp,
  });
  const result = trainRouterHeadGrpo({
    features: settings.features,
    outcomes: settings.outcomes,
    seed: settings.seed,
    validationFraction,
    epochs: settings.generations,
    stepsPerEpoch: stepsPerGeneration,
    batchSize,
    groupSize,
    learningRate,
    roles: withRoles,
    agents: settings.models,
    ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
    ...(settings.resume?.grpo ? { resume: settings.resume.grpo } : {}),
    checkpointEvery,
    ...(settings.onGeneration === undefined
      ? {}
      : { onProgress: (e: GrpoEpoch, w: Float64Array) => settings.onGeneration!(toPoint(e), w) }),
    ...(settings.onCheckpoint === undefined
      ? {}
      : { onCheckpoint: (cp: GrpoTrainingCheckpoint) => settings.onCheckpoint!(wrap(cp)) }),
  });
  const curve = result.history.map(toPoint);
  return {
    head: result.head,
    curve,
    selectedGeneration: result.selectedEpoch,
    evaluations: curve.at(-1)!.evaluations,
    trainIndices: result.trainIndices,
    validationIndices: result.validationIndices,
    evaluationsPerGeneration: stepsPerGeneration * batchSize * groupSize,
    hyperparameters: {
      algorithm: 'GRPO (softmax-linear policy, Adam)',
      groupSize,
      batchSize,
      learningRate,
      stepsPerGeneration,
      advantages: 'group (r − mean)/(std + 1e-4)',
      epsilon: 0.2,
      beta: 0,
    },
    checkpoint: wrap(result.checkpoint),
  };
}

/** Settings of {@link trainRidgeHead}. */
export interface TrainRidgeHeadSettings {
  /** Dense or sparse (`concat-sparse`) feature vectors, one per training prompt. */
  features: readonly FeatureVector[];
  /** `outcomes[prompt][model]`. */
  outcomes: readonly (readonly number[])[];
  models: readonly string[];
  backboneId?: string;
  /** Seed of the cross-validation folds. */
  seed: number;
}

/** Result of {@link trainRidgeHead}. */
export interface TrainRidgeHeadResult {
  /** Roles-free value head with a per-model bias (`agentBias`) and the backbone id. */
  head: RouterHead;
  lambda: number;
  cv: ValueHeadCvPoint[];
  criterion: 'deferral' | 'loss';
  solver: 'cholesky' | 'cg';
  hyperparameters: Record<string, unknown>;
}

/**
 * Fits the supervised value head (ridge, λ by 5-fold CV on the training prompts, per-model bias) the way
 * @openfugu/eval's `ridge` trainer does: with two models λ is chosen by the out-of-fold deferral area (the
 * ranking the cost–quality knob uses), otherwise by held-out loss; sparse features are solved by
 * conjugate gradients. Same seed, same head.
 */
export function trainRidgeHead(settings: TrainRidgeHeadSettings): TrainRidgeHeadResult {
  if (settings.models.length < 2)
    throw new InvalidArgumentError({ argument: 'models', message: 'routing needs at least 2 models' });
  const result = fitValueHead({
    features: settings.features,
    outcomes: settings.outcomes,
    models: settings.models,
    seed: settings.seed,
    ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
  });
  // The CV path is reported once, beside the hyperparameters.
  const { cv: _cv, ...hyperparameters } = describeValueHead(result);
  return {
    head: result.head,
    lambda: result.lambda,
    cv: result.cv,
    criterion: result.criterion,
    solver: result.solver,
    hyperparameters,
  };
}

/** Mean reward of argmax routing by a value head (bias included; dense or sparse features) on a set. */
export function valueRoutedReward(
  head: RouterHead,
  features: readonly FeatureVector[],
  outcomes: readonly (readonly number[])[],
): number {
  if (features.length === 0) return Number.NaN;
  let sum = 0;
  features.forEach((x, p) => {
    const { agentLogits } = headLogits(head, x);
    let best = 0;
    for (let a = 1; a < agentLogits.length; a++) if (agentLogits[a]! > agentLogits[best]!) best = a;
    sum += outcomes[p]![best]!;
  });
  return sum / features.length;
}
