/**
 * GRPO for softmax-linear policies — the TRINITY router head as a policy over workers.
 *
 * Policy: z = W·x / τ with W ∈ ℝ^{actions×features} (bias-free, row-major), unavailable actions get
 * z = −∞, π(·|x) = softmax(z). Each prompt is a one-token "completion": the sampled action. A training
 * step samples G actions per prompt from π_old (the current weights), scores them with the reward callback,
 * computes group advantages (`advantages.ts`), then takes μ Adam steps on the clipped surrogate
 * (`surrogate.ts`, DeepSeekMath Eq. 3 with one token per completion, so "grpo", "dapo" and "dr_grpo"
 * aggregation coincide) minus an optional entropy bonus, plus an optional β·KL to a reference head.
 *
 * Analytic gradient (chain rule through the log-softmax):
 *   ∂log π(a|x)/∂z_k = 1[k = a] − π_k,   ∂H/∂z_k = −π_k (log π_k + H),   ∂z_k/∂W_{kj} = x_j / τ.
 */

import {
  InvalidArgumentError,
  type Policy,
  type Random,
  SchemaValidationError,
  ShapeMismatchError,
} from '@openfugu/schema';
import { type AdamOptions, type AdamState, createAdam } from './adam.js';
import { type AdvantageScaling, computeGroupAdvantages } from './advantages.js';
import type { KlEstimator } from './kl.js';
import { clippedSurrogateLoss, type SurrogateStats } from './surrogate.js';

/** A JSON value (what `JSON.parse` returns). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A `Random` whose state can be saved (and optionally restored in place). A trainer given one includes
 * `state()` in its checkpoints; on `restore`, it calls `setState` when present.
 */
export interface StatefulRandom {
  (): number;
  /** The generator's current state, as JSON. */
  state(): JsonValue;
  /** Puts the generator back into a saved state. */
  setState?(state: JsonValue): void;
}

/** A feature vector (one observation). */
export type FeatureVector = ArrayLike<number>;

/** Which actions are available: truthy entries (1 / true) are; falsy ones are masked to −∞. */
export type AvailabilityMask = ArrayLike<number | boolean>;

/** Settings shared by {@link softmaxLinearLoss} and the trainer. */
export interface SoftmaxLinearObjectiveOptions {
  /** Softmax temperature τ. Default 1. */
  temperature?: number;
  /** Clip range below 1. Default 0.2. */
  epsilonLow?: number;
  /** Clip range above 1. Default: `epsilonLow`. */
  epsilonHigh?: number;
  /** Two-sided clipping cap δ. Default: none. */
  delta?: number;
  /** KL coefficient β. Default 0. */
  beta?: number;
  /** KL estimator. Default `'k3'`. */
  klEstimator?: KlEstimator;
  /** Entropy bonus coefficient c: the loss gets −c·mean(H(π(·|x))) over the samples. Default 0. */
  entropyCoefficient?: number;
}

/** Input of {@link softmaxLinearLoss}: sampled actions with their advantages. */
export interface SoftmaxLinearLossInput extends SoftmaxLinearObjectiveOptions {
  /** Number of actions A. */
  actions: number;
  /** Feature dimension F. */
  features: number;
  /** W, row-major A×F. */
  weights: ArrayLike<number>;
  /** Observations indexed by `samples.prompt`. */
  observations: readonly FeatureVector[];
  /** Availability per observation (same indexing); missing = all available. */
  available?: readonly (AvailabilityMask | undefined)[];
  /** One entry per sampled action. */
  samples: {
    /** Index into `observations` of each sample. */
    prompt: ArrayLike<number>;
    /** The sampled action of each sample. */
    action: ArrayLike<number>;
    /** Advantage of each sample. */
    advantage: ArrayLike<number>;
    /** log π_old(action|x) at sampling time. Default: current (on-policy). */
    oldLogProb?: ArrayLike<number>;
    /** log π_ref(action|x). Required when β > 0. */
    refLogProb?: ArrayLike<number>;
  };
}

/** Result of {@link softmaxLinearLoss}. */
export interface SoftmaxLinearLossResult {
  /** Surrogate loss + β·KL − c·entropy. */
  loss: number;
  /** ∂loss/∂W, row-major A×F. */
  gradient: Float64Array;
  /** Mean policy entropy over the samples (nats). */
  entropy: number;
  /** Diagnostics of the surrogate. */
  surrogate: SurrogateStats;
}

