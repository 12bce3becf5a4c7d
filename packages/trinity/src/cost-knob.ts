/**
 * The cost–quality knob on predicted qualities (value heads, kNN), in two forms:
 *
 * 1. **Price-weighted**: choose `argmax_a q_a − λ · price_a` — λ = 0 is "best predicted quality", larger λ
 *    trades quality for price (prices in any unit, e.g. USD per 1M tokens; λ converts them to quality).
 * 2. **Calibrated share** (RouteLLM's threshold form): "send at most X % of traffic to the expensive
 *    model". The margin `q_strong − max_{a≠strong} q_a` of each *training* prompt (out-of-fold predictions)
 *    gives the threshold: the strong model gets a prompt when its margin is above the (1 − X) quantile.
 *    On new prompts from the same distribution the share lands near X.
 *
 * Pure functions; the server passes prices from the pool's table and λ / X from config or the request.
 */
import { InvalidArgumentError, ShapeMismatchError } from '@openfugu/schema';

/**
 * Index of `argmax_a qualities[a] − lambda · prices[a]` among available agents (ties → lowest index), or
 * −1 when none is available.
 *
 * @example
 * ```ts
 * routeByPrice([0.80, 0.78], [10, 0.6], 0.01); // 1: 0.78 − 0.006 > 0.80 − 0.1
 * ```
 */
export function routeByPrice(
  qualities: ArrayLike<number>,
  prices: ArrayLike<number>,
  lambda: number,
  available?: readonly boolean[],
): number {
  checkPriceKnob(qualities.length, prices, lambda, available);
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let a = 0; a < qualities.length; a++) {
    if (available !== undefined && !available[a]) continue;
    const score = qualities[a]! - lambda * prices[a]!;
    if (best < 0 || score > bestScore) {
      best = a;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Checks the price-weighted knob's inputs: one price per agent, λ finite and ≥ 0, and each available agent's
 * price finite and ≥ 0 (typed errors otherwise).
 */
export function checkPriceKnob(
  agentCount: number,
  prices: ArrayLike<number>,
  lambda: number,
  available?: readonly boolean[],
): void {
  if (prices.length !== agentCount) {
    throw new ShapeMismatchError({
      message: `${prices.length} prices for ${agentCount} agents`,
      expected: `${agentCount}`,
      actual: `${prices.length}`,
    });
  }
  if (!(lambda >= 0 && Number.isFinite(lambda))) {
    throw new InvalidArgumentError({
      argument: 'lambda',
      message: `lambda must be a finite number ≥ 0, got ${lambda}`,
    });
  }
  for (let a = 0; a < agentCount; a++) {
    if (available !== undefined && !available[a]) continue;
    const price = prices[a]!;
    if (!(price >= 0 && Number.isFinite(price))) {
      throw new InvalidArgumentError({
        argument: 'prices',
        message: `price of agent ${a} must be a finite number ≥ 0`,
      });
    }
  }
}

/** The strong agent's margin over the best other agent: `q[strong] − max_{a≠strong} q[a]` (+∞ alone). */
export function strongMargin(qualities: ArrayLike<number>, strong: number): number {
  let other = Number.NEGATIVE_INFINITY;
  for (let a = 0; a < qualities.length; a++) if (a !== strong && qualities[a]! > other) other = qualities[a]!;
  return qualities[strong]! - other;
}

/**
 * The margin threshold that sends at most `maxShare` of the given (training) prompts to the strong model:
 * the strong model gets a prompt when `margin > threshold`. `maxShare = 1` → −∞ (always strong), 0 → +∞.
 * With ties at the threshold, the share stays at or below `maxShare`.
 *
 * @example
 * ```ts
 * const threshold = calibrateStrongShare(trainMargins, 0.3); // ≤ 30 % of traffic to the strong model
 * const useStrong = strongMargin(q, strong) > threshold;
 * ```
 */
export function calibrateStrongShare(margins: ArrayLike<number>, maxShare: number): number {
  if (!(maxShare >= 0 && maxShare <= 1)) {
    throw new InvalidArgumentError({
      argument: 'maxShare',
      message: `maxShare must be in [0, 1], got ${maxShare}`,
    });
  }
  const n = margins.length;
  if (n === 0) throw new InvalidArgumentError({ argument: 'margins', message: 'no margins to calibrate on' });
  if (maxShare >= 1) return Number.NEGATIVE_INFINITY;
  const sorted = Float64Array.from(margins).sort().reverse();
  const allowed = Math.floor(maxShare * n + 1e-9);
  if (allowed === 0) return Number.POSITIVE_INFINITY;
  if (allowed >= n) return Number.NEGATIVE_INFINITY;
  // Prompts with margin > threshold go strong: the (allowed + 1)-th largest margin lets through at most
  // `allowed` prompts (fewer when margins tie at the threshold).
  return sorted[allowed]!;
}

/**
 * Routes by a calibrated threshold: the strong agent when its margin is above `threshold`, else the best
 * other available agent (the strong one when it is the only one available).
 */
export function routeByThreshold(
  qualities: ArrayLike<number>,
  strong: number,
  threshold: number,
  available?: readonly boolean[],
): number {
  let other = -1;
  for (let a = 0; a < qualities.length; a++) {
    if (a === strong || (available !== undefined && !available[a])) continue;
    if (other < 0 || qualities[a]! > qualities[other]!) other = a;
  }
  const strongAvailable = available === undefined || available[strong] === true;
  if (!strongAvailable) return other;
  if (other < 0) return strong;
  return qualities[strong]! - qualities[other]! > threshold ? strong : other;
}

/**
 * The calibrated threshold form as scores: the qualities with `threshold` subtracted from the strong agent's,
 * so the strong agent tops them exactly when its margin is above the threshold — the agent
 * {@link routeByThreshold} chooses always has the largest score (on an exact tie, margin = threshold, it is
 * the other agent, as `calibrateStrongShare` assumes). An infinite threshold (a share of 0 or 1) is replaced
 * by a finite one beyond every margin, so the scores stay finite and keep the same order.
 *
 * @example
 * ```ts
 * thresholdScores([0.9, 0.6], 0, 0.2); // [0.7, 0.6]: margin 0.3 > 0.2, the strong agent 0 leads
 * ```
 */
export function thresholdScores(
  qualities: ArrayLike<number>,
  strong: number,
  threshold: number,
): Float64Array {
  const out = Float64Array.from(qualities);
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const q of out) {
    if (q < low) low = q;
    if (q > high) high = q;
  }
  // |margin| ≤ high − low, so any threshold beyond ±(high − low + 1) decides the same way.
  const bound = high - low + 1;
  out[strong]! -= Math.min(bound, Math.max(-bound, threshold));
  return out;
}
