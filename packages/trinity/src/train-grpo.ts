/**
 * GRPO training of the router head's agent rows on recorded outcomes, with the softmax-linear trainer of
 * @openfugu/grpo: per step, G agents are sampled per prompt from the head's softmax, scored from the outcome
 * table (reward − λ·cost), turned into group-relative advantages, and the clipped surrogate takes an Adam
 * step. The returned head is the one with the best validation reward (argmax routing), checked once per epoch.
 * Checkpoints are plain JSON (trainer state with its RNG, prompt order, history, selected weights); `resume`
 * continues bit for bit.
 * DESIGN.md: the TRINITY paper found sep-CMA-ES (see `trainRouterHead`) better than policy gradients; this
 * trainer is here to compare against.
 */
import { createRng, type RngState } from '@openfugu/cmaes';
import {
  createSoftmaxLinearTrainer,
  type SoftmaxLinearTrainerState,
  type StatefulRandom,
} from '@openfugu/grpo';
import {
  AbortedError,
  type AbortSignalLike,
  InvalidArgumentError,
  ShapeMismatchError,
} from '@openfugu/schema';
import { createRouterHead, type RouterHead } from './head.js';
import { splitIndices } from './train.js';

/** One epoch of {@link trainRouterHeadGrpo}. */
export interface GrpoEpoch {
  epoch: number;
  /** Argmax-routing mean reward (no cost) on train / validation prompts after the epoch (epoch 0 = initial head). */
  trainReward: number;
  validationReward: number | null;
  /** Mean reward of the sampled agents during the epoch (null for epoch 0). */
  meanSampledReward: number | null;
  /** GRPO steps taken so far. */
  steps: number;
  /** Reward lookups spent so far (sampled prompts × G). */
  evaluations: number;
}

/** A JSON-serialisable checkpoint of {@link trainRouterHeadGrpo}; pass it back as `resume` to continue bit for bit. */
export interface GrpoTrainingCheckpoint {
  format: 'openfugu.trinity-grpo-training/1';
  agentCount: number;
  dimension: number;
  promptCount: number;
  /** Hyper-parameters that must match on resume. */
  settings: {
    groupSize: number;
    batchSize: number;
    learningRate: number;
    entropyBonus: number | null;
    lambda: number;
    stepsPerEpoch: number | null;
  };
  trainIndices: number[];
  validationIndices: number[];
  /** Epochs done. */
  epoch: number;
  steps: number;
  /** Prompts sampled so far (evaluations = samples × G). */
  samples: number;
  /** Current shuffled order of the train prompts and the position in it. */
  order: number[];
  cursor: number;
  /** The GRPO trainer's state, including the RNG state (which also drives the shuffles). */
  trainer: SoftmaxLinearTrainerState;
  history: GrpoEpoch[];
  selected: { epoch: number; score: number; weights: number[] };
}

/** Settings of {@link trainRouterHeadGrpo}. */
export interface TrainRouterHeadGrpoSettings {
  features: readonly ArrayLike<number>[];
  outcomes: readonly (readonly number[])[];
  /** Per agent or per prompt × agent. */
  costs?: readonly number[] | readonly (readonly number[])[];
  /** Cost weight λ. Default 0. */
  lambda?: number;
  /** Default 0.2. Ignored with `validationIndices`. */
  validationFraction?: number;
  /** Explicit validation prompt indices (the rest train). */
  validationIndices?: readonly number[];
  /** Seed of the split, the shuffles and the sampling. Default 0. */
  seed?: number;
  /** Epochs to run (in total, counting those of a resumed checkpoint). Default 20. */
  epochs?: number;
  /**
   * Steps per epoch. Default: an epoch is one shuffled pass over the train prompts (the last batch may be
   * short). With a number, an epoch is that many steps of full batches drawn from a continuing stream of
   * shuffled passes (e.g. to spend a fixed budget of reward lookups per epoch).
   */
  stepsPerEpoch?: number;
  /** Prompts per GRPO step (capped at the number of train prompts). Default 32. */
  batchSize?: number;
  /** G, samples per prompt. Default 8. */
  groupSize?: number;
  /** Adam learning rate. Default 0.05. */
  learningRate?: number;
  /** Entropy bonus coefficient. Default 0. */
  entropyBonus?: number;
  /** Add three zero role rows to the returned head. Default false. */
  roles?: boolean;
  agents?: readonly string[];
  backboneId?: string;
  /** Called after every training epoch (not epoch 0). */
  onEpoch?: (epoch: GrpoEpoch) => void;
  /** Called with every new history entry, epoch 0 included, and the current agent-row weights (agents × d). */
  onProgress?: (epoch: GrpoEpoch, weights: Float64Array) => void;
  /** Called every `checkpointEvery` epochs (default 10) before the last, and once at the end. */
  onCheckpoint?: (checkpoint: GrpoTrainingCheckpoint) => void;
  checkpointEvery?: number;
  /** Continue from a checkpoint (same data and settings). */
  resume?: GrpoTrainingCheckpoint;
  signal?: AbortSignalLike;
}

