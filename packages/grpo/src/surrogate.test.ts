import { OpenFuguError } from '@openfugu/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../test/mulberry32.js';
import { klDerivative, klValue } from './kl.js';
import { clippedSurrogateLoss, type SurrogateBatch, type SurrogateOptions } from './surrogate.js';

/**
 * The hand-worked batch: 2 groups × 2 sequences × 3 tokens, ε_low 0.2, ε_high 0.28 (clip range
 * [0.8, 1.28]). Ratios ρ = π_θ/π_old are set directly (log π_θ = log π_old + ln ρ).
 *
 * seq | group | Â    | mask    | ρ per token       | per-token loss −min(ρÂ, clip(ρ)Â)   | ∂ℓ/∂log π_θ = ∂ℓ/∂ρ·ρ
 * 0   | 0     | +1   | 1 1 1   | 1.0  1.5   0.5    | −1     −1.28(high-clipped) −0.5      | −1     0     −0.5
 * 1   | 0     | −1   | 1 1 0   | 0.5  1.5   (pad)  | 0.8(low-clipped)  1.5                | 0      1.5
 * 2   | 1     | +0.5 | 1 0 0   | 1.25              | −0.625 (not clipped: 1.25 < 1.28)     | −0.625
 * 3   | 1     | −0.5 | 1 1 1   | 1    1     1      | 0.5    0.5   0.5                     | 0.5    0.5   0.5
 *
 * Token count N = 3 + 2 + 1 + 3 = 9; Σℓ = −2.78 + 2.3 − 0.625 + 1.5 = 0.395.
 * - "dapo":    0.395 / 9 = 0.0438889;  gradient = column above / 9.
 * - "grpo":    per-sequence means −2.78/3, 2.3/2, −0.625/1, 1.5/3 = −0.926667, 1.15, −0.625, 0.5;
 *              mean over 4 = 0.0245833;  gradient of seq i = column / (|o_i| · 4).
 * - "dr_grpo": 0.395 / (4 · 3) = 0.0329167;  gradient = column / 12.
 * Clip fractions: low 1/9 (seq 1 token 0), high 1/9 (seq 0 token 1). Mean ratio 9.25/9 = 1.0277778.
 */
const ratios = [1.0, 1.5, 0.5, 0.5, 1.5, 1.0, 1.25, 1.0, 1.0, 1.0, 1.0, 1.0];
const mask = [1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1];
const oldLogProbs = [-1.2, -0.7, -2.3, -0.4, -1.9, -3.0, -0.9, -5.0, -5.0, -0.1, -1.5, -0.6];
const logProbs = oldLogProbs.map((old, t) => old + Math.log(ratios[t]!));
const handBatch: SurrogateBatch = {
  sequences: 4,
  tokens: 3,
  logProbs,
  oldLogProbs,
  mask,
  advantages: [1, -1, 0.5, -0.5],
};
const clipHigher: SurrogateOptions = { epsilonLow: 0.2, epsilonHigh: 0.28 };
// ∂ℓ/∂log π_θ per token before aggregation (0 at padding).
const column = [-1, 0, -0.5, 0, 1.5, 0, -0.625, 0, 0, 0.5, 0.5, 0.5];

