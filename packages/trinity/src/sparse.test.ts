import { createRng } from '@openfugu/cmaes';
import { OpenFuguError } from '@openfugu/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDefaultConcatBackbone, createWideConcatBackbone } from './backbones/concat.js';
import { createHashingBackbone } from './backbones/hashing.js';
import { createRouterHead, headLogits } from './head.js';
import { withCategoryFeatures, withCategoryId } from './metadata.js';
import { createRouter } from './router.js';
import {
  checkSparseVector,
  concatSparse,
  featureLength,
  isSparseVector,
  type SparseVector,
  toDense,
  toSparse,
} from './sparse.js';
import { deferralArea, idfScales, trainValueHead } from './value-head.js';
import { createValueRouter } from './value-router.js';

const plain = (x: SparseVector) => ({
  dimension: x.dimension,
  indices: Array.from(x.indices),
  values: Array.from(x.values),
});

describe('sparse vectors', () => {
  it('toSparse / toDense / concatSparse round-trip a hand-made vector', () => {
    const x = toSparse([0, 2, 0, 3]);
    expect(plain(x)).toEqual({ dimension: 4, indices: [1, 3], values: [2, 3] });
    expect(Array.from(toDense(x))).toEqual([0, 2, 0, 3]);
    expect(plain(toSparse([0, 2], 0.5))).toEqual({ dimension: 2, indices: [1], values: [1] });
    const joined = concatSparse([x, toSparse([5, 0, 0])]);
    expect(plain(joined)).toEqual({ dimension: 7, indices: [1, 3, 4], values: [2, 3, 5] });
    expect(featureLength(joined)).toBe(7);
    expect(featureLength([1, 2])).toBe(2);
    expect(isSparseVector(joined)).toBe(true);
    expect(isSparseVector(new Float32Array(3))).toBe(false);
  });

  it('checkSparseVector names a broken invariant with a typed error', () => {
    const bad =
      (indices: number[], values: number[], dimension = 4) =>
      () =>
        checkSparseVector({
          dimension,
          indices: Int32Array.from(indices),
          values: Float32Array.from(values),
        });
    expect(bad([1, 3], [1, 1])).not.toThrow();
    expect(bad([3, 1], [1, 1])).toThrow(/increase strictly/);
    expect(bad([1, 4], [1, 1])).toThrow(/increase strictly/);
    expect(bad([1], [1, 2])).toThrow(/1 indices but 2 values/);
    expect(bad([1], [Number.NaN])).toThrow(OpenFuguError);
  });
});