/** Result of {@link trainRouterHeadGrpo}. */
export interface TrainRouterHeadGrpoResult {
  head: RouterHead;
  history: GrpoEpoch[];
  /** Epoch of the returned head (0 = the initial, uniform head). */
  selectedEpoch: number;
  trainIndices: number[];
  validationIndices: number[];
  checkpoint: GrpoTrainingCheckpoint;
}

/**
 * Trains the agent rows of a router head with GRPO on recorded outcomes.
 *
 * Defaults: 20 epochs of one pass each, batches of 32 prompts, G = 8, Adam lr 0.05, ε 0.2, β 0, zero initial
 * weights (uniform policy), selection by validation reward, checkpoints every 10 epochs.
 *
 * @example
 * ```ts
 * const { head, checkpoint } = trainRouterHeadGrpo({ features, outcomes, agents, epochs: 30 });
 * const more = trainRouterHeadGrpo({ features, outcomes, agents, epochs: 60, resume: checkpoint });
 * ```
 */
export function trainRouterHeadGrpo(settings: TrainRouterHeadGrpoSettings): TrainRouterHeadGrpoResult {
  const { features, outcomes } = settings;
  if (features.length === 0 || outcomes.length !== features.length) {
    throw new ShapeMismatchError({
      message: `${features.length} feature vectors and ${outcomes.length} outcome rows`,
      expected: 'equal, > 0',
      actual: `${outcomes.length}`,
    });
  }
  const d = features[0]!.length;
  const agentCount = outcomes[0]!.length;
  const lambda = settings.lambda ?? 0;
  const costs = settings.costs;
  const cost = (p: number, a: number): number =>
    costs === undefined
      ? 0
      : typeof costs[0] === 'number'
        ? (costs as readonly number[])[a]!
        : (costs as readonly (readonly number[])[])[p]![a]!;
  outcomes.forEach((row, p) => {
    if (row.length !== agentCount || !row.every(Number.isFinite)) {
      throw new InvalidArgumentError({
        argument: `outcomes[${p}]`,
        message: `outcome rows must hold ${agentCount} finite numbers`,
      });
    }
  });
  const stepsPerEpoch = settings.stepsPerEpoch ?? null;
  if (stepsPerEpoch !== null && !(Number.isInteger(stepsPerEpoch) && stepsPerEpoch >= 1))
    throw new InvalidArgumentError({
      argument: 'stepsPerEpoch',
      message: `stepsPerEpoch must be an integer ≥ 1, got ${stepsPerEpoch}`,
    });
  const seed = settings.seed ?? 0;
  const resume = settings.resume;
  let train: number[];
  let validation: number[];
  if (resume !== undefined) {
    train = [...resume.trainIndices];
    validation = [...resume.validationIndices];
  } else if (settings.validationIndices !== undefined) {
    const held = new Set(settings.validationIndices);
    validation = [...held].sort((a, b) => a - b);
    train = features.map((_, i) => i).filter((i) => !held.has(i));
  } else {
    ({ train, validation } = splitIndices(features.length, settings.validationFraction ?? 0.2, seed));
  }
  if (train.length === 0)
    throw new InvalidArgumentError({
      argument: 'validationFraction',
      message: 'no prompts left to train on',
    });
  const groupSize = settings.groupSize ?? 8;
  const batchSize = Math.min(settings.batchSize ?? 32, train.length);
  const hyper: GrpoTrainingCheckpoint['settings'] = {
    groupSize,
    batchSize,
    learningRate: settings.learningRate ?? 0.05,
    entropyBonus: settings.entropyBonus ?? null,
    lambda,
    stepsPerEpoch,
  };
  if (resume !== undefined) {
    if (resume.format !== 'openfugu.trinity-grpo-training/1')
      throw new InvalidArgumentError({
        argument: 'resume',
        message: `not a trainRouterHeadGrpo checkpoint (format ${JSON.stringify(resume.format)})`,
      });
    const mismatch =
      resume.agentCount !== agentCount || resume.dimension !== d || resume.promptCount !== features.length;
    if (mismatch || JSON.stringify(resume.settings) !== JSON.stringify(hyper))
      throw new InvalidArgumentError({
        argument: 'resume',
        message: mismatch
          ? 'checkpoint does not match these features/outcomes'
          : `checkpoint was written with other settings: ${JSON.stringify(resume.settings)} ≠ ${JSON.stringify(hyper)}`,
      });
  }
  // One generator drives the shuffles and the trainer's sampling; its state travels in trainer.state().
  const rng = createRng(seed);
  const random: StatefulRandom = Object.assign(() => rng(), {
    state: () => [...rng.getState()],
    setState: (state: unknown) => rng.setState(state as RngState),
  });
  const trainer = createSoftmaxLinearTrainer({
    actions: agentCount,
    features: d,
    observations: features,
    reward: (p, a) => outcomes[p]![a]! - lambda * cost(p, a),
    random,
    groupSize,
    optimizer: { learningRate: hyper.learningRate },
    ...(settings.entropyBonus === undefined ? {} : { entropyCoefficient: settings.entropyBonus }),
  });
  // Argmax routing on the raw logits (as the returned head routes; ties → lowest index).
  const rewardOf = (weights: Float64Array, indices: readonly number[]): number => {
    if (indices.length === 0) return Number.NaN;
    let total = 0;
    for (const p of indices) {
      const x = features[p]!;
      let best = 0;
      let bestLogit = Number.NEGATIVE_INFINITY;
      for (let a = 0; a < agentCount; a++) {
        let sum = 0;
        for (let i = 0; i < d; i++) sum += weights[a * d + i]! * x[i]!;
        if (sum > bestLogit) {
          bestLogit = sum;
          best = a;
        }
      }
      total += outcomes[p]![best]!;
    }
    return total / indices.length;
  };

  let epoch: number;
  let steps: number;
  let samples: number;
  let order: number[];
  let cursor: number;
  let history: GrpoEpoch[];
  let selected: { epoch: number; score: number; weights: number[] };
  if (resume !== undefined) {
    trainer.restore(resume.trainer);
    ({ epoch, steps, samples, cursor } = resume);
    order = [...resume.order];
    history = resume.history.map((h) => ({ ...h }));
    selected = { ...resume.selected, weights: [...resume.selected.weights] };
  } else {
    epoch = 0;
    steps = 0;
    samples = 0;
    order = [...train];
    cursor = train.length;
    const w0 = trainer.weights();
    const first: GrpoEpoch = {
      epoch: 0,
      trainReward: rewardOf(w0, train),
      validationReward: validation.length > 0 ? rewardOf(w0, validation) : null,
      meanSampledReward: null,
      steps: 0,
      evaluations: 0,
    };
    history = [first];
    selected = { epoch: 0, score: first.validationReward ?? first.trainReward, weights: Array.from(w0) };
    settings.onProgress?.(first, w0);
  }
  const checkpoint = (): GrpoTrainingCheckpoint => ({
    format: 'openfugu.trinity-grpo-training/1',
    agentCount,
    dimension: d,
    promptCount: features.length,
    settings: { ...hyper },
    trainIndices: [...train],
    validationIndices: [...validation],
    epoch,
    steps,
    samples,
    order: [...order],
    cursor,
    trainer: trainer.state(),
    history: history.map((h) => ({ ...h })),
    selected: { ...selected, weights: [...selected.weights] },
  });
  const shuffle = (): void => {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    cursor = 0;
  };
  const step = (batch: ArrayLike<number>): number => {
    if (settings.signal?.aborted) throw new AbortedError({ cause: settings.signal.reason });
    steps++;
    samples += batch.length;
    return trainer.step(batch).rewardMean;
  };

  const epochs = settings.epochs ?? 20;
  const checkpointEvery = Math.max(1, settings.checkpointEvery ?? 10);
  const batch = new Int32Array(batchSize);
  while (epoch < epochs) {
    let sampled = 0;
    let epochSteps = 0;
    if (stepsPerEpoch === null) {
      // One shuffled pass; the last batch may be short.
      shuffle();
      for (; cursor < order.length; cursor += batchSize, epochSteps++)
        sampled += step(order.slice(cursor, cursor + batchSize));
    } else {
      for (; epochSteps < stepsPerEpoch; epochSteps++) {
        for (let b = 0; b < batchSize; b++) {
          if (cursor >= order.length) shuffle();
          batch[b] = order[cursor++]!;
        }
        sampled += step(batch);
      }
    }
    epoch++;
    const w = trainer.weights();
    const entry: GrpoEpoch = {
      epoch,
      trainReward: rewardOf(w, train),
      validationReward: validation.length > 0 ? rewardOf(w, validation) : null,
      meanSampledReward: sampled / epochSteps,
      steps,
      evaluations: samples * groupSize,
    };
    history.push(entry);
    const score = entry.validationReward ?? entry.trainReward;
    if (score > selected.score) selected = { epoch, score, weights: Array.from(w) };
    settings.onEpoch?.(entry);
    settings.onProgress?.(entry, w);
    if (epoch % checkpointEvery === 0 && epoch < epochs) settings.onCheckpoint?.(checkpoint());
  }
  const final = checkpoint();
  settings.onCheckpoint?.(final);
  const weights = new Float64Array((agentCount + (settings.roles === true ? 3 : 0)) * d);
  weights.set(selected.weights, 0);
  const head = createRouterHead({
    agentCount,
    dimension: d,
    roles: settings.roles === true,
    weights,
    ...(settings.agents === undefined ? {} : { agents: settings.agents }),
    ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
  });
  return {
    head,
    history,
    selectedEpoch: selected.epoch,
    trainIndices: train,
    validationIndices: validation,
    checkpoint: final,
  };
}
