import { OpenFuguError } from '@openfugu/schema';
import { toSparse } from '@openfugu/trinity';
import { describe, expect, it } from 'vitest';
import { evaluateRouting, type RouterTrainer } from './evaluate.js';
import { modelMeans } from './metrics.js';
import { operatingPoints } from './operating-points.js';
import { createSupervisedTrainer, SUPERVISED_TRAINERS } from './supervised.js';
import type { OutcomeTable } from './table.js';
import { syntheticTable, testRandom } from './test-random.js';
import { createRouterTrainer } from './wiring.js';

// Features: "mentions math" plus seeded noise, so the supervised heads have something to fit and to ignore.
function noisyEmbed(seed: number) {
  return async (texts: readonly string[]): Promise<Float32Array[]> => {
    const random = testRandom(seed);
    return texts.map((t) => Float32Array.of(t.includes('math') ? 1 : 0, random(), random()));
  };
}

describe('supervised trainers in evaluateRouting', () => {
  for (const name of SUPERVISED_TRAINERS) {
    it(`${name}: routes the domains apart and beats the best single model`, async () => {
      const report = await evaluateRouting({
        train: syntheticTable(400, 2),
        split: 0.7,
        embed: noisyEmbed(3),
        trainer: createSupervisedTrainer(name, { generations: 10 }),
        seed: 1,
        random: testRandom(1),
        resamples: 100,
      });
      expect(report.trainer).toBe(name);
      expect(report.router_minus_best_single.ci95[0]).toBeGreaterThan(0);
      expect(report.apgr).toBeGreaterThan(0.9);
      expect(report.cpt95).not.toBeNull();
      // The value heads have out-of-fold training utilities: the knob's operating points are reported.
      if (name !== 'knn' && name !== 'ridge+cmaes-head') {
        expect(report.operating_points.length).toBeGreaterThanOrEqual(3);
        const half = report.operating_points.find((o) => o.kind === 'share' && o.target === 0.5)!;
        expect(Math.abs(half.test_share - 0.5)).toBeLessThan(0.15);
      } else {
        expect(report.operating_points).toEqual([]);
      }
    });
  }

  it('ridge-fine searches the 11-point half-decade λ grid; ridge-idf scales features; ridge keeps 6 points', async () => {
    const training = async (name: 'ridge' | 'ridge-fine' | 'ridge-idf') =>
      (
        await evaluateRouting({
          train: syntheticTable(200, 4),
          split: 0.7,
          embed: noisyEmbed(4),
          trainer: createSupervisedTrainer(name),
          seed: 1,
          random: testRandom(1),
          resamples: 20,
        })
      ).training as { algorithm: string; cv: { lambda: number }[] };
    const [plain, fine, idf] = await Promise.all([
      training('ridge'),
      training('ridge-fine'),
      training('ridge-idf'),
    ]);
    expect(plain.cv).toHaveLength(6);
    expect(fine.cv).toHaveLength(11);
    // same relative grid: every decade point of `ridge` is on the fine grid
    for (const { lambda } of plain.cv) {
      expect(fine.cv.some((p) => Math.abs(p.lambda / lambda - 1) < 1e-9)).toBe(true);
    }
    expect(idf.algorithm).toMatch(/IDF-scaled/);
    expect(plain.algorithm).not.toMatch(/IDF/);
  });

  it('sparse features (concat-sparse): ridge (IDF or not, by CV) by conjugate gradients and kNN route, dense-only trainers refuse', async () => {
    // The same noisy features as sparse vectors (the shape concat-sparse hands over).
    const sparseEmbed = async (texts: readonly string[]) =>
      (await noisyEmbed(3)(texts)).map((x) => toSparse(x));
    const run = (trainer: RouterTrainer) =>
      evaluateRouting({
        train: syntheticTable(400, 2),
        split: 0.7,
        embed: sparseEmbed,
        trainer,
        seed: 1,
        random: testRandom(1),
        resamples: 50,
      });
    const ridge = await run(createSupervisedTrainer('ridge'));
    expect(ridge.training).toMatchObject({ algorithm: expect.stringMatching(/conjugate gradients/) });
    // On sparse features ridge cross-validates the unscaled and the IDF-scaled features and reports which it kept.
    const cv = (ridge.training as { cv: { featureScale?: string }[] }).cv;
    expect(new Set(cv.map((c) => c.featureScale))).toEqual(new Set(['none', 'idf']));
    expect((ridge.training as { feature_scale: string }).feature_scale).toMatch(/^(none|idf)$/);
    const idf = await run(createSupervisedTrainer('ridge-idf'));
    expect(idf.training).toMatchObject({ feature_scale: 'idf', solver: 'cg' });
    expect(ridge.router_minus_best_single.ci95[0]).toBeGreaterThan(0);
    expect(ridge.knn.mean).toBeGreaterThan(ridge.best_single.mean); // the kNN baseline reads sparse vectors too
    const knn = await run(createSupervisedTrainer('knn'));
    expect(knn.apgr).toBeGreaterThan(0.9);
    await expect(run(createRouterTrainer('cmaes', { generations: 2 }))).rejects.toThrow(
      /needs dense features/,
    );
    await expect(run(createSupervisedTrainer('ridge+cmaes-head'))).rejects.toThrow(/needs dense features/);
    await expect(run(createSupervisedTrainer('logistic'))).rejects.toThrow(OpenFuguError);
  });

  it('ridge+cmaes never lowers the out-of-fold argmax reward it starts from', async () => {
    const report = await evaluateRouting({
      train: syntheticTable(300, 5),
      split: 0.7,
      embed: noisyEmbed(6),
      trainer: createSupervisedTrainer('ridge+cmaes', { generations: 5 }),
      seed: 2,
      random: testRandom(2),
      resamples: 50,
    });
    const history = report.training as {
      oof_reward_start: number;
      oof_reward_refined: number;
      evaluations: number;
    };
    expect(history.oof_reward_refined).toBeGreaterThanOrEqual(history.oof_reward_start);
    expect(history.evaluations).toBeGreaterThan(0);
  });

  it('metadata features reach the trainer and make an otherwise blind router work', async () => {
    const blind = async (texts: readonly string[]) => texts.map(() => Float32Array.of(0.5));
    const common = {
      train: syntheticTable(400, 7),
      split: 0.7,
      embed: blind,
      trainer: createSupervisedTrainer('ridge'),
      seed: 3,
      resamples: 50,
    };
    const without = await evaluateRouting({ ...common, random: testRandom(3) });
    const withSubset = await evaluateRouting({
      ...common,
      random: testRandom(3),
      metadataFeatures: (p) => Float32Array.of(p.subset === 'math' ? 1 : 0),
    });
    expect(without.router_minus_best_single.mean).toBeLessThanOrEqual(0);
    expect(withSubset.router_minus_best_single.ci95[0]).toBeGreaterThan(0);
  });
});