/**
 * The GRPO loss of a softmax-linear policy on a batch of sampled actions, and its analytic gradient
 * with respect to W. The trainer calls this on every inner step; it is exported for checking and for
 * callers who sample elsewhere.
 *
 * @example
 * ```ts
 * const { loss, gradient } = softmaxLinearLoss({
 *   actions: 2, features: 3, weights, observations: [x0],
 *   samples: { prompt: [0, 0], action: [0, 1], advantage: [0.7, -0.7] },
 * });
 * ```
 */
export function softmaxLinearLoss(input: SoftmaxLinearLossInput): SoftmaxLinearLossResult {
  const A = input.actions;
  const F = input.features;
  const tau = input.temperature ?? 1;
  const c = input.entropyCoefficient ?? 0;
  const { prompt, action, advantage } = input.samples;
  const N = prompt.length;
  checkShape('weights', input.weights.length, A * F);
  if (action.length !== N || advantage.length !== N) {
    throw new ShapeMismatchError({
      message: 'samples.prompt, samples.action and samples.advantage must have the same length.',
      expected: String(N),
      actual: `${action.length}/${advantage.length}`,
    });
  }
  if (!(tau > 0))
    throw new InvalidArgumentError({ argument: 'temperature', message: 'temperature must be > 0.' });

  // Forward pass once per distinct observation.
  const slotOf = new Map<number, number>();
  const slots: number[] = [];
  for (let i = 0; i < N; i++) {
    const p = prompt[i]!;
    if (!slotOf.has(p)) {
      slotOf.set(p, slots.length);
      slots.push(p);
    }
  }
  const S = slots.length;
  const logProbs = new Float64Array(S * A);
  const entropies = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    const p = slots[s]!;
    const x = observationAt(input.observations, p, F);
    const row = logProbs.subarray(s * A, (s + 1) * A);
    logSoftmaxLinear(input.weights, x, A, F, tau, input.available?.[p], row);
    entropies[s] = entropyOf(row);
  }

  const sampleLogProbs = new Float64Array(N);
  let entropySum = 0;
  for (let i = 0; i < N; i++) {
    const s = slotOf.get(prompt[i]!)!;
    const a = action[i]!;
    if (!Number.isInteger(a) || a < 0 || a >= A) {
      throw new InvalidArgumentError({
        argument: `samples.action[${i}]`,
        message: `Action ${a} is out of range.`,
      });
    }
    const lp = logProbs[s * A + a]!;
    if (lp === Number.NEGATIVE_INFINITY) {
      throw new InvalidArgumentError({
        argument: `samples.action[${i}]`,
        message: `Action ${a} is unavailable for observation ${prompt[i]}.`,
      });
    }
    sampleLogProbs[i] = lp;
    entropySum += entropies[s]!;
  }

  const surrogate = clippedSurrogateLoss(
    {
      sequences: N,
      tokens: 1,
      logProbs: sampleLogProbs,
      ...(input.samples.oldLogProb === undefined ? {} : { oldLogProbs: input.samples.oldLogProb }),
      ...(input.samples.refLogProb === undefined ? {} : { refLogProbs: input.samples.refLogProb }),
      advantages: advantage,
    },
    {
      ...(input.epsilonLow === undefined ? {} : { epsilonLow: input.epsilonLow }),
      ...(input.epsilonHigh === undefined ? {} : { epsilonHigh: input.epsilonHigh }),
      ...(input.delta === undefined ? {} : { delta: input.delta }),
      ...(input.beta === undefined ? {} : { beta: input.beta }),
      ...(input.klEstimator === undefined ? {} : { klEstimator: input.klEstimator }),
    },
  );

  // ∂loss/∂z per slot: Σ_i g_i (1[k = a_i] − π_k) − (c/N)·count·∂H/∂z_k.
  const dz = new Float64Array(S * A);
  const counts = new Float64Array(S);
  for (let i = 0; i < N; i++) {
    const s = slotOf.get(prompt[i]!)!;
    counts[s]! += 1;
    const g = surrogate.gradient[i]!;
    if (g === 0) continue;
    const base = s * A;
    for (let k = 0; k < A; k++) {
      const lp = logProbs[base + k]!;
      if (lp !== Number.NEGATIVE_INFINITY) dz[base + k]! -= g * Math.exp(lp);
    }
    dz[base + action[i]!]! += g;
  }
  if (c !== 0 && N > 0) {
    for (let s = 0; s < S; s++) {
      const base = s * A;
      const H = entropies[s]!;
      const scale = (c * counts[s]!) / N;
      for (let k = 0; k < A; k++) {
        const lp = logProbs[base + k]!;
        if (lp === Number.NEGATIVE_INFINITY) continue;
        // loss −= scale·H  ⇒  ∂loss/∂z_k += scale·π_k(log π_k + H)
        dz[base + k]! += scale * Math.exp(lp) * (lp + H);
      }
    }
  }

  const gradient = new Float64Array(A * F);
  for (let s = 0; s < S; s++) {
    const x = observationAt(input.observations, slots[s]!, F);
    for (let k = 0; k < A; k++) {
      const d = dz[s * A + k]! / tau;
      if (d === 0) continue;
      const row = k * F;
      for (let j = 0; j < F; j++) gradient[row + j]! += d * x[j]!;
    }
  }

  const entropy = N > 0 ? entropySum / N : 0;
  return { loss: surrogate.loss - c * entropy, gradient, entropy, surrogate: surrogate.stats };
}

