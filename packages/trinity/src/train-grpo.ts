/**
 * GRPO training of the router head's agent rows on recorded outcomes, with the softmax-linear trainer of
 * @openfugu/grpo: per step, G agents are sampled per prompt from the head's softmax, scored from the outcome
 * table (reward − λ·cost), turned into group-relative advantages, and the clipped surrogate takes an Adam
 * step. The returned head is the one with the best validation reward (argmax routing), checked once per epoch.
 * DESIGN.md: the TRINITY paper found sep-CMA-ES (see `trainRouterHead`) better than policy gradients; this
 * trainer is here to compare against.
 */
import { createRng } from '@openfugu/cmaes';
import { createSoftmaxLinearTrainer } from '@openfugu/grpo';
import {
  AbortedError,
  type AbortSignalLike,
  InvalidArgumentError,
  ShapeMismatchError,
} from '@openfugu/schema';
import { createRouterHead, type RouterHead } from './head.js';
import { splitIndices } from './train.js';

/** Settings of {@link trainRouterHeadGrpo}. */
export interface TrainRouterHeadGrpoSettings {
  features: readonly ArrayLike<number>[];
  outcomes: readonly (readonly number[])[];
  /** Per agent or per prompt × agent. */
  costs?: readonly number[] | readonly (readonly number[])[];
  /** Cost weight λ. Default 0. */
  lambda?: number;
  /** Default 0.2. */
  validationFraction?: number;
  /** Default 0. */
  seed?: number;
  /** Passes over the train prompts. Default 20. */
  epochs?: number;
  /** Prompts per GRPO step. Default 32. */
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
  onEpoch?: (epoch: {
    epoch: number;
    trainReward: number;
    validationReward: number | null;
    meanSampledReward: number;
  }) => void;
  signal?: AbortSignalLike;
}

/** One epoch of {@link trainRouterHeadGrpo}. */
export interface GrpoEpoch {
  epoch: number;
  /** Argmax-routing mean reward on train / validation prompts after the epoch (epoch 0 = initial head). */
  trainReward: number;
  validationReward: number | null;
  /** Mean reward of the sampled agents during the epoch. */
  meanSampledReward: number;
}

/**
 * Trains the agent rows of a router head with GRPO on recorded outcomes.
 *
 * Defaults: 20 epochs, batches of 32 prompts, G = 8, Adam lr 0.05, ε 0.2, β 0, zero initial weights
 * (uniform policy), selection by validation reward.
 *
 * @example
 * ```ts
 * const { head } = trainRouterHeadGrpo({ features, outcomes, agents, epochs: 30 });
 * ```
 */
export function trainRouterHeadGrpo(settings: TrainRouterHeadGrpoSettings): {
  head: RouterHead;
  history: GrpoEpoch[];
  selectedEpoch: number;
  trainIndices: number[];
  validationIndices: number[];
} {
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
  const seed = settings.seed ?? 0;
  const { train, validation } = splitIndices(features.length, settings.validationFraction ?? 0.2, seed);
  const rng = createRng(seed);
  const trainer = createSoftmaxLinearTrainer({
    actions: agentCount,
    features: d,
    observations: features,
    reward: (p, a) => outcomes[p]![a]! - lambda * cost(p, a),
    random: () => rng(),
    groupSize: settings.groupSize ?? 8,
    optimizer: { learningRate: settings.learningRate ?? 0.05 },
    ...(settings.entropyBonus === undefined ? {} : { entropyCoefficient: settings.entropyBonus }),
  });
  const rewardOf = (indices: number[]): number => {
    if (indices.length === 0) return Number.NaN;
    let total = 0;
    for (const p of indices) total += outcomes[p]![trainer.greedy(p)]!;
    return total / indices.length;
  };
  const history: GrpoEpoch[] = [];
  const score = (): number => (validation.length > 0 ? rewardOf(validation) : rewardOf(train));
  let best = { epoch: 0, score: score(), weights: trainer.weights() };
  history.push({
    epoch: 0,
    trainReward: rewardOf(train),
    validationReward: validation.length > 0 ? rewardOf(validation) : null,
    meanSampledReward: Number.NaN,
  });
  const batchSize = settings.batchSize ?? 32;
  const epochs = settings.epochs ?? 20;
  const order = [...train];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let sampled = 0;
    let steps = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      if (settings.signal?.aborted) throw new AbortedError({ cause: settings.signal.reason });
      sampled += trainer.step(order.slice(start, start + batchSize)).rewardMean;
      steps++;
    }
    const entry: GrpoEpoch = {
      epoch,
      trainReward: rewardOf(train),
      validationReward: validation.length > 0 ? rewardOf(validation) : null,
      meanSampledReward: sampled / steps,
    };
    history.push(entry);
    settings.onEpoch?.(entry);
    const s = score();
    if (s > best.score) best = { epoch, score: s, weights: trainer.weights() };
  }
  const weights = new Float64Array((agentCount + (settings.roles === true ? 3 : 0)) * d);
  weights.set(best.weights, 0);
  const head = createRouterHead({
    agentCount,
    dimension: d,
    roles: settings.roles === true,
    weights,
    ...(settings.agents === undefined ? {} : { agents: settings.agents }),
    ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
  });
  return { head, history, selectedEpoch: best.epoch, trainIndices: train, validationIndices: validation };
}