describe('operatingPoints', () => {
  it('hand-computed: share targets calibrated on train land on the same ranks on test', () => {
    // Four prompts each; utilities of the strong model (index 0) rise with the prompt index, weak fixed at 0.
    const table = (outcomes: number[]): OutcomeTable => ({
      format: 'generic',
      name: 't',
      prompts: [0, 1, 2, 3].map((i) => ({ id: String(i), text: `p${i}` })),
      models: ['strong', 'weak'],
      outcomes: Float64Array.from(outcomes),
    });
    // Strong right everywhere, weak right on the first two prompts.
    const train = table([1, 1, 1, 1, 1, 0, 1, 0]);
    const utilities = Float64Array.from([0.1, 0, 0.2, 0, 0.3, 0, 0.4, 0]);
    const points = operatingPoints({
      train,
      trainUtilities: utilities,
      test: train,
      testUtilities: utilities,
      strong: 0,
      weak: 1,
      trainMeans: modelMeans(train),
      testMeans: modelMeans(train),
    });
    const half = points.find((o) => o.kind === 'share' && o.target === 0.5)!;
    // Margins 0.1…0.4: at most 2 of 4 strong → threshold 0.2, prompts 2 and 3 go strong → all correct.
    expect(half.threshold).toBeCloseTo(0.2, 12);
    expect(half.test_share).toBe(0.5);
    expect(half.test_quality).toBe(1);
    expect(half.test_pgr).toBe(1);
  });
});