/** Settings of {@link createSoftmaxLinearTrainer}. */
export interface SoftmaxLinearTrainerSettings extends SoftmaxLinearObjectiveOptions {
  /** Number of actions A (e.g. 7 workers). */
  actions: number;
  /** Feature dimension F (e.g. 1024). */
  features: number;
  /** One feature vector per prompt; `step` and `evaluate` take indices into it. */
  observations: readonly FeatureVector[];
  /** Availability per prompt (k-of-n pools); missing = all available. */
  available?: readonly (AvailabilityMask | undefined)[];
  /** Reward of taking `action` on prompt `promptIndex` (e.g. a recorded outcome table). Must be finite. */
  reward: (promptIndex: number, action: number) => number;
  /**
   * Uniform [0, 1) generator for sampling. Pass a {@link StatefulRandom} to make checkpoints resumable
   * bit for bit.
   */
  random: Random | StatefulRandom;
  /** G, samples per prompt. Default 8. */
  groupSize?: number;
  /** Advantage normalisation. Default `'group'`. */
  advantageScaling?: AdvantageScaling;
  /** ε added to the std. Default 1e-4. */
  advantageEpsilon?: number;
  /** Drop zero-variance groups (DAPO dynamic sampling). Default false. */
  dropZeroVarianceGroups?: boolean;
  /** μ, optimiser steps per sampled batch (π_old stays the sampling policy). Default 1. */
  innerSteps?: number;
  /** Adam settings. Default lr 0.01, β₁ 0.9, β₂ 0.999, ε 1e-8, weight decay 0. */
  optimizer?: AdamOptions;
  /** Clip the gradient's L2 norm to this (torch `clip_grad_norm_`). Default: no clipping. */
  maxGradNorm?: number;
  /** Initial W (row-major A×F). Default: zeros (uniform policy). */
  initialWeights?: ArrayLike<number>;
  /** Reference W for the KL term. Default: the initial weights (used only when β > 0). */
  referenceWeights?: ArrayLike<number>;
}

/** What one training step did (plain numbers; safe to `JSON.stringify`). */
export interface SoftmaxLinearStepStats {
  /** Steps taken so far, including this one. */
  step: number;
  /** Prompts in the batch and samples drawn (prompts × G). */
  prompts: number;
  samples: number;
  /** Samples that entered the loss (all, unless zero-variance groups were dropped). */
  keptSamples: number;
  /** Mean and std of the sampled rewards. */
  rewardMean: number;
  rewardStd: number;
  /** Fraction of groups whose rewards were all equal, and fraction dropped. */
  zeroVarianceFraction: number;
  droppedFraction: number;
  /** True when every group was dropped and no update was made. */
  skipped: boolean;
  /** Means over the μ inner steps of the loss and surrogate diagnostics. */
  loss: number;
  policyLoss: number;
  klLoss: number;
  meanKl: number;
  meanRatio: number;
  clipFractionLow: number;
  clipFractionHigh: number;
  /** Mean policy entropy over the kept samples at sampling time (nats). */
  entropy: number;
  /** Gradient L2 norm of the last inner step, before clipping. */
  gradNorm: number;
}

