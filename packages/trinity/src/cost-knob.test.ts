import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  calibrateStrongShare,
  routeByPrice,
  routeByThreshold,
  strongMargin,
  thresholdScores,
} from './cost-knob.js';

describe('routeByPrice', () => {
  it('trades predicted quality against price with λ (hand-computed)', () => {
    expect(routeByPrice([0.8, 0.78], [10, 0.6], 0)).toBe(0);
    expect(routeByPrice([0.8, 0.78], [10, 0.6], 0.01)).toBe(1); // 0.78 − 0.006 > 0.8 − 0.1
    expect(routeByPrice([0.8, 0.78], [10, 0.6], 0.001)).toBe(0); // 0.8 − 0.01 > 0.78 − 0.0006
    expect(routeByPrice([0.8, 0.78], [10, 0.6], 0, [false, true])).toBe(1);
    expect(routeByPrice([0.8], [1], 0, [false])).toBe(-1);
  });

  it('rejects bad prices and λ', () => {
    expect(() => routeByPrice([1, 2], [1], 0)).toThrow(/prices/);
    expect(() => routeByPrice([1], [1], -1)).toThrow(/lambda/);
    expect(() => routeByPrice([1], [Number.NaN], 0)).toThrow(/price/);
  });
});

describe('calibrateStrongShare', () => {
  it('sends at most the requested share of the calibration prompts to the strong model (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 60 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (margins, share) => {
          const t = calibrateStrongShare(margins, share);
          const sent = margins.filter((m) => m > t).length;
          expect(sent).toBeLessThanOrEqual(Math.floor(share * margins.length + 1e-9));
          // Without ties the share is met exactly.
          const distinct = margins.map((m, i) => m + i * 1e-6);
          const t2 = calibrateStrongShare(distinct, share);
          expect(distinct.filter((m) => m > t2).length).toBe(Math.floor(share * margins.length + 1e-9));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('hand-computed thresholds and the ends', () => {
    expect(calibrateStrongShare([0.1, 0.4, 0.3, 0.2], 0.5)).toBe(0.2); // 0.4, 0.3 go strong
    expect(calibrateStrongShare([1, 2], 1)).toBe(Number.NEGATIVE_INFINITY);
    expect(calibrateStrongShare([1, 2], 0)).toBe(Number.POSITIVE_INFINITY);
    expect(() => calibrateStrongShare([], 0.5)).toThrow(/no margins/);
    expect(() => calibrateStrongShare([1], 2)).toThrow(/maxShare/);
  });
});

describe('routeByThreshold / strongMargin', () => {
  it('routes to the strong agent only above the threshold', () => {
    expect(strongMargin([0.9, 0.5, 0.7], 0)).toBeCloseTo(0.2, 12);
    expect(routeByThreshold([0.9, 0.5, 0.7], 0, 0.1)).toBe(0);
    expect(routeByThreshold([0.9, 0.5, 0.7], 0, 0.3)).toBe(2);
    expect(routeByThreshold([0.9, 0.5, 0.7], 0, 0.3, [true, true, false])).toBe(0);
    expect(routeByThreshold([0.9, 0.5, 0.7], 0, -1, [false, true, true])).toBe(2);
  });
});

describe('thresholdScores', () => {
  it('subtracts the threshold from the strong agent (hand-computed)', () => {
    expect(Array.from(thresholdScores([0.9, 0.6], 0, 0.2))).toEqual([0.9 - 0.2, 0.6]);
    // ±∞ becomes ±(spread + 1): finite, same order.
    expect(Array.from(thresholdScores([0.9, 0.6], 0, Infinity))).toEqual([0.9 - 1.3, 0.6]);
    expect(Array.from(thresholdScores([0.9, 0.6], 1, -Infinity))).toEqual([0.9, 0.6 + 1.3]);
  });

  it('the agent routeByThreshold chooses always has the largest finite score', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.oneof(fc.integer({ min: -6, max: 6 }), fc.constant(Infinity), fc.constant(-Infinity)),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        (raw, strongSeed, threshold, open) => {
          const q = raw.map((v) => v / 4); // exact ties are common: the tie rule is exercised
          const strong = strongSeed % q.length;
          const available = q.map((_, a) => open[a]!);
          const choice = routeByThreshold(q, strong, threshold / 4, available);
          if (choice < 0) return;
          const scores = thresholdScores(q, strong, threshold / 4);
          for (let a = 0; a < q.length; a++) {
            expect(Number.isFinite(scores[a]!)).toBe(true);
            if (available[a]) expect(scores[choice]!).toBeGreaterThanOrEqual(scores[a]!);
          }
        },
      ),
      { numRuns: 500, seed: 16 },
    );
  });
});
