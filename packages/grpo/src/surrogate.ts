/**
 * The GRPO clipped surrogate loss and its gradient with respect to the current policy's per-token
 * log-probabilities.
 *
 * Per token t of completion i, with ratio ρ (token level: ρ_{i,t} = π_θ(o_{i,t}) / π_old(o_{i,t}),
 * i.e. exp(log π_θ − log π_old); sequence level: see below) and advantage Â:
 *
 *   ℓ_{i,t} = −min(ρ·Â, clip(ρ, 1 − ε_low, 1 + ε_high)·Â) + β·KL_{i,t}
 *
 * - The min/clip term is DeepSeekMath (arXiv 2402.03300) Eq. 3, the PPO clipped objective (Schulman et al.
 *   2017, Eq. 7) applied per token; ε_low ≠ ε_high is DAPO's "Clip-Higher" (arXiv 2503.14476, §3.1;
 *   DAPO uses ε_low 0.2, ε_high 0.28).
 * - KL_{i,t} is one of the per-token estimators in `kl.ts` (k3 is DeepSeekMath Eq. 4). β = 0 (TRL's
 *   default) drops it, and the reference log-probs are then not needed.
 * - Sequence-level ratio (GSPO, arXiv 2507.18071): s_i = exp( (1/|o_i|) Σ_t log(π_θ/π_old) ), the
 *   geometric mean of the token ratios, used for every token of the sequence (the sequence-level
 *   importance ratio s_i(θ) of the GSPO objective). TRL's `importance_sampling_level="sequence"`.
 * - Optional `delta` caps the ratio of the unclipped term at δ (two-sided clipping; INTELLECT-2,
 *   TRL's `delta`).
 *
 * Aggregation over the batch (B sequences, mask m, |o_i| = Σ_t m_{i,t}):
 * - "grpo": (1/B) Σ_i (1/|o_i|) Σ_t m·ℓ — DeepSeekMath Eq. 3 (per-sequence token mean, then batch mean).
 * - "dapo": Σ_{i,t} m·ℓ / Σ_{i,t} m — DAPO §3.3 "Token-Level Policy Gradient Loss" (the 1/Σ|o_i| of the
 *   DAPO objective), token-level: every token weighs the same. TRL's default
 *   `loss_type="dapo"` divides by the token count of the whole generation batch across gradient-accumulation
 *   steps and processes (`num_items_in_batch`); pass that as `tokenNormalizer` to reproduce it when a batch
 *   is split.
 * - "dr_grpo": Σ_{i,t} m·ℓ / (B · L_max) — Dr. GRPO (arXiv 2503.20783, §3.2) / TRL `loss_type="dr_grpo"`:
 *   a constant normaliser (L_max = `maxCompletionLength`, default the padded width), no length bias.
 *
 * The implementation follows TRL's `GRPOTrainer._compute_loss` term for term (including which tokens count
 * as clipped: low = ρ < 1 − ε_low with Â < 0, high = ρ > 1 + ε_high with Â > 0), and its gradient is the
 * one PyTorch autograd gives for that expression (at a tie of the two min arguments the two branches share
 * the gradient, as `torch.min` does).
 */

import { InvalidArgumentError, ShapeMismatchError } from '@openfugu/schema';
import { type KlEstimator, klDerivative, klValue } from './kl.js';

/** How per-token losses are combined into one number. See the module comment. */
export type LossAggregation = 'grpo' | 'dapo' | 'dr_grpo';

/** Whether the importance ratio is per token or one per sequence (GSPO). */
export type ImportanceSamplingLevel = 'token' | 'sequence';

/**
 * A padded batch of completions, row-major `sequences × tokens`. Log-probs of masked positions are never
 * read (they may be `-Infinity` or garbage).
 */
export interface SurrogateBatch {
  /** Number of completions B. */
  sequences: number;
  /** Padded length T of each row. */
  tokens: number;
  /** log π_θ(o_{i,t}) of the current policy, B·T. */
  logProbs: ArrayLike<number>;
  /** log π_old(o_{i,t}) of the policy that sampled, B·T. Default: `logProbs` (on-policy, ratio 1). */
  oldLogProbs?: ArrayLike<number>;
  /** log π_ref(o_{i,t}) of the reference policy, B·T. Required when `beta > 0`. */
  refLogProbs?: ArrayLike<number>;
  /** Token weights, B·T, normally 1 for completion tokens and 0 for padding. Default: all ones. */
  mask?: ArrayLike<number>;
  /** One advantage per sequence (length B) or per token (length B·T; token-level ratios only). */
  advantages: ArrayLike<number>;
}