/** Result of {@link SoftmaxLinearTrainer.evaluate}. */
export interface SoftmaxLinearEvaluation {
  /** Mean reward of the greedy (argmax) action. */
  meanReward: number;
  /** Number of prompts evaluated. */
  prompts: number;
  /** How often each action was chosen. */
  actionCounts: number[];
}

/** A checkpoint of a trainer: plain JSON. */
export interface SoftmaxLinearTrainerState {
  format: 'openfugu.grpo.softmax-linear-trainer';
  version: 1;
  actions: number;
  features: number;
  /** Training steps taken. */
  steps: number;
  /** W, row-major A×F. */
  weights: number[];
  /** Reference W, or null when there is none. */
  referenceWeights: number[] | null;
  /** Adam moments and step count. */
  optimizer: AdamState;
  /** `random.state()` when the generator is a {@link StatefulRandom}, else null. */
  random: JsonValue | null;
}

/** A GRPO trainer of a softmax-linear policy; also usable as a `Policy`. */
export interface SoftmaxLinearTrainer extends Policy {
  /** Number of features F. */
  readonly featureCount: number;
  /** Training steps taken so far. */
  readonly steps: number;
  /** One GRPO step on the given prompts; returns what happened. */
  step(promptIndices: ArrayLike<number>): SoftmaxLinearStepStats;
  /** Greedy (argmax over available actions) mean reward on the given prompts. */
  evaluate(promptIndices: ArrayLike<number>): SoftmaxLinearEvaluation;
  /** π(·|x) of a prompt under the current weights (0 for unavailable actions). */
  probabilities(promptIndex: number): Float64Array;
  /** The argmax action of a prompt (lowest index on ties). */
  greedy(promptIndex: number): number;
  /** A copy of W (row-major A×F). */
  weights(): Float64Array;
  /** Replaces W. Does not reset the optimiser. */
  setWeights(weights: ArrayLike<number>): void;
  /** A JSON checkpoint (weights, optimiser, step count, RNG state). */
  state(): SoftmaxLinearTrainerState;
  /** Restores a checkpoint; calls `random.setState` when the generator has one. */
  restore(state: SoftmaxLinearTrainerState): void;
}

/**
 * Creates a GRPO trainer for a bias-free softmax-linear policy W·x over `actions` actions.
 *
 * Defaults: G = 8, advantages (r − mean)/(std + 1e-4) with the sample std, ε 0.2, β 0, μ = 1, Adam lr 0.01,
 * no entropy bonus, τ = 1, zero initial weights.
 *
 * Determinism: `step` draws exactly `promptIndices.length × G` numbers from `random`, prompt by prompt in
 * the order given, G per prompt (inverse-CDF sampling); nothing else is random. With the same `random`
 * state, the same settings and the same batches, results are identical bit for bit. To resume a run,
 * save `trainer.state()` (JSON) and later either pass a generator restored from `state.random` and call
 * `restore(state)`, or pass any {@link StatefulRandom} with `setState` and call `restore(state)`.
 *
 * @example
 * ```ts
 * const trainer = createSoftmaxLinearTrainer({
 *   actions: 7, features: 1024, observations, reward: (p, a) => outcomes[p][a], random: createRng(1),
 *   optimizer: { learningRate: 0.05 },
 * });
 * for (let s = 0; s < 300; s++) trainer.step(nextBatch());
 * trainer.evaluate(heldOut).meanReward;
 * ```
 */