describe('clippedSurrogateLoss on the hand-worked batch', () => {
  it('"dapo" (token-level): loss 0.395/9, gradient/9, clip stats', () => {
    const { loss, gradient, stats } = clippedSurrogateLoss(handBatch, { ...clipHigher, aggregation: 'dapo' });
    expect(loss).toBeCloseTo(0.395 / 9, 12);
    expect(loss).toBeCloseTo(0.0438889, 7);
    column.forEach((value, t) => {
      expect(gradient[t]).toBeCloseTo(value / 9, 12);
    });
    expect(stats.tokens).toBe(9);
    expect(stats.clipFractionLow).toBeCloseTo(1 / 9, 12);
    expect(stats.clipFractionHigh).toBeCloseTo(1 / 9, 12);
    expect(stats.clipFraction).toBeCloseTo(2 / 9, 12);
    expect(stats.meanRatio).toBeCloseTo(1.0277778, 7);
    expect(stats.minRatio).toBeCloseTo(0.5, 12);
    expect(stats.maxRatio).toBeCloseTo(1.5, 12);
    expect(stats.klLoss).toBe(0);
    expect(stats.meanKl).toBe(0);
  });

  it('is TRL\'s default aggregation ("dapo", ε 0.2)', () => {
    const symmetric = clippedSurrogateLoss(handBatch);
    // With ε_high = 0.2 the upper clip is 1.2: seq 0 token 1 (ρ 1.5) gives −1.2 instead of −1.28 (+0.08),
    // and ρ 1.25 of seq 2 is now clipped: −0.5·1.2 = −0.6 instead of −0.625 (+0.025), gradient 0.
    // Σℓ = 0.395 + 0.08 + 0.025 = 0.5 → loss 0.5/9 = 0.0555556.
    expect(symmetric.loss).toBeCloseTo(0.5 / 9, 12);
    expect(symmetric.gradient[6]).toBe(0);
    expect(symmetric.stats.clipFractionHigh).toBeCloseTo(2 / 9, 12);
  });

  it('"grpo" (per-sequence mean, then batch mean)', () => {
    const { loss, gradient } = clippedSurrogateLoss(handBatch, { ...clipHigher, aggregation: 'grpo' });
    expect(loss).toBeCloseTo(0.0245833, 7);
    expect(loss).toBeCloseTo((-2.78 / 3 + 2.3 / 2 - 0.625 + 1.5 / 3) / 4, 12);
    const lengths = [3, 2, 1, 3];
    column.forEach((value, t) => {
      expect(gradient[t]).toBeCloseTo(value / (lengths[Math.floor(t / 3)]! * 4), 12);
    });
  });

  it('"dr_grpo" (constant normaliser B·L_max)', () => {
    const { loss, gradient } = clippedSurrogateLoss(handBatch, { ...clipHigher, aggregation: 'dr_grpo' });
    expect(loss).toBeCloseTo(0.0329167, 7);
    column.forEach((value, t) => {
      expect(gradient[t]).toBeCloseTo(value / 12, 12);
    });
    const longer = clippedSurrogateLoss(handBatch, {
      ...clipHigher,
      aggregation: 'dr_grpo',
      maxCompletionLength: 5,
    });
    expect(longer.loss).toBeCloseTo(0.395 / 20, 12);
  });

  it('"dapo" with an external token normaliser (gradient accumulation)', () => {
    const { loss } = clippedSurrogateLoss(handBatch, { ...clipHigher, tokenNormalizer: 18 });
    expect(loss).toBeCloseTo(0.395 / 18, 12);
  });

  it('k3 KL with β = 0.1 (DeepSeekMath Eq. 4)', () => {
    // log π_ref − log π_θ = d: ln 2 at seq 0 token 0, −ln 2 at seq 3 token 2, 0 elsewhere.
    // k3(ln 2) = 2 − ln 2 − 1 = 0.3068528, ∂ = 1 − 2 = −1;  k3(−ln 2) = 0.5 + ln 2 − 1 = 0.1931472, ∂ = 0.5.
    // Σ k3 = 0.5 exactly; mean KL = 0.5/9. Loss = (0.395 + 0.1·0.5)/9 = 0.0494444.
    const refLogProbs = logProbs.slice();
    refLogProbs[0] = logProbs[0]! + Math.LN2;
    refLogProbs[11] = logProbs[11]! - Math.LN2;
    const { loss, gradient, stats } = clippedSurrogateLoss(
      { ...handBatch, refLogProbs },
      { ...clipHigher, beta: 0.1 },
    );
    expect(loss).toBeCloseTo(0.0494444, 7);
    expect(stats.meanKl).toBeCloseTo(0.5 / 9, 12);
    expect(stats.klLoss).toBeCloseTo(0.05 / 9, 12);
    expect(stats.policyLoss).toBeCloseTo(0.395 / 9, 12);
    expect(gradient[0]).toBeCloseTo((-1 - 0.1) / 9, 12);
    expect(gradient[11]).toBeCloseTo((0.5 + 0.1 * 0.5) / 9, 12);
    expect(gradient[4]).toBeCloseTo(1.5 / 9, 12);
  });

  it('k1 KL with β = 0.1: values cancel, gradient +β on every token', () => {
    // k1 = log π_θ − log π_ref: −ln 2 and +ln 2 → Σ = 0; ∂k1 = 1 everywhere.
    const refLogProbs = logProbs.slice();
    refLogProbs[0] = logProbs[0]! + Math.LN2;
    refLogProbs[11] = logProbs[11]! - Math.LN2;
    const { loss, gradient, stats } = clippedSurrogateLoss(
      { ...handBatch, refLogProbs },
      { ...clipHigher, beta: 0.1, klEstimator: 'k1' },
    );
    expect(loss).toBeCloseTo(0.395 / 9, 12);
    expect(stats.meanKl).toBeCloseTo(0, 12);
    column.forEach((value, t) => {
      expect(gradient[t]).toBeCloseTo(mask[t] ? (value + 0.1) / 9 : 0, 12);
    });
  });

  it('sequence-level ratio (GSPO): geometric mean of token ratios', () => {
    // seq | Â | mask  | token ρ       | s = geo-mean | ℓ per token          | ∂ℓ/∂s · s
    // 0   | +1 | 1 1 0 | 2, 0.5        | 1            | −1                   | −1
    // 1   | +1 | 1 1 1 | 1.5 ×3        | 1.5 (>1.28)  | −1.28 (high-clipped) | 0
    // 2   | −1 | 1 0 0 | 0.5           | 0.5 (<0.8)   | 0.8 (low-clipped)    | 0
    // 3   | −1 | 1 1 1 | 2, 1, 0.5     | 1            | 1                    | 1
    // "dapo": Σℓ = 2·(−1) + 3·(−1.28) + 0.8 + 3·1 = −2.04 over 9 tokens → −0.2266667.
    //   ∂loss/∂log π_θ(t) = (∂ℓ/∂s · s)·m_t / 9  (|o_i| tokens each carry 1/|o_i| of ∂ log s).
    // "grpo": mean of per-sequence ℓ = (−1 − 1.28 + 0.8 + 1)/4 = −0.12;
    //   ∂/∂log π_θ(t) = (∂ℓ/∂s · s)·m_t / (|o_i| · 4) → −0.125 (seq 0), 1/12 (seq 3).
    const seqRatios = [2, 0.5, 1, 1.5, 1.5, 1.5, 0.5, 1, 1, 2, 1, 0.5];
    const seqMask = [1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1];
    const old = [-1, -2, -3, -0.5, -0.6, -0.7, -1.1, -9, -9, -2.2, -0.3, -1.4];
    const batch: SurrogateBatch = {
      sequences: 4,
      tokens: 3,
      logProbs: old.map((o, t) => o + Math.log(seqRatios[t]!)),
      oldLogProbs: old,
      mask: seqMask,
      advantages: [1, 1, -1, -1],
    };
    const dapo = clippedSurrogateLoss(batch, { ...clipHigher, importanceSampling: 'sequence' });
    expect(dapo.loss).toBeCloseTo(-2.04 / 9, 12);
    const expected = [-1, -1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1].map((v) => v / 9);
    expected.forEach((v, t) => {
      expect(dapo.gradient[t]).toBeCloseTo(v, 12);
    });
    expect(dapo.stats.clipFractionHigh).toBe(0.25);
    expect(dapo.stats.clipFractionLow).toBe(0.25);
    expect(dapo.stats.meanRatio).toBeCloseTo(1, 12);

    const grpo = clippedSurrogateLoss(batch, {
      ...clipHigher,
      importanceSampling: 'sequence',
      aggregation: 'grpo',
    });
    expect(grpo.loss).toBeCloseTo(-0.12, 12);
    expect(grpo.gradient[0]).toBeCloseTo(-0.125, 12);
    expect(grpo.gradient[1]).toBeCloseTo(-0.125, 12);
    expect(grpo.gradient[2]).toBe(0);
    expect(grpo.gradient[9]).toBeCloseTo(1 / 12, 12);
  });

  it('on-policy (no old log-probs): ratio 1, gradient −Â·weight', () => {
    const { loss, gradient, stats } = clippedSurrogateLoss({
      sequences: 2,
      tokens: 2,
      logProbs: [-1, -2, -0.5, -3],
      advantages: [2, -1],
    });
    expect(loss).toBeCloseTo((-2 - 2 + 1 + 1) / 4, 12);
    expect(Array.from(gradient)).toEqual([-0.5, -0.5, 0.25, 0.25]);
    expect(stats.meanRatio).toBe(1);
  });

  it('two-sided clipping (delta) caps the ratio when Â < 0', () => {
    // ρ = 3, Â = −1, ε 0.2, δ = 2: min(2·(−1), 1.2·(−1)) = −2 → loss 2, gradient 0.
    const { loss, gradient } = clippedSurrogateLoss(
      { sequences: 1, tokens: 1, logProbs: [Math.log(3)], oldLogProbs: [0], advantages: [-1] },
      { delta: 2 },
    );
    expect(loss).toBeCloseTo(2, 12);
    expect(gradient[0]).toBe(0);
  });

  it('per-token advantages', () => {
    const { loss, gradient } = clippedSurrogateLoss({
      sequences: 1,
      tokens: 2,
      logProbs: [-1, -1],
      advantages: [1, 3],
    });
    expect(loss).toBeCloseTo(-2, 12);
    expect(Array.from(gradient)).toEqual([-0.5, -1.5]);
  });

  it('gradient matches central finite differences on random batches (all variants)', () => {
    const random = mulberry32(7);
    const B = 5;
    const T = 6;
    for (const aggregation of ['grpo', 'dapo', 'dr_grpo'] as const) {
      for (const importanceSampling of ['token', 'sequence'] as const) {
        for (const klEstimator of ['k1', 'k2', 'k3'] as const) {
          const old = Array.from({ length: B * T }, () => -0.2 - 3 * random());
          const logp = old.map((o) => o + 0.6 * (random() - 0.5));
          const ref = old.map((o) => o + 0.8 * (random() - 0.5));
          const m = Array.from({ length: B * T }, (_, t) => (t % T < 2 + (Math.floor(t / T) % 4) ? 1 : 0));
          const advantages = Array.from({ length: B }, () => 2 * random() - 1);
          const options: SurrogateOptions = {
            aggregation,
            importanceSampling,
            klEstimator,
            beta: 0.07,
            epsilonLow: 0.2,
            epsilonHigh: 0.28,
          };
          const at = (values: number[]) =>
            clippedSurrogateLoss(
              {
                sequences: B,
                tokens: T,
                logProbs: values,
                oldLogProbs: old,
                refLogProbs: ref,
                mask: m,
                advantages,
              },
              options,
            );
          const { gradient } = at(logp);
          const h = 1e-6;
          for (let t = 0; t < B * T; t++) {
            const plus = logp.slice();
            plus[t]! += h;
            const minus = logp.slice();
            minus[t]! -= h;
            const numeric = (at(plus).loss - at(minus).loss) / (2 * h);
            // Kinks of the clip are measure-zero; skip a token if a ±h step crosses one.
            const r = Math.exp(logp[t]! - old[t]!);
            if (importanceSampling === 'token' && (Math.abs(r - 0.8) < 1e-4 || Math.abs(r - 1.28) < 1e-4))
              continue;
            expect(gradient[t]).toBeCloseTo(numeric, 6);
          }
        }
      }
    }
  });

  it('KL helpers agree with their derivatives', () => {
    for (const estimator of ['k1', 'k2', 'k3'] as const) {
      const h = 1e-6;
      const numeric = (klValue(estimator, -1 + h, -0.4) - klValue(estimator, -1 - h, -0.4)) / (2 * h);
      expect(klDerivative(estimator, -1, -0.4)).toBeCloseTo(numeric, 6);
    }
    expect(klValue('k3', -1, -1)).toBe(0);
  });

  it('validates shapes and options', () => {
    const bad: Array<() => unknown> = [
      () => clippedSurrogateLoss({ sequences: 2, tokens: 2, logProbs: [0, 0, 0], advantages: [1, 1] }),
      () => clippedSurrogateLoss({ sequences: 2, tokens: 2, logProbs: [0, 0, 0, 0], advantages: [1, 1, 1] }),
      () =>
        clippedSurrogateLoss({ sequences: 1, tokens: 2, logProbs: [0, 0], advantages: [1] }, { beta: 0.1 }),
      () =>
        clippedSurrogateLoss(
          { sequences: 1, tokens: 2, logProbs: [0, 0], advantages: [1, 2] },
          { importanceSampling: 'sequence' },
        ),
    ];
    for (const call of bad) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(OpenFuguError.isInstance(caught)).toBe(true);
    }
  });

  it('ignores masked positions entirely (NaN or −∞ there is harmless)', () => {
    const { loss, gradient } = clippedSurrogateLoss({
      sequences: 1,
      tokens: 3,
      logProbs: [-1, Number.NEGATIVE_INFINITY, Number.NaN],
      oldLogProbs: [-1, Number.NaN, 0],
      mask: [1, 0, 0],
      advantages: [1],
    });
    expect(loss).toBe(-1);
    expect(Array.from(gradient)).toEqual([-1, 0, 0]);
  });
});