/** Settings of {@link clippedSurrogateLoss}. */
export interface SurrogateOptions {
  /** Lower clip range ε_low: ratios below 1 − ε_low are clipped. Default 0.2. */
  epsilonLow?: number;
  /** Upper clip range ε_high: ratios above 1 + ε_high are clipped. Default: `epsilonLow` (DAPO: 0.28). */
  epsilonHigh?: number;
  /** Cap of the ratio in the unclipped term (two-sided clipping), > 1 + ε_high. Default: none. */
  delta?: number;
  /** KL coefficient β. Default 0 (TRL). */
  beta?: number;
  /** KL estimator. Default `'k3'`. */
  klEstimator?: KlEstimator;
  /** Token- or sequence-level importance ratio. Default `'token'`. */
  importanceSampling?: ImportanceSamplingLevel;
  /** Loss aggregation. Default `'dapo'` (TRL's default). */
  aggregation?: LossAggregation;
  /** L_max of "dr_grpo". Default: `batch.tokens`. */
  maxCompletionLength?: number;
  /** Denominator of "dapo" instead of this batch's token count (e.g. the whole generation batch's). */
  tokenNormalizer?: number;
  /** Write the gradient into this buffer (length B·T) instead of allocating one. */
  gradientOut?: Float64Array;
}

/** Diagnostics of one loss evaluation (plain numbers; safe to `JSON.stringify`). Means are mask-weighted. */
export interface SurrogateStats {
  /** Number of completions. */
  sequences: number;
  /** Σ mask. */
  tokens: number;
  /** The clipped-surrogate part of the loss (aggregated like the loss). */
  policyLoss: number;
  /** The β·KL part of the loss (aggregated like the loss); 0 when β = 0. */
  klLoss: number;
  /** Mean per-token KL estimate (0 when no reference log-probs are given). */
  meanKl: number;
  /** Mean importance ratio (over tokens, or over sequences at sequence level). */
  meanRatio: number;
  /** Smallest and largest importance ratio seen. */
  minRatio: number;
  maxRatio: number;
  /** Fraction clipped at the bottom (ρ < 1 − ε_low and Â < 0). */
  clipFractionLow: number;
  /** Fraction clipped at the top (ρ > 1 + ε_high and Â > 0). */
  clipFractionHigh: number;
  /** clipFractionLow + clipFractionHigh (TRL's `clip_ratio/region_mean`). */
  clipFraction: number;
}

/** Result of {@link clippedSurrogateLoss}. */
export interface SurrogateResult {
  /** The scalar loss (to minimise). */
  loss: number;
  /** ∂loss/∂logProbs, B·T; 0 at masked positions. */
  gradient: Float64Array;
  /** Diagnostics. */
  stats: SurrogateStats;
}

/**
 * Computes the GRPO clipped-surrogate loss of a batch and its gradient with respect to the current
 * per-token log-probs, so a caller can chain-rule it into any model.
 *
 * Defaults (TRL's GRPOConfig): ε_low = ε_high = 0.2, β = 0, k3, token-level ratio, "dapo" aggregation.
 *
 * @example
 * ```ts
 * const { loss, gradient, stats } = clippedSurrogateLoss(
 *   { sequences: 2, tokens: 3, logProbs, oldLogProbs, mask, advantages: [1, -1] },
 *   { epsilonHigh: 0.28 },
 * );
 * ```
 */
