import { createRng } from '@openfugu/cmaes';
import { NoAvailableWorkerError } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { createHashingBackbone } from './backbones/hashing.js';
import { createKnnIndex, createKnnRouter, decisionFromScores, trainKnnRouter } from './knn.js';

describe('kNN index', () => {
  const features = [
    [1, 0],
    [0.9, 0.1],
    [0, 1],
    [0.1, 0.9],
  ];
  const outcomes = [
    [1, 0],
    [0, 0],
    [0, 1],
    [0, 0.5],
  ];

  it('predicts the mean outcome of the k most cosine-similar prompts (hand-computed)', () => {
    const index = createKnnIndex({ features, outcomes, agents: ['a', 'b'], k: 2 });
    // [2, 0] (scale does not matter for cosine) → neighbours 0 and 1.
    expect(Array.from(index.predict([2, 0]))).toEqual([0.5, 0]);
    expect(Array.from(index.predict([0, 3]))).toEqual([0, 0.75]);
  });

  it('similarity weighting weights each neighbour by its cosine', () => {
    const index = createKnnIndex({ features, outcomes, agents: ['a', 'b'], k: 2, weighting: 'similarity' });
    const c1 = 0.9 / Math.hypot(0.9, 0.1);
    const got = index.predict([1, 0]);
    expect(got[0]).toBeCloseTo(1 / (1 + c1), 12);
    expect(got[1]).toBe(0);
  });
});

describe('kNN index on sparse features and missing outcomes', () => {
  it('matches brute-force cosine kNN on sparse and dense queries (Float32 and plain vectors)', () => {
    const random = createRng(5);
    const d = 40;
    // Rows with 1–30 non-zeros: queries on both sides of the sparse/dense switch (half the dimensions).
    const rows = Array.from({ length: 60 }, (_, p) =>
      Float32Array.from({ length: d }, (_, i) => ((i * 7 + p) % 40 < 1 + (p % 30) ? random() - 0.3 : 0)),
    );
    const outcomes = rows.map(() => [random() < 0.5 ? 1 : 0, random() < 0.5 ? 1 : 0]);
    const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let i = 0; i < a.length; i++) {
        ab += a[i]! * b[i]!;
        aa += a[i]! * a[i]!;
        bb += b[i]! * b[i]!;
      }
      return ab / ((Math.sqrt(aa) || 1) * (Math.sqrt(bb) || 1));
    };
    const k = 7;
    for (const features of [rows, rows.map((r) => Array.from(r))]) {
      const index = createKnnIndex({ features, outcomes, agents: ['a', 'b'], k });
      for (let q = 0; q < 20; q++) {
        const query = rows[(q * 13) % rows.length]!.map((v, i) => (i % (q + 2) === 0 ? 0 : v + 0.01 * q));
        const order = rows
          .map((row, p) => ({ p, s: cosine(query, row) }))
          .sort((x, y) => y.s - x.s || x.p - y.p)
          .slice(0, k);
        const want = [0, 1].map((a) => order.reduce((sum, { p }) => sum + outcomes[p]![a]!, 0) / k);
        const got = index.predict(query);
        expect(got[0]).toBeCloseTo(want[0]!, 12);
        expect(got[1]).toBeCloseTo(want[1]!, 12);
      }
    }
  });

  it('leaves a missing (NaN) outcome out of its agent’s mean', () => {
    const index = createKnnIndex({
      features: [
        [1, 0],
        [0.9, 0.1],
        [0, 1],
      ],
      outcomes: [
        [1, Number.NaN],
        [0, 1],
        [1, 1],
      ],
      agents: ['a', 'b'],
      k: 2,
    });
    expect(Array.from(index.predict([1, 0]))).toEqual([0.5, 1]);
    expect(() =>
      createKnnIndex({ features: [[1]], outcomes: [[Number.POSITIVE_INFINITY]], agents: ['a'], k: 1 }),
    ).toThrow(/outcomes/);
    expect(() =>
      trainKnnRouter({
        features: [[1], [2]],
        outcomes: [[Number.NaN], [1]],
        agents: ['a'],
        random: createRng(1),
      }),
    ).toThrow(/outcomes/);
  });
});

describe('trainKnnRouter', () => {
  it('cross-validation prefers a k inside the clusters to one that mixes them', () => {
    const random = createRng(3);
    const centres = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const features: number[][] = [];
    const outcomes: number[][] = [];
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 8; i++) {
        features.push(centres[c]!.map((v) => v + 0.05 * random()));
        outcomes.push([0, 1, 2].map((a) => (a === c ? 1 : 0)));
      }
    }
    const { index, cv } = trainKnnRouter({
      features,
      outcomes,
      agents: ['x', 'y', 'z'],
      ks: [1, 5, 20],
      random: createRng(1),
    });
    expect(cv.map((p) => p.k)).toEqual([1, 5, 20]);
    expect(cv[2]!.loss).toBeGreaterThan(cv[0]!.loss);
    expect(index.k).toBeLessThanOrEqual(5);
    for (let c = 0; c < 3; c++) expect(Array.from(index.predict(centres[c]!)).indexOf(1)).toBe(c);
  });

  it('routes text through a backbone, honouring the mask', () => {
    const backbone = createHashingBackbone({ dimension: 256 });
    const texts = ['add 2 and 3', 'multiply 4 by 5', 'write a poem about rain', 'write a story about snow'];
    const { index } = trainKnnRouter({
      features: texts.map((t) => backbone.embedSync(t)),
      outcomes: [
        [1, 0],
        [1, 0],
        [0, 1],
        [0, 1],
      ],
      agents: ['math', 'writer'],
      ks: [1, 2],
      random: createRng(2),
    });
    const router = createKnnRouter({ backbone, index });
    expect(router.routeSync('add 7 and 8').agent).toBe('math');
    expect(router.routeSync('write a poem about the sea').agent).toBe('writer');
    expect(router.routeSync('add 7 and 8', { mask: ['writer'] }).agent).toBe('writer');
  });
});

describe('decisionFromScores', () => {
  it('argmax among available agents, typed error when none is', () => {
    expect(decisionFromScores(['a', 'b', 'c'], [0.2, 0.9, 0.9]).agent).toBe('b');
    expect(decisionFromScores(['a', 'b', 'c'], [0.2, 0.9, 0.9], [true, false, true]).agent).toBe('c');
    expect(() => decisionFromScores(['a'], [1], [false])).toThrow(NoAvailableWorkerError);
    expect(() => decisionFromScores(['a'], [Number.NaN])).toThrow(/not finite/);
  });
});