export function createSoftmaxLinearTrainer(settings: SoftmaxLinearTrainerSettings): SoftmaxLinearTrainer {
  const A = settings.actions;
  const F = settings.features;
  const G = settings.groupSize ?? 8;
  const mu = settings.innerSteps ?? 1;
  const beta = settings.beta ?? 0;
  const tau = settings.temperature ?? 1;
  const random = settings.random;
  const { observations, available, reward } = settings;
  if (!Number.isInteger(A) || A < 1 || !Number.isInteger(F) || F < 1) {
    throw new InvalidArgumentError({
      argument: 'actions',
      message: 'actions and features must be integers ≥ 1.',
    });
  }
  if (!Number.isInteger(G) || G < 1) {
    throw new InvalidArgumentError({ argument: 'groupSize', message: 'groupSize must be an integer ≥ 1.' });
  }
  if (!Number.isInteger(mu) || mu < 1) {
    throw new InvalidArgumentError({ argument: 'innerSteps', message: 'innerSteps must be an integer ≥ 1.' });
  }
  if (!(tau > 0))
    throw new InvalidArgumentError({ argument: 'temperature', message: 'temperature must be > 0.' });
  if (settings.maxGradNorm !== undefined && !(settings.maxGradNorm > 0)) {
    throw new InvalidArgumentError({ argument: 'maxGradNorm', message: 'maxGradNorm must be > 0.' });
  }
  observations.forEach((x, p) => {
    checkShape(`observations[${p}]`, x.length, F);
  });
  if (available !== undefined) {
    available.forEach((mask, p) => {
      if (mask === undefined) return;
      checkShape(`available[${p}]`, mask.length, A);
      let any = false;
      for (let k = 0; k < A; k++) if (mask[k]) any = true;
      if (!any) {
        throw new InvalidArgumentError({
          argument: `available[${p}]`,
          message: `Prompt ${p} has no available action.`,
        });
      }
    });
  }

  const W = new Float64Array(A * F);
  if (settings.initialWeights !== undefined) {
    checkShape('initialWeights', settings.initialWeights.length, A * F);
    W.set(settings.initialWeights);
  }
  let reference: Float64Array | null = null;
  if (settings.referenceWeights !== undefined) {
    checkShape('referenceWeights', settings.referenceWeights.length, A * F);
    reference = Float64Array.from(settings.referenceWeights);
  } else if (beta > 0) {
    reference = Float64Array.from(W);
  }
  const adam = createAdam(A * F, settings.optimizer);
  let steps = 0;
  const scratch = new Float64Array(A);

  const objective: SoftmaxLinearObjectiveOptions = {
    temperature: tau,
    ...(settings.epsilonLow === undefined ? {} : { epsilonLow: settings.epsilonLow }),
    ...(settings.epsilonHigh === undefined ? {} : { epsilonHigh: settings.epsilonHigh }),
    ...(settings.delta === undefined ? {} : { delta: settings.delta }),
    beta,
    ...(settings.klEstimator === undefined ? {} : { klEstimator: settings.klEstimator }),
    ...(settings.entropyCoefficient === undefined ? {} : { entropyCoefficient: settings.entropyCoefficient }),
  };

  const promptLogProbs = (weights: ArrayLike<number>, p: number, out: Float64Array): Float64Array => {
    checkPrompt(p, observations.length);
    return logSoftmaxLinear(weights, observations[p]!, A, F, tau, available?.[p], out);
  };

  const trainer: SoftmaxLinearTrainer = {
    actionCount: A,
    featureCount: F,
    get steps() {
      return steps;
    },

    logits(features) {
      checkShape('features', features.length, F);
      const z = new Float64Array(A);
      for (let k = 0; k < A; k++) {
        let sum = 0;
        const row = k * F;
        for (let j = 0; j < F; j++) sum += W[row + j]! * features[j]!;
        z[k] = sum / tau;
      }
      return z;
    },

    step(promptIndices) {
      const P = promptIndices.length;
      const N = P * G;
      const prompt = new Int32Array(N);
      const action = new Int32Array(N);
      const rewards = new Float64Array(N);
      const oldLogProb = new Float64Array(N);
      const refLogProb = reference === null ? undefined : new Float64Array(N);
      const lp = new Float64Array(A);
      const refLp = new Float64Array(A);
      for (let q = 0; q < P; q++) {
        const p = promptIndices[q]!;
        promptLogProbs(W, p, lp);
        if (reference !== null) promptLogProbs(reference, p, refLp);
        for (let g = 0; g < G; g++) {
          const i = q * G + g;
          const a = sampleFromLogProbs(lp, random());
          prompt[i] = p;
          action[i] = a;
          oldLogProb[i] = lp[a]!;
          if (refLogProb !== undefined) refLogProb[i] = refLp[a]!;
          const r = reward(p, a);
          if (!Number.isFinite(r)) {
            throw new InvalidArgumentError({
              argument: 'reward',
              message: `reward(${p}, ${a}) returned ${r}; rewards must be finite numbers.`,
            });
          }
          rewards[i] = r;
        }
      }
      const groups = computeGroupAdvantages(rewards, {
        groupSize: G,
        scale: settings.advantageScaling ?? 'group',
        epsilon: settings.advantageEpsilon ?? 1e-4,
        dropZeroVariance: settings.dropZeroVarianceGroups ?? false,
      });
      steps++;

      // Dropped groups leave the batch entirely, so they count in no normaliser.
      const keep: number[] = [];
      for (let i = 0; i < N; i++) if (groups.kept[i]) keep.push(i);
      const K = keep.length;
      const pick = <T extends Int32Array | Float64Array>(source: T, target: T): T => {
        for (let j = 0; j < K; j++) target[j] = source[keep[j]!]!;
        return target;
      };
      const samples = {
        prompt: pick(prompt, new Int32Array(K)),
        action: pick(action, new Int32Array(K)),
        advantage: pick(groups.advantages, new Float64Array(K)),
        oldLogProb: pick(oldLogProb, new Float64Array(K)),
        ...(refLogProb === undefined ? {} : { refLogProb: pick(refLogProb, new Float64Array(K)) }),
      };

      const stats: SoftmaxLinearStepStats = {
        step: steps,
        prompts: P,
        samples: N,
        keptSamples: K,
        rewardMean: groups.stats.rewardMean,
        rewardStd: groups.stats.rewardStd,
        zeroVarianceFraction: groups.stats.zeroVarianceFraction,
        droppedFraction: groups.stats.droppedFraction,
        skipped: K === 0,
        loss: 0,
        policyLoss: 0,
        klLoss: 0,
        meanKl: 0,
        meanRatio: 1,
        clipFractionLow: 0,
        clipFractionHigh: 0,
        entropy: 0,
        gradNorm: 0,
      };
      if (K === 0) return stats;

      stats.meanRatio = 0;
      for (let inner = 0; inner < mu; inner++) {
        const result = softmaxLinearLoss({
          ...objective,
          actions: A,
          features: F,
          weights: W,
          observations,
          ...(available === undefined ? {} : { available }),
          samples,
        });
        if (inner === 0) stats.entropy = result.entropy;
        stats.loss += result.loss / mu;
        stats.policyLoss += result.surrogate.policyLoss / mu;
        stats.klLoss += result.surrogate.klLoss / mu;
        stats.meanKl += result.surrogate.meanKl / mu;
        stats.meanRatio += result.surrogate.meanRatio / mu;
        stats.clipFractionLow += result.surrogate.clipFractionLow / mu;
        stats.clipFractionHigh += result.surrogate.clipFractionHigh / mu;
        const gradient = result.gradient;
        let norm = 0;
        for (let j = 0; j < gradient.length; j++) norm += gradient[j]! * gradient[j]!;
        norm = Math.sqrt(norm);
        stats.gradNorm = norm;
        const max = settings.maxGradNorm;
        if (max !== undefined) {
          // torch.nn.utils.clip_grad_norm_: coefficient max/(norm + 1e-6), clamped at 1.
          const coefficient = max / (norm + 1e-6);
          if (coefficient < 1) for (let j = 0; j < gradient.length; j++) gradient[j]! *= coefficient;
        }
        adam.update(W, gradient);
      }
      return stats;
    },

    evaluate(promptIndices) {
      const counts = new Array<number>(A).fill(0);
      let sum = 0;
      for (let q = 0; q < promptIndices.length; q++) {
        const p = promptIndices[q]!;
        const a = trainer.greedy(p);
        counts[a]! += 1;
        sum += reward(p, a);
      }
      const n = promptIndices.length;
      return { meanReward: n > 0 ? sum / n : 0, prompts: n, actionCounts: counts };
    },

    probabilities(promptIndex) {
      const out = promptLogProbs(W, promptIndex, new Float64Array(A));
      for (let k = 0; k < A; k++) out[k] = Math.exp(out[k]!);
      return out;
    },

    greedy(promptIndex) {
      promptLogProbs(W, promptIndex, scratch);
      let best = -1;
      for (let k = 0; k < A; k++) {
        if (scratch[k] === Number.NEGATIVE_INFINITY) continue;
        if (best < 0 || scratch[k]! > scratch[best]!) best = k;
      }
      return best;
    },

    weights() {
      return Float64Array.from(W);
    },

    setWeights(weights) {
      checkShape('weights', weights.length, A * F);
      W.set(weights);
    },

    state() {
      const saved = isStateful(random) ? random.state() : null;
      return {
        format: 'openfugu.grpo.softmax-linear-trainer',
        version: 1,
        actions: A,
        features: F,
        steps,
        weights: Array.from(W),
        referenceWeights: reference === null ? null : Array.from(reference),
        optimizer: adam.state(),
        random: saved,
      };
    },

    restore(state) {
      if (state.format !== 'openfugu.grpo.softmax-linear-trainer' || state.version !== 1) {
        throw new SchemaValidationError({
          message: 'Not a softmax-linear trainer checkpoint (format/version).',
          issues: [
            { code: 'format', path: '/format', message: `got ${String(state.format)} v${state.version}` },
          ],
        });
      }
      if (state.actions !== A || state.features !== F) {
        throw new ShapeMismatchError({
          message: 'Checkpoint is for a different policy shape.',
          expected: `${A}×${F}`,
          actual: `${state.actions}×${state.features}`,
        });
      }
      checkShape('state.weights', state.weights.length, A * F);
      adam.setState(state.optimizer);
      W.set(state.weights);
      if (state.referenceWeights === null) reference = null;
      else {
        checkShape('state.referenceWeights', state.referenceWeights.length, A * F);
        reference = Float64Array.from(state.referenceWeights);
      }
      steps = state.steps;
      if (state.random !== null && isStateful(random) && random.setState !== undefined) {
        random.setState(state.random);
      }
    },
  };
  return trainer;
}