describe('embedSparseSync', () => {
  // ASCII (fast paths), Unicode (generic path), empty and one-character texts.
  const texts = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 120 }),
    fc.constantFrom('', 'a', 'user: What is 17 × 23?', 'Ünïcödé wörds and 12.5 numbers'),
  );

  it('is the non-zeros of embedSync, bit for bit (v2 fast and generic paths, weight groups, v1)', () => {
    const backbones = [
      createHashingBackbone({ dimension: 1 << 15, charNgrams: false, seed: 1 }),
      createHashingBackbone({ dimension: 1 << 16, words: false, wordBigrams: false, seed: 2 }),
      createHashingBackbone({ dimension: 1000, weights: { words: 1, bigrams: 0.5, chars: 2 } }),
      createHashingBackbone({ dimension: 256, version: 1 }),
    ];
    fc.assert(
      fc.property(texts, (text) => {
        for (const backbone of backbones) {
          expect(plain(backbone.embedSparseSync(text))).toEqual(plain(toSparse(backbone.embedSync(text))));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a concatenation joins its parts (weights applied) as its dense vector does', () => {
    const wide = createWideConcatBackbone();
    expect(wide.dimension).toBe(98_324);
    const weighted = createDefaultConcatBackbone();
    fc.assert(
      fc.property(texts, (text) => {
        for (const backbone of [wide, weighted]) {
          expect(plain(backbone.embedSparseSync(text))).toEqual(plain(toSparse(backbone.embedSync(text))));
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('sparse features in heads and routers', () => {
  it('headLogits reads a sparse vector exactly as its dense form', () => {
    const random = createRng(3);
    const d = 50;
    const head = createRouterHead({
      agentCount: 3,
      dimension: d,
      weights: Float64Array.from({ length: 6 * d }, () => random() - 0.5), // 3 agents + 3 role rows
      agentBias: Float64Array.from([0.1, -0.2, 0.3]),
    });
    const dense = Float32Array.from({ length: d }, () => (random() < 0.2 ? random() - 0.5 : 0));
    const a = headLogits(head, dense);
    const b = headLogits(head, toSparse(dense));
    expect(Array.from(b.agentLogits)).toEqual(Array.from(a.agentLogits));
    expect(Array.from(b.roleLogits)).toEqual(Array.from(a.roleLogits));
    expect(() => headLogits(head, toSparse(new Float32Array(d + 1)))).toThrow(
      /51 values but the head expects 50/,
    );
  });

  it('a router on the wide backbone routes its sparse embedding as routeFeatures routes the dense one', () => {
    const backbone = createWideConcatBackbone();
    const random = createRng(4);
    const head = createRouterHead({
      agentCount: 2,
      dimension: backbone.dimension,
      roles: false,
      weights: Float64Array.from({ length: 2 * backbone.dimension }, () => random() - 0.5),
      backboneId: backbone.id,
    });
    const router = createRouter({ backbone, head, agents: ['a', 'b'] });
    for (const content of ['Write a poem about the sea.', 'What is 2 + 2?', 'Prove that √2 is irrational.']) {
      const messages = [{ role: 'user' as const, content }];
      const sparse = router.routeSync(messages);
      const dense = router.routeFeatures(backbone.embedSync(`user: ${content}`));
      expect(sparse.agentLogits).toEqual(dense.agentLogits);
      expect(sparse.agent).toBe(dense.agent);
    }
  });
});

describe('value router on the wide backbone', () => {
  it('predicts from the sparse embedding (category block appended) what the dense vector gives', () => {
    const backbone = createWideConcatBackbone();
    const categories = 16;
    const d = backbone.dimension + categories;
    const random = createRng(8);
    const head = createRouterHead({
      agentCount: 2,
      dimension: d,
      roles: false,
      weights: Float64Array.from({ length: 2 * d }, () => random() - 0.5),
      agentBias: Float64Array.from([0.2, -0.1]),
      valueLink: 'identity',
      backboneId: withCategoryId(backbone.id, categories),
    });
    const router = createValueRouter({ head, backbone, agents: ['a', 'b'] });
    const text = 'user: Which planet is largest?';
    const dense = withCategoryFeatures(backbone.embedSync(text), 'astronomy', categories);
    expect(isSparseVector(dense)).toBe(false);
    const expected = headLogits(head, dense).agentLogits;
    const predicted = router.predict(text, 'astronomy');
    for (let a = 0; a < 2; a++) expect(predicted[a]).toBeCloseTo(expected[a]!, 9);
    const sparse = withCategoryFeatures(toSparse(backbone.embedSync(text)), 'astronomy', categories);
    expect(plain(sparse as SparseVector)).toEqual(plain(toSparse(dense as Float32Array)));
  });
});

describe('trainValueHead — conjugate gradients on sparse features', () => {
  function problem(n: number, d: number, seed: number) {
    const random = createRng(seed);
    const features = Array.from({ length: n }, () =>
      Float32Array.from({ length: d }, () => (random() < 0.25 ? random() * 2 - 1 : 0)),
    );
    const outcomes = features.map((x) => [x[0]! + 0.5 * x[3]! + 0.1 * random(), x[1]! > 0 ? 1 : 0, random()]);
    return { features, outcomes };
  }

  it('agrees with the Cholesky solution on every λ of the CV path, and the final head', () => {
    const { features, outcomes } = problem(240, 30, 5);
    const lambdaScales = [1e-2, 0.1, 1, 10];
    const exact = trainValueHead({ features, outcomes, lambdaScales, random: createRng(1) });
    const cg = trainValueHead({
      features: features.map((x) => toSparse(x)),
      outcomes,
      lambdaScales,
      tolerance: 1e-8,
      random: createRng(1),
    });
    expect(exact.solver).toBe('cholesky');
    expect(cg.solver).toBe('cg');
    expect(cg.iterations).toBeGreaterThan(0);
    expect(cg.lambda).toBeCloseTo(exact.lambda, 6); // the sparse values are float32
    for (const [i, point] of cg.cv.entries()) expect(point.loss).toBeCloseTo(exact.cv[i]!.loss, 9);
    for (let i = 0; i < exact.head.weights.length; i++) {
      expect(cg.head.weights[i]).toBeCloseTo(exact.head.weights[i]!, 6);
    }
    for (let a = 0; a < 3; a++) expect(cg.head.agentBias![a]).toBeCloseTo(exact.head.agentBias![a]!, 6);
    // The head serves sparse vectors too.
    const x = features[7]!;
    const dense = headLogits(exact.head, x).agentLogits;
    const sparse = headLogits(cg.head, toSparse(x)).agentLogits;
    for (let a = 0; a < 3; a++) expect(sparse[a]).toBeCloseTo(dense[a]!, 6);
  });

  it("solver 'cg' on dense input equals sparse input; a looser tolerance stops sooner", () => {
    const { features, outcomes } = problem(200, 40, 6);
    // Small penalties: an ill-conditioned system that takes the solver many iterations.
    const tight = () => ({ tolerance: 1e-6, lambdaScales: [1e-4, 1e-3], random: createRng(2) });
    const fromDense = trainValueHead({ features, outcomes, solver: 'cg', ...tight() });
    const fromSparse = trainValueHead({ features: features.map((x) => toSparse(x)), outcomes, ...tight() });
    expect(Array.from(fromDense.head.weights)).toEqual(Array.from(fromSparse.head.weights));
    const loose = trainValueHead({ features, outcomes, solver: 'cg', ...tight(), tolerance: 1e-2 });
    expect(loose.iterations!).toBeLessThan(fromDense.iterations!);
  });

  it("featureScale 'idf' on sparse features: the same IDF scales and, to the solver's tolerance, the Cholesky head", () => {
    const { features, outcomes } = problem(240, 30, 8);
    const sparse = features.map((x) => toSparse(x));
    const lambdaScales = [0.1, 1];
    const exact = trainValueHead({
      features,
      outcomes,
      lambdaScales,
      featureScale: 'idf',
      random: createRng(3),
    });
    const cg = trainValueHead({
      features: sparse,
      outcomes,
      lambdaScales,
      featureScale: 'idf',
      tolerance: 1e-8,
      random: createRng(3),
    });
    expect(cg.solver).toBe('cg');
    expect(Array.from(cg.featureScales!)).toEqual(Array.from(idfScales(features, 30)));
    expect(cg.lambda).toBeCloseTo(exact.lambda, 6); // the sparse values are float32
    for (let i = 0; i < exact.head.weights.length; i++) {
      expect(cg.head.weights[i]).toBeCloseTo(exact.head.weights[i]!, 6);
    }
    // The scales are folded into the head: it reads raw (unscaled) sparse vectors.
    const x = sparse[11]!;
    const logits = headLogits(cg.head, x).agentLogits;
    const expected = headLogits(exact.head, features[11]!).agentLogits;
    for (let a = 0; a < 3; a++) expect(logits[a]).toBeCloseTo(expected[a]!, 6);
  });

  it("featureScale 'cv' reports both λ paths and keeps the scaling whose path reaches the lower held-out loss", () => {
    // Two features that occur on every prompt (IDF 1) and 40 rare ones (IDF ≈ 4). When only the common
    // ones carry the signal, IDF lightens the penalty on noise and the unscaled fit should win; when only the
    // rare ones do, IDF should.
    const random = createRng(9);
    const make = (rareSignal: boolean) => {
      const features = Array.from({ length: 150 }, () => {
        const x = new Float32Array(42);
        x[0] = random() * 2 - 1;
        x[1] = random() * 2 - 1;
        for (let i = 2; i < 42; i++) if (random() < 0.05) x[i] = 1;
        return x;
      });
      const outcomes = features.map((x) => {
        let signal = x[0]! + x[1]!;
        if (rareSignal) {
          signal = 0;
          for (let i = 2; i < 42; i++) signal += (i % 2 === 0 ? 1 : -1) * x[i]!;
        }
        return [signal + 2 * (random() - 0.5), random() - 0.5];
      });
      return { features: features.map((x) => toSparse(x)), outcomes };
    };
    for (const rareSignal of [false, true]) {
      const data = make(rareSignal);
      const settings = { ...data, lambdaScales: [0.03, 0.3, 3], tolerance: 1e-8 };
      const both = trainValueHead({ ...settings, featureScale: 'cv', random: createRng(4) });
      const none = trainValueHead({ ...settings, random: createRng(4) });
      const idf = trainValueHead({ ...settings, featureScale: 'idf', random: createRng(4) });
      const lowest = (r: typeof none) => Math.min(...r.cv.map((c) => c.loss));
      expect(both.cv.map((c) => c.featureScale)).toEqual(['none', 'none', 'none', 'idf', 'idf', 'idf']);
      expect(both.cv.slice(0, 3).map((c) => c.loss)).toEqual(none.cv.map((c) => c.loss));
      expect(both.cv.slice(3).map((c) => c.loss)).toEqual(idf.cv.map((c) => c.loss));
      const winner = lowest(idf) < lowest(none) ? idf : none;
      expect(winner === idf).toBe(rareSignal);
      expect(Array.from(both.head.weights)).toEqual(Array.from(winner.head.weights));
      expect(both.lambda).toBe(winner.lambda);
      expect(both.featureScales === undefined).toBe(winner === none);
      expect(Array.from(both.oofPredictions)).toEqual(Array.from(winner.oofPredictions));
    }
  });

  it('refuses what the cg solver does not fit, with typed errors', () => {
    const { features, outcomes } = problem(40, 5, 7);
    const sparse = features.map((x) => toSparse(x));
    const binary = outcomes.map((row) => row.map((v) => (v > 0.5 ? 1 : 0)));
    expect(() => trainValueHead({ features: sparse, outcomes: binary, model: 'logistic' })).toThrow(
      OpenFuguError,
    );
    expect(() => trainValueHead({ features, outcomes, solver: 'lu' as 'cg' })).toThrow(/solver/);
    // The Cholesky solver takes sparse vectors by densifying them.
    const viaCholesky = trainValueHead({
      features: sparse,
      outcomes,
      solver: 'cholesky',
      random: createRng(1),
    });
    const dense = trainValueHead({ features, outcomes, random: createRng(1) });
    expect(Array.from(viaCholesky.head.weights)).toEqual(Array.from(dense.head.weights));
  });
});

describe("trainValueHead — criterion 'deferral'", () => {
  it('deferralArea is the trapezoid under the hand-computed deferral curve', () => {
    // Two agents (strong 0, weak 1), three prompts; predicted margins 0.9, 0.1, 0.5 → order p0, p2, p1.
    // Qualities sending the top m to strong: m=0: 0+1+0 = 1; m=1: +1−0 → 2; m=2: +1−0 → 3; m=3: +0−1 → 2.
    const y = [1, 0, 0, 1, 1, 0];
    const predictions = [0.9, 0, 0.1, 0, 0.5, 0];
    // Trapezoid over shares 0, 1/3, 2/3, 1 of mean quality (÷3): (1/2 + 2 + 3 + 2/2) / 3 / 3.
    expect(deferralArea(predictions, y, 2, { strong: 0, weak: 1 })).toBeCloseTo((0.5 + 2 + 3 + 1) / 9, 12);
  });

  it('picks the λ with the best out-of-fold ranking, reported per λ', () => {
    const random = createRng(9);
    const features = Array.from({ length: 200 }, () =>
      Float32Array.from({ length: 8 }, () => random() - 0.5),
    );
    const outcomes = features.map((x) => [x[0]! > 0 ? 1 : 0, random() < 0.5 ? 1 : 0]);
    const result = trainValueHead({ features, outcomes, criterion: 'deferral', random: createRng(1) });
    const best = Math.max(...result.cv.map((c) => c.deferral!));
    expect(result.cv.find((c) => c.lambda === result.lambda)!.deferral).toBe(best);
    const byLoss = trainValueHead({ features, outcomes, random: createRng(1) });
    expect(byLoss.cv.every((c) => c.deferral === undefined)).toBe(true);
    expect(() => trainValueHead({ features, outcomes, criterion: 'auc' as 'loss' })).toThrow(/criterion/);
  });
});