export function clippedSurrogateLoss(batch: SurrogateBatch, options: SurrogateOptions = {}): SurrogateResult {
  const B = batch.sequences;
  const T = batch.tokens;
  const size = B * T;
  const epsilonLow = options.epsilonLow ?? 0.2;
  const epsilonHigh = options.epsilonHigh ?? epsilonLow;
  const delta = options.delta ?? Number.POSITIVE_INFINITY;
  const beta = options.beta ?? 0;
  const estimator = options.klEstimator ?? 'k3';
  const level = options.importanceSampling ?? 'token';
  const aggregation = options.aggregation ?? 'dapo';
  const lo = 1 - epsilonLow;
  const hi = 1 + epsilonHigh;

  if (!Number.isInteger(B) || B < 0 || !Number.isInteger(T) || T < 0) {
    throw new InvalidArgumentError({
      argument: 'batch',
      message: 'sequences and tokens must be integers ≥ 0.',
    });
  }
  if (!(epsilonLow >= 0) || !(epsilonHigh >= 0)) {
    throw new InvalidArgumentError({ argument: 'epsilonLow', message: 'Clip ranges must be numbers ≥ 0.' });
  }
  if (!(beta >= 0)) {
    throw new InvalidArgumentError({ argument: 'beta', message: 'beta must be a number ≥ 0.' });
  }
  if (aggregation !== 'grpo' && aggregation !== 'dapo' && aggregation !== 'dr_grpo') {
    throw new InvalidArgumentError({
      argument: 'aggregation',
      message: `Unknown loss aggregation "${aggregation}".`,
    });
  }
  if (level !== 'token' && level !== 'sequence') {
    throw new InvalidArgumentError({
      argument: 'importanceSampling',
      message: `Unknown importance sampling level "${level}".`,
    });
  }
  checkLength('logProbs', batch.logProbs, size);
  if (batch.oldLogProbs !== undefined) checkLength('oldLogProbs', batch.oldLogProbs, size);
  if (batch.mask !== undefined) checkLength('mask', batch.mask, size);
  const ref = batch.refLogProbs;
  if (ref !== undefined) checkLength('refLogProbs', ref, size);
  if (beta > 0 && ref === undefined) {
    throw new InvalidArgumentError({ argument: 'refLogProbs', message: 'beta > 0 needs refLogProbs.' });
  }
  const perToken = batch.advantages.length === size && !(B === 0 || (T === 1 && size === B));
  if (!perToken && batch.advantages.length !== B) {
    throw new ShapeMismatchError({
      message: 'advantages must have one entry per sequence or one per token.',
      expected: `${B} or ${size}`,
      actual: String(batch.advantages.length),
    });
  }
  if (perToken && level === 'sequence') {
    throw new InvalidArgumentError({
      argument: 'advantages',
      message: 'Sequence-level importance sampling needs one advantage per sequence.',
    });
  }

  const logp = batch.logProbs;
  const old = batch.oldLogProbs ?? logp;
  const mask = batch.mask;
  const adv = batch.advantages;
  const gradient = options.gradientOut ?? new Float64Array(size);
  if (gradient.length !== size) {
    throw new ShapeMismatchError({
      message: 'gradientOut has the wrong length.',
      expected: String(size),
      actual: String(gradient.length),
    });
  }
  gradient.fill(0);

  // Per-sequence token counts and the total decide the aggregation weights.
  const lengths = new Float64Array(B);
  let totalTokens = 0;
  for (let i = 0; i < B; i++) {
    let count = 0;
    if (mask === undefined) count = T;
    else for (let t = i * T, end = t + T; t < end; t++) count += mask[t]!;
    lengths[i] = count;
    totalTokens += count;
  }
  let normaliser: number;
  if (aggregation === 'dapo') {
    normaliser = options.tokenNormalizer ?? Math.max(totalTokens, 1);
  } else if (aggregation === 'dr_grpo') {
    normaliser = B * (options.maxCompletionLength ?? T);
  } else {
    normaliser = B;
  }
  if (!(normaliser > 0)) {
    throw new InvalidArgumentError({
      argument: aggregation === 'dapo' ? 'tokenNormalizer' : 'maxCompletionLength',
      message: 'The loss normaliser must be > 0.',
    });
  }

  const term = new Float64Array(2);
  let policySum = 0;
  let klSum = 0;
  let klTokenSum = 0;
  let ratioSum = 0;
  let minRatio = Number.POSITIVE_INFINITY;
  let maxRatio = Number.NEGATIVE_INFINITY;
  let lowCount = 0;
  let highCount = 0;

  for (let i = 0; i < B; i++) {
    const L = lengths[i]!;
    // Weight of one token of this sequence in the aggregated loss (times its mask value).
    const weight = aggregation === 'grpo' ? 1 / (B * Math.max(L, 1)) : 1 / normaliser;
    const row = i * T;

    if (level === 'token') {
      for (let t = row, end = row + T; t < end; t++) {
        const m = mask === undefined ? 1 : mask[t]!;
        if (m === 0) continue;
        const lp = logp[t]!;
        const r = Math.exp(lp - old[t]!);
        const a = perToken ? adv[t]! : adv[i]!;
        surrogateInto(r, a, lo, hi, delta, term);
        policySum += weight * m * term[0]!;
        let d = term[1]! * r;
        if (ref !== undefined) {
          const k = klValue(estimator, lp, ref[t]!);
          klTokenSum += m * k;
          if (beta > 0) {
            klSum += weight * m * beta * k;
            d += beta * klDerivative(estimator, lp, ref[t]!);
          }
        }
        gradient[t] = weight * m * d;
        ratioSum += m * r;
        if (r < minRatio) minRatio = r;
        if (r > maxRatio) maxRatio = r;
        if (r < lo && a < 0) lowCount += m;
        else if (r > hi && a > 0) highCount += m;
      }
    } else {
      // GSPO: log s_i = Σ_t m·(log π_θ − log π_old) / max(|o_i|, 1) (TRL clamps the length at 1).
      let logRatio = 0;
      for (let t = row, end = row + T; t < end; t++) {
        const m = mask === undefined ? 1 : mask[t]!;
        if (m !== 0) logRatio += m * (logp[t]! - old[t]!);
      }
      const s = Math.exp(logRatio / Math.max(L, 1));
      const a = adv[i]!;
      surrogateInto(s, a, lo, hi, delta, term);
      // Every token of the sequence carries the same surrogate term.
      policySum += weight * L * term[0]!;
      // ∂loss/∂log π_θ(t) = weight·L·(∂ℓ/∂s)·s·m_t/max(L,1)
      const perLogProb = (weight * L * term[1]! * s) / Math.max(L, 1);
      for (let t = row, end = row + T; t < end; t++) {
        const m = mask === undefined ? 1 : mask[t]!;
        if (m === 0) continue;
        let d = perLogProb * m;
        if (ref !== undefined) {
          const lp = logp[t]!;
          const k = klValue(estimator, lp, ref[t]!);
          klTokenSum += m * k;
          if (beta > 0) {
            klSum += weight * m * beta * k;
            d += weight * m * beta * klDerivative(estimator, lp, ref[t]!);
          }
        }
        gradient[t] = d;
      }
      ratioSum += s;
      if (s < minRatio) minRatio = s;
      if (s > maxRatio) maxRatio = s;
      if (s < lo && a < 0) lowCount += 1;
      else if (s > hi && a > 0) highCount += 1;
    }
  }

  // Token-level stats are mask-weighted token means; sequence-level ones are means over sequences (TRL).
  const statDenominator = level === 'token' ? totalTokens : B;
  const fraction = (x: number): number => (statDenominator > 0 ? x / statDenominator : 0);
  const clipFractionLow = fraction(lowCount);
  const clipFractionHigh = fraction(highCount);
  return {
    loss: policySum + klSum,
    gradient,
    stats: {
      sequences: B,
      tokens: totalTokens,
      policyLoss: policySum,
      klLoss: klSum,
      meanKl: totalTokens > 0 ? klTokenSum / totalTokens : 0,
      meanRatio: fraction(ratioSum),
      minRatio: Number.isFinite(minRatio) ? minRatio : 1,
      maxRatio: Number.isFinite(maxRatio) ? maxRatio : 1,
      clipFractionLow,
      clipFractionHigh,
      clipFraction: clipFractionLow + clipFractionHigh,
    },
  };
}