/** log π(·|x) of z = W·x/τ with unavailable actions at −∞; writes into `out`. */
function logSoftmaxLinear(
  weights: ArrayLike<number>,
  x: FeatureVector,
  A: number,
  F: number,
  tau: number,
  mask: AvailabilityMask | undefined,
  out: Float64Array,
): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < A; k++) {
    if (mask !== undefined && !mask[k]) {
      out[k] = Number.NEGATIVE_INFINITY;
      continue;
    }
    let sum = 0;
    const row = k * F;
    for (let j = 0; j < F; j++) sum += weights[row + j]! * x[j]!;
    const z = sum / tau;
    out[k] = z;
    if (z > max) max = z;
  }
  if (max === Number.NEGATIVE_INFINITY) {
    throw new InvalidArgumentError({ argument: 'available', message: 'No action is available.' });
  }
  let total = 0;
  for (let k = 0; k < A; k++) {
    const z = out[k]!;
    if (z !== Number.NEGATIVE_INFINITY) total += Math.exp(z - max);
  }
  const logZ = max + Math.log(total);
  for (let k = 0; k < A; k++) {
    const z = out[k]!;
    if (z !== Number.NEGATIVE_INFINITY) out[k] = z - logZ;
  }
  return out;
}

/** H(π) = −Σ π log π over available actions. */
function entropyOf(logProbs: Float64Array): number {
  let h = 0;
  for (let k = 0; k < logProbs.length; k++) {
    const lp = logProbs[k]!;
    if (lp !== Number.NEGATIVE_INFINITY) h -= Math.exp(lp) * lp;
  }
  return h;
}

