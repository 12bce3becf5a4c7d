import { OpenFuguError } from '@openfugu/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeGroupAdvantages } from './advantages.js';

// Hand-worked batch: 2 groups × 2 samples, rewards [1, 0 | 0.5, 0.5].
// Group 0: mean 0.5, sample std √((0.5² + 0.5²)/1) = √0.5 = 0.70710678, population std 0.5.
// Group 1: mean 0.5, std 0 (zero variance).
// Batch (all four): mean 0.5, sample std √((0.25 + 0.25 + 0 + 0)/3) = 0.40824829.
const rewards = [1, 0, 0.5, 0.5];

describe('computeGroupAdvantages', () => {
  it('"group": (r − mean)/(sample std + 1e-4), as TRL', () => {
    const { advantages, stats, groups } = computeGroupAdvantages(rewards, { groupSize: 2 });
    // 0.5 / (0.70710678 + 0.0001) = 0.70700680
    expect(advantages[0]).toBeCloseTo(0.7070068, 7);
    expect(advantages[1]).toBeCloseTo(-0.7070068, 7);
    expect(advantages[2]).toBe(0);
    expect(advantages[3]).toBe(0);
    expect(groups[0]).toMatchObject({ id: 0, size: 2, mean: 0.5, zeroVariance: false, dropped: false });
    expect(groups[0]!.std).toBeCloseTo(Math.SQRT1_2, 12);
    expect(groups[1]).toMatchObject({ id: 1, std: 0, zeroVariance: true, dropped: false });
    expect(stats.zeroVarianceFraction).toBe(0.5);
    expect(stats.droppedFraction).toBe(0);
    expect(stats.keptSamples).toBe(4);
    expect(stats.rewardMean).toBe(0.5);
    expect(stats.rewardStd).toBeCloseTo(0.40824829, 8);
    expect(stats.groupStdMean).toBeCloseTo(Math.SQRT1_2 / 2, 12);
  });

  it('population std divides by n', () => {
    const { advantages } = computeGroupAdvantages(rewards, { groupSize: 2, std: 'population' });
    // 0.5 / (0.5 + 0.0001) = 0.99980004
    expect(advantages[0]).toBeCloseTo(0.99980004, 8);
    expect(advantages[1]).toBeCloseTo(-0.99980004, 8);
  });

  it('"batch": group mean subtracted, batch std divides (TRL scale_rewards="batch")', () => {
    const { advantages } = computeGroupAdvantages(rewards, { groupSize: 2, scale: 'batch' });
    // 0.5 / (0.40824829 + 0.0001) = 1.22444494
    expect(advantages[0]).toBeCloseTo(1.22444494, 7);
    expect(advantages[1]).toBeCloseTo(-1.22444494, 7);
    expect(advantages[2]).toBe(0);
  });

  it('"mean" (Dr. GRPO) and "none"', () => {
    expect(Array.from(computeGroupAdvantages(rewards, { groupSize: 2, scale: 'mean' }).advantages)).toEqual([
      0.5, -0.5, 0, 0,
    ]);
    expect(Array.from(computeGroupAdvantages(rewards, { groupSize: 2, scale: 'none' }).advantages)).toEqual(
      rewards,
    );
  });

  it('drops zero-variance groups and reports the fraction (DAPO dynamic sampling)', () => {
    const result = computeGroupAdvantages(rewards, { groupSize: 2, dropZeroVariance: true });
    expect(Array.from(result.kept)).toEqual([1, 1, 0, 0]);
    expect(result.stats.droppedFraction).toBe(0.5);
    expect(result.stats.keptSamples).toBe(2);
    expect(result.groups[1]!.dropped).toBe(true);
    // With dropping, "batch" uses the std of the kept rewards [1, 0]: √0.5.
    const batch = computeGroupAdvantages(rewards, { groupSize: 2, scale: 'batch', dropZeroVariance: true });
    expect(batch.advantages[0]).toBeCloseTo(0.7070068, 7);
    expect(batch.advantages[3]).toBe(0);
  });

  it('groups by ids in order of first appearance, not adjacency', () => {
    // a: [3, 2, 0] mean 5/3, sample std 1.52752523; b: [1, 2] mean 1.5, std √0.5.
    const { advantages, groups, groupIndex } = computeGroupAdvantages([3, 1, 2, 2, 0], {
      groupIds: ['a', 'b', 'a', 'b', 'a'],
    });
    expect(groups.map((g) => g.id)).toEqual(['a', 'b']);
    expect(Array.from(groupIndex)).toEqual([0, 1, 0, 1, 0]);
    expect(advantages[0]).toBeCloseTo(0.87281442, 7);
    expect(advantages[2]).toBeCloseTo(0.21820361, 7);
    expect(advantages[4]).toBeCloseTo(-1.09101803, 7);
    expect(advantages[1]).toBeCloseTo(-0.7070068, 7);
    expect(advantages[3]).toBeCloseTo(0.7070068, 7);
  });

  it('a group of one has std 0 and advantage 0', () => {
    const { advantages, stats } = computeGroupAdvantages([5, 7], { groupSize: 1 });
    expect(Array.from(advantages)).toEqual([0, 0]);
    expect(stats.zeroVarianceFraction).toBe(1);
  });

  it('stats are plain JSON', () => {
    const { stats, groups } = computeGroupAdvantages(rewards, { groupSize: 2 });
    expect(JSON.parse(JSON.stringify({ stats, groups }))).toEqual({ stats, groups });
  });

  it('rejects bad input with OpenFuguErrors', () => {
    for (const bad of [
      () => computeGroupAdvantages([1, 2, 3], { groupSize: 2 }),
      () => computeGroupAdvantages([1, Number.NaN], { groupSize: 2 }),
      () => computeGroupAdvantages([1, 2], {}),
      () => computeGroupAdvantages([1, 2], { groupSize: 2, groupIds: [0, 0] }),
      () => computeGroupAdvantages([1, 2], { groupIds: [0] }),
    ]) {
      expect(bad).toThrow();
      try {
        bad();
      } catch (error) {
        expect(OpenFuguError.hasCode(error, 'invalid_argument')).toBe(true);
      }
    }
  });

  it('property: "group" advantages have mean 0 within each group and are finite', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 48 }),
        (groupSize, values) => {
          const n = values.length - (values.length % groupSize);
          if (n === 0) return;
          const r = values.slice(0, n);
          const { advantages } = computeGroupAdvantages(r, { groupSize });
          for (let g = 0; g < n / groupSize; g++) {
            let sum = 0;
            for (let j = 0; j < groupSize; j++) {
              const a = advantages[g * groupSize + j]!;
              expect(Number.isFinite(a)).toBe(true);
              sum += a;
            }
            expect(Math.abs(sum)).toBeLessThan(1e-6 * groupSize);
          }
        },
      ),
    );
  });
});
