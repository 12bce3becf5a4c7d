import { describe, expect, it } from 'vitest';
import { checkDense, evaluateRouting, type RouterTrainer } from './evaluate.js';
import type { OutcomeTable } from './table.js';
import { syntheticTable, testRandom } from './test-random.js';

// Test double: one feature, "does the prompt mention math".
const embed = async (texts: readonly string[]): Promise<Float32Array[]> =>
  texts.map((t) => Float32Array.of(t.includes('math') ? 1 : 0, 1));

// Test double trainer: fits per-feature-bucket mean outcomes (a lookup), so a perfect feature gives a near-oracle router.
const bucketTrainer: RouterTrainer = {
  name: 'bucket',
  async train({ features, outcomes, models }) {
    const k = models.length;
    const sums = [new Float64Array(k), new Float64Array(k)];
    const counts = [0, 0];
    checkDense(features, 'bucket').forEach((f, p) => {
      const b = f[0]! > 0.5 ? 1 : 0;
      counts[b]!++;
      for (let m = 0; m < k; m++) sums[b]![m]! += outcomes[p * k + m]!;
    });
    return {
      utilities: (query) => {
        const out = new Float64Array(query.length * k);
        checkDense(query, 'bucket').forEach((f, q) => {
          const b = f[0]! > 0.5 ? 1 : 0;
          for (let m = 0; m < k; m++) out[q * k + m] = sums[b]![m]! / Math.max(1, counts[b]!);
        });
        return out;
      },
      history: { buckets: counts },
    };
  },
};

describe('evaluateRouting', () => {
  it('beats the best single model when the features separate the domains', async () => {
    const report = await evaluateRouting({
      train: syntheticTable(600, 1),
      split: 0.7,
      embed,
      trainer: bucketTrainer,
      seed: 1,
      random: testRandom(1),
      resamples: 200,
    });
    expect(report.n_train + report.n_test).toBe(600);
    expect(report.best_single.model).toBe('mathy');
    expect(report.router.mean).toBeGreaterThan(report.best_single.mean + 0.1);
    expect(report.router_minus_best_single.ci95[0]).toBeGreaterThan(0);
    expect(report.router.mean).toBeLessThanOrEqual(report.oracle.mean);
    // Hand check of this run: weak 0.456, strong 0.744, curve peaks at 0.906 (60% strong calls) → APGR ≈ 0.98.
    expect(report.apgr).toBeGreaterThan(0.9);
    expect(report.cpt50).not.toBeNull();
    expect(report.aiq).toBeGreaterThan(report.best_single.mean);
    expect(report.subsets.map((s) => s.subset)).toEqual(['math', 'writing']);
    expect(report.training).toEqual({ buckets: expect.any(Array) });
    expect(report.curve[0]!.strong_share).toBe(0);
    expect(report.curve.at(-1)!.strong_share).toBe(1);
  });

  it('is reproducible for a seed', async () => {
    const run = () =>
      evaluateRouting({
        train: syntheticTable(200, 2),
        embed,
        trainer: bucketTrainer,
        seed: 3,
        random: testRandom(3),
        resamples: 50,
      });
    const [a, b] = [await run(), await run()];
    expect(a).toEqual(b);
  });

  it('removes training prompts that also occur in the test set', async () => {
    const train = syntheticTable(100, 3);
    const other = syntheticTable(100, 4);
    // The first 30 test prompts repeat training prompts; the rest are new.
    const test: OutcomeTable = {
      ...other,
      name: 'test',
      prompts: other.prompts.map((p, i) => (i < 30 ? p : { ...p, text: `${p.text} (new)` })),
    };
    const report = await evaluateRouting({
      train,
      test,
      embed,
      trainer: bucketTrainer,
      seed: 1,
      random: testRandom(1),
      resamples: 20,
    });
    expect(report.dropped.train_overlapping_test).toBe(30);
    expect(report.n_train).toBe(70);
    expect(report.n_test).toBe(100);
    expect(report.split).toBeNull();
  });

  it('fails clearly on an empty split', async () => {
    const tiny = syntheticTable(1, 5);
    await expect(
      evaluateRouting({
        train: tiny,
        split: 0.5,
        embed,
        trainer: bucketTrainer,
        seed: 1,
        random: testRandom(1),
      }),
    ).rejects.toThrow(/split is empty/);
  });
});