/** Inverse-CDF draw from log-probabilities with one uniform number u ∈ [0, 1). */
function sampleFromLogProbs(logProbs: Float64Array, u: number): number {
  let cumulative = 0;
  let last = -1;
  for (let k = 0; k < logProbs.length; k++) {
    const lp = logProbs[k]!;
    if (lp === Number.NEGATIVE_INFINITY) continue;
    last = k;
    cumulative += Math.exp(lp);
    if (u < cumulative) return k;
  }
  // Rounding can leave Σπ a hair below u; the last available action takes that sliver.
  return last;
}

function isStateful(random: Random | StatefulRandom): random is StatefulRandom {
  return typeof (random as Partial<StatefulRandom>).state === 'function';
}

function observationAt(observations: readonly FeatureVector[], p: number, F: number): FeatureVector {
  checkPrompt(p, observations.length);
  const x = observations[p]!;
  checkShape(`observations[${p}]`, x.length, F);
  return x;
}

function checkPrompt(p: number, count: number): void {
  if (!Number.isInteger(p) || p < 0 || p >= count) {
    throw new InvalidArgumentError({
      argument: 'promptIndex',
      message: `Prompt index ${p} is out of range (${count} observations).`,
    });
  }
}

function checkShape(name: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new ShapeMismatchError({
      message: `${name} has the wrong length.`,
      expected: String(expected),
      actual: String(actual),
    });
  }
}
