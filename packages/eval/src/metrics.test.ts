import { describe, expect, it } from 'vitest';
import {
  aiq,
  apgr,
  argmaxChoices,
  bestSingle,
  bootstrapInterval,
  callsToPerformance,
  modelMeans,
  oracleValues,
  randomValues,
  strongShareCurve,
} from './metrics.js';
import type { OutcomeTable } from './table.js';
import { testRandom } from './test-random.js';

// 4 prompts × [strong, weak]; strong mean 0.75, weak mean 0.5.
const table: OutcomeTable = {
  format: 'generic',
  name: 'hand',
  prompts: [0, 1, 2, 3].map((i) => ({ id: String(i), text: `p${i}` })),
  models: ['strong', 'weak'],
  outcomes: Float64Array.from([1, 1, 1, 0, 0, 1, 1, 0]),
};
// Router margins strong − weak: p1 = 2, p3 = 1, p0 = 0, p2 = −1.
const utilities = Float64Array.from([0, 0, 2, 0, -1, 0, 1, 0]);

describe('baselines', () => {
  it('computes per-model means, best single, oracle and random by hand', () => {
    expect(modelMeans(table)).toEqual([0.75, 0.5]);
    expect(bestSingle(table)).toEqual({ model: 'strong', index: 0, mean: 0.75 });
    expect([...oracleValues(table)]).toEqual([1, 1, 1, 1]);
    expect([...randomValues(table)]).toEqual([1, 0.5, 0.5, 0.5]);
    expect([...argmaxChoices(utilities, 2)]).toEqual([0, 0, 1, 0]);
  });

  it('ignores missing (NaN) cells in means', () => {
    const withGap: OutcomeTable = {
      ...table,
      outcomes: Float64Array.from([1, Number.NaN, 1, 0, 0, 1, 1, 0]),
    };
    expect(modelMeans(withGap)).toEqual([0.75, 1 / 3]);
  });
});

describe('strong-share curve, APGR, CPT, AIQ (hand-computed)', () => {
  const curve = strongShareCurve(table, utilities, 0, { points: 5 });

  it('sends the k highest-margin prompts to the strong model', () => {
    expect(curve.map((p) => p.strongShare)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(curve.map((p) => p.quality)).toEqual([0.5, 0.75, 1, 1, 0.75]);
  });

  it('APGR = (AUC − weak) / (strong − weak) = (0.84375 − 0.5) / 0.25 = 1.375', () => {
    expect(apgr(curve, 0.5, 0.75)).toBeCloseTo(1.375, 12);
  });

  it('APGR and CPT are undefined (NaN) when the strong model is not better than the weak one', () => {
    expect(apgr(curve, 0.75, 0.75)).toBeNaN();
    expect(apgr(curve, 0.8, 0.75)).toBeNaN();
    expect(callsToPerformance(curve, 0.8, 0.75, 0.5)).toBeNaN();
  });

  it('a router with no information has APGR ≈ 0.5', () => {
    const n = 2000;
    const random = testRandom(7);
    const outcomes = Float64Array.from({ length: 2 * n }, (_, i) =>
      i % 2 === 0 ? (random() < 0.8 ? 1 : 0) : random() < 0.6 ? 1 : 0,
    );
    const big: OutcomeTable = {
      ...table,
      prompts: Array.from({ length: n }, (_, i) => ({ id: String(i), text: String(i) })),
      outcomes,
    };
    const noise = Float64Array.from({ length: 2 * n }, () => random());
    const means = modelMeans(big);
    const value = apgr(strongShareCurve(big, noise, 0), means[1]!, means[0]!);
    expect(value).toBeGreaterThan(0.4);
    expect(value).toBeLessThan(0.6);
  });

  it('CPT interpolates at the first crossing: CPT(50%) = 0.125, CPT(80%) = 0.2', () => {
    expect(callsToPerformance(curve, 0.5, 0.75, 0.5)).toBeCloseTo(0.125, 12);
    expect(callsToPerformance(curve, 0.5, 0.75, 0.8)).toBeCloseTo(0.2, 12);
    expect(callsToPerformance(curve, 0.5, 0.75, 3)).toBeNaN();
  });

  it('AIQ is the area under the non-decreasing convex hull: 0.875', () => {
    expect(aiq(curve.map((p) => ({ x: p.strongShare, y: p.quality })))).toBeCloseTo(0.875, 12);
    // A dominated interior point does not count; a concave bump does.
    expect(
      aiq([
        { x: 0, y: 0 },
        { x: 0.5, y: 0.1 },
        { x: 1, y: 1 },
      ]),
    ).toBeCloseTo(0.5, 12);
    expect(
      aiq([
        { x: 0, y: 0 },
        { x: 0.5, y: 1 },
        { x: 1, y: 1 },
      ]),
    ).toBeCloseTo(0.75, 12);
    expect(aiq([])).toBeNaN();
  });
});

describe('bootstrapInterval', () => {
  it('takes symmetric percentile ranks (50 resample means outside each side of 2,000 at 95%)', () => {
    // With values 0..9 each resample mean is spread out; check the rank rule on the sorted resamples.
    const values = Array.from({ length: 10 }, (_, i) => i);
    const seedA = testRandom(11);
    const seedB = testRandom(11);
    const interval = bootstrapInterval(values, seedA, { resamples: 2000 });
    const means = Array.from({ length: 2000 }, () => {
      let sum = 0;
      for (let i = 0; i < 10; i++) sum += values[Math.floor(seedB() * 10)]!;
      return sum / 10;
    }).sort((a, b) => a - b);
    expect(interval.low).toBe(means[50]);
    expect(interval.high).toBe(means[1949]);
  });

  it('is degenerate for constant values and deterministic for a seed', () => {
    expect(bootstrapInterval([0.5, 0.5, 0.5], testRandom(1))).toEqual({ mean: 0.5, low: 0.5, high: 0.5 });
    const values = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const a = bootstrapInterval(values, testRandom(3));
    const b = bootstrapInterval(values, testRandom(3));
    expect(a).toEqual(b);
    expect(a.low).toBeLessThan(a.mean);
    expect(a.high).toBeGreaterThan(a.mean);
    // Normal approximation: half-width ≈ 1.96·sqrt(p(1−p)/n) ≈ 0.065 for p = 1/3, n = 200.
    expect(a.high - a.low).toBeGreaterThan(0.09);
    expect(a.high - a.low).toBeLessThan(0.17);
  });
});