/**
 * The per-token clipped term for one ratio ρ and advantage Â: the loss −min(c₁·Â, c₂·Â) with c₁ = min(ρ, δ)
 * and c₂ = clip(ρ, lo, hi), and its derivative with respect to ρ as autograd computes it (at a tie the two
 * branches share the gradient, like `torch.min`).
 *
 * @example
 * ```ts
 * surrogateTerm(1.5, 1, 0.8, 1.28); // { loss: -1.28, dLossdRatio: 0 } — clipped at the top
 * ```
 */
export function surrogateTerm(
  ratio: number,
  advantage: number,
  lo: number,
  hi: number,
  delta = Number.POSITIVE_INFINITY,
): { loss: number; dLossdRatio: number } {
  const out = new Float64Array(2);
  surrogateInto(ratio, advantage, lo, hi, delta, out);
  return { loss: out[0]!, dLossdRatio: out[1]! };
}

/** {@link surrogateTerm} writing [loss, ∂loss/∂ρ] into `out` (no allocation in the token loop). */
function surrogateInto(
  ratio: number,
  advantage: number,
  lo: number,
  hi: number,
  delta: number,
  out: Float64Array,
): void {
  const c1 = Math.min(ratio, delta);
  const dc1 = ratio > delta ? 0 : 1;
  const c2 = ratio < lo ? lo : Math.min(ratio, hi);
  const dc2 = ratio < lo || ratio > hi ? 0 : 1;
  const u1 = c1 * advantage;
  const u2 = c2 * advantage;
  // `dc === 0 ? 0 : …` keeps clipped gradients at +0 rather than −0.
  if (u1 < u2) {
    out[0] = -u1;
    out[1] = dc1 === 0 ? 0 : -advantage;
  } else if (u2 < u1) {
    out[0] = -u2;
    out[1] = dc2 === 0 ? 0 : -advantage;
  } else {
    const both = dc1 + dc2;
    out[0] = -u1;
    out[1] = both === 0 ? 0 : (-advantage * both) / 2;
  }
}

function checkLength(name: string, values: ArrayLike<number>, expected: number): void {
  if (values.length !== expected) {
    throw new ShapeMismatchError({
      message: `${name} must have sequences × tokens entries.`,
      expected: String(expected),
      actual: String(values.length),
    });
  }
}