describe('clippedSurrogateLoss properties', () => {
  const batchArbitrary = fc
    .record({ B: fc.integer({ min: 1, max: 5 }), T: fc.integer({ min: 1, max: 6 }) })
    .chain(({ B, T }) =>
      fc.record({
        B: fc.constant(B),
        T: fc.constant(T),
        logp: fc.array(fc.double({ min: -8, max: 0, noNaN: true }), { minLength: B * T, maxLength: B * T }),
        shift: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: B * T, maxLength: B * T }),
        refShift: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), {
          minLength: B * T,
          maxLength: B * T,
        }),
        mask: fc.array(fc.constantFrom<number>(0, 1), { minLength: B * T, maxLength: B * T }),
        advantages: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: B, maxLength: B }),
        aggregation: fc.constantFrom('grpo' as const, 'dapo' as const, 'dr_grpo' as const),
        level: fc.constantFrom('token' as const, 'sequence' as const),
        estimator: fc.constantFrom('k1' as const, 'k2' as const, 'k3' as const),
      }),
    );

  it('finite loss and gradient, zero gradient at padding, fractions in [0, 1]', () => {
    fc.assert(
      fc.property(batchArbitrary, (b) => {
        const { loss, gradient, stats } = clippedSurrogateLoss(
          {
            sequences: b.B,
            tokens: b.T,
            logProbs: b.logp,
            oldLogProbs: b.logp.map((v, t) => v - b.shift[t]!),
            refLogProbs: b.logp.map((v, t) => v + b.refShift[t]!),
            mask: b.mask,
            advantages: b.advantages,
          },
          { aggregation: b.aggregation, importanceSampling: b.level, klEstimator: b.estimator, beta: 0.1 },
        );
        expect(Number.isFinite(loss)).toBe(true);
        gradient.forEach((g, t) => {
          expect(Number.isFinite(g)).toBe(true);
          if (b.mask[t] === 0) expect(g).toBe(0);
        });
        for (const f of [stats.clipFractionLow, stats.clipFractionHigh, stats.clipFraction]) {
          expect(f).toBeGreaterThanOrEqual(0);
          expect(f).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('on-policy, β = 0: loss = −Σ w·Â and ∂loss/∂log π = −w·Â (the policy-gradient estimator)', () => {
    fc.assert(
      fc.property(batchArbitrary, (b) => {
        const { loss, gradient } = clippedSurrogateLoss(
          { sequences: b.B, tokens: b.T, logProbs: b.logp, mask: b.mask, advantages: b.advantages },
          { aggregation: b.aggregation, importanceSampling: b.level },
        );
        const lengths = b.advantages.map((_, i) =>
          b.mask.slice(i * b.T, (i + 1) * b.T).reduce((x, y) => x + y, 0),
        );
        const total = lengths.reduce((x, y) => x + y, 0);
        let expectedLoss = 0;
        for (let t = 0; t < b.B * b.T; t++) {
          const i = Math.floor(t / b.T);
          const w =
            b.aggregation === 'grpo'
              ? 1 / (b.B * Math.max(lengths[i]!, 1))
              : b.aggregation === 'dapo'
                ? 1 / Math.max(total, 1)
                : 1 / (b.B * b.T);
          expectedLoss -= b.mask[t]! * w * b.advantages[i]!;
          expect(gradient[t]).toBeCloseTo(-b.mask[t]! * w * b.advantages[i]!, 12);
        }
        expect(loss).toBeCloseTo(expectedLoss, 12);
      }),
    );
  });
});
