/**
 * Per-token estimators of KL(π_θ ‖ π_ref) from log-probabilities of tokens sampled from π_θ (or π_old),
 * after J. Schulman, "Approximating KL Divergence" (2020). With d = log π_ref(o_t) − log π_θ(o_t):
 *
 * - k1 = −d = log π_θ − log π_ref            (unbiased, high variance, can be negative)
 * - k2 = d² / 2                               (biased, low variance)
 * - k3 = e^d − d − 1                          (unbiased, low variance, ≥ 0) — DeepSeekMath Eq. 4,
 *                                              and TRL's `per_token_kl`.
 *
 * The derivatives are taken w.r.t. log π_θ(o_t) with log π_ref held fixed — the "pathwise" gradient an
 * autograd framework computes when the estimator is added to the loss (as TRL does):
 * ∂k1 = 1, ∂k2 = −d, ∂k3 = 1 − e^d.
 */

/** Which KL estimator to use. */
export type KlEstimator = 'k1' | 'k2' | 'k3';

/**
 * The estimator's value for one token.
 *
 * @example
 * ```ts
 * klValue('k3', Math.log(0.5), Math.log(0.25)); // e^{ln 0.5} − ln 0.5 − 1 ≈ 0.1931
 * ```
 */
export function klValue(estimator: KlEstimator, logProb: number, refLogProb: number): number {
  const d = refLogProb - logProb;
  switch (estimator) {
    case 'k1':
      return -d;
    case 'k2':
      return 0.5 * d * d;
    case 'k3':
      return Math.expm1(d) - d;
  }
}

/**
 * The derivative of {@link klValue} with respect to `logProb` (the current policy's log-prob).
 *
 * @example
 * ```ts
 * klDerivative('k3', -1, -1 + Math.log(2)); // 1 − 2 = −1
 * ```
 */
export function klDerivative(estimator: KlEstimator, logProb: number, refLogProb: number): number {
  const d = refLogProb - logProb;
  switch (estimator) {
    case 'k1':
      return 1;
    case 'k2':
      return -d;
    case 'k3':
      return -Math.expm1(d);
  }
}
