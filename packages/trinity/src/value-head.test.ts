import { createRng } from '@openfugu/cmaes';
import { OpenFuguError } from '@openfugu/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headLogits } from './head.js';
import { parseHead, serializeHead } from './head-io.js';
import { cholesky, choleskySolve, solveSpd } from './linalg.js';
import { calibrationOf, idfScales, predictQuality, sigmoid, trainValueHead } from './value-head.js';

/** A standard normal draw from a seeded generator. */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random() + 1e-300)) * Math.cos(2 * Math.PI * random());
}

describe('linear algebra', () => {
  it('solves a hand-computed 2 × 2 system and reproduces A from its Cholesky factor', () => {
    // [[4, 2], [2, 3]] x = [2, 1] → x = [0.5, 0].
    const a = Float64Array.from([4, 2, 2, 3]);
    expect(Array.from(solveSpd(a, Float64Array.from([2, 1]), 2, 1))).toEqual([0.5, 0]);
    const l = cholesky(a, 2);
    expect(Array.from(l)).toEqual([2, 0, 1, Math.sqrt(2)]);
    const identity = choleskySolve(l, Float64Array.from([4, 2, 2, 3]), 2, 2);
    for (const [i, v] of [1, 0, 0, 1].entries()) expect(identity[i]).toBeCloseTo(v, 12);
  });

  it('rejects a matrix that is not positive definite', () => {
    expect(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/positive definite/);
  });
});

describe('trainValueHead — ridge', () => {
  it('matches the hand-computed ridge solution (no bias)', () => {
    // X = [[1,0],[0,1],[1,1]], y = [1,2,3], λ = 1: (XᵀX + I) w = Xᵀy → [[3,1],[1,3]] w = [4,5] → w = [7/8, 11/8].
    const result = trainValueHead({
      features: [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      outcomes: [[1], [2], [3]],
      lambdas: [1],
      folds: 3,
      bias: false,
      random: createRng(1),
    });
    expect(result.head.weights[0]).toBeCloseTo(7 / 8, 12);
    expect(result.head.weights[1]).toBeCloseTo(11 / 8, 12);
    expect(result.head.agentBias).toBeUndefined();
    expect(result.head.valueLink).toBe('identity');
  });

  it('IDF feature scaling matches the hand-computed solution and is folded into the head', () => {
    // n = 3, df = [3, 1] → scales [1 + ln(4/4), 1 + ln(4/2)] = [1, c], c = 1 + ln 2.
    expect(
      Array.from(
        idfScales(
          [
            [1, 0],
            [1, 2],
          ],
          2,
        ),
      ),
    ).toEqual([1, 1 + Math.log(3 / 2)]);
    const c = 1 + Math.log(2);
    const features = [
      [1, 0],
      [1, 1],
      [1, 0],
    ];
    const problem = { features, outcomes: [[1], [3], [2]], lambdas: [1], folds: 3, bias: false };
    const result = trainValueHead({ ...problem, featureScale: 'idf', random: createRng(1) });
    expect(Array.from(result.featureScales!)).toEqual([1, c]);
    // Z = X·diag(1, c): (ZᵀZ + I) v = Zᵀy → [[4, c], [c, c² + 1]] v = [6, 3c]; the head holds w = diag(1, c) v.
    const det = 3 * c * c + 4;
    expect(result.head.weights[0]).toBeCloseTo((3 * c * c + 6) / det, 12);
    expect(result.head.weights[1]).toBeCloseTo((6 * c * c) / det, 12);
    // the plain ridge differs, so the scaling is not a no-op
    const plain = trainValueHead({ ...problem, random: createRng(1) });
    expect(Math.abs(plain.head.weights[1]! - result.head.weights[1]!)).toBeGreaterThan(0.05);
    expect(plain.featureScales).toBeUndefined();
    expect(() => trainValueHead({ ...problem, featureScale: 'tf' as 'idf' })).toThrow(/featureScale/);
  });

  it('with a bias equals the augmented least-squares solution whose bias is not penalised', () => {
    // X = [[0],[1],[2],[3]], y = [1,3,5,8], λ = 2. Centred: x̄ = 1.5, ȳ = 4.25, Sxx = 5, Sxy = 11.5
    // → w = 11.5 / (5 + 2) = 1.642857…, b = 4.25 − 1.5 w.
    const result = trainValueHead({
      features: [[0], [1], [2], [3]],
      outcomes: [[1], [3], [5], [8]],
      lambdas: [2],
      folds: 2,
      random: createRng(1),
    });
    const w = 11.5 / 7;
    expect(result.head.weights[0]).toBeCloseTo(w, 12);
    expect(result.head.agentBias?.[0]).toBeCloseTo(4.25 - 1.5 * w, 12);
    // headLogits adds the bias: the routed logit is the prediction.
    expect(headLogits(result.head, [2]).agentLogits[0]).toBeCloseTo(4.25 + 0.5 * w, 12);
  });

  it('fits every agent with one factorisation and agrees with per-agent fits', () => {
    const random = createRng(3);
    const features = Array.from({ length: 40 }, () => [normal(random), normal(random), normal(random)]);
    const outcomes = features.map((x) => [x[0]! - x[1]!, 2 * x[2]! + 1]);
    const both = trainValueHead({ features, outcomes, lambdas: [0.5], random: createRng(9) });
    for (let a = 0; a < 2; a++) {
      const single = trainValueHead({
        features,
        outcomes: outcomes.map((row) => [row[a]!]),
        lambdas: [0.5],
        random: createRng(9),
      });
      for (let i = 0; i < 3; i++)
        expect(both.head.weights[a * 3 + i]).toBeCloseTo(single.head.weights[i]!, 10);
      expect(both.head.agentBias?.[a]).toBeCloseTo(single.head.agentBias![0]!, 10);
    }
  });

  it('lambdaScales are relative to the mean squared feature norm', () => {
    // rows [1, 0], [0, 2], [1, 1]: squared norms 1, 4, 2 → mean 7/3; scales [3, 30] → λ = [7, 70].
    const result = trainValueHead({
      features: [
        [1, 0],
        [0, 2],
        [1, 1],
      ],
      outcomes: [[1], [2], [3]],
      lambdaScales: [3, 30],
      folds: 3,
      random: createRng(1),
    });
    expect(result.cv.map((p) => p.lambda)).toEqual([7, 70].map((l) => expect.closeTo(l, 12)));
  });

  it('cross-validation picks a small λ for clean data and a large λ for pure noise', () => {
    const random = createRng(5);
    const d = 20;
    const features = Array.from({ length: 120 }, () => Array.from({ length: d }, () => normal(random)));
    const clean = features.map((x) => [x.reduce((s, v, i) => s + (i % 2 === 0 ? v : -v), 0)]);
    const noise = features.map(() => [normal(random)]);
    const lambdas = [1e-3, 1, 1e3, 1e5];
    const a = trainValueHead({ features, outcomes: clean, lambdas, random: createRng(1) });
    const b = trainValueHead({ features, outcomes: noise, lambdas, random: createRng(1) });
    expect(a.lambda).toBe(1e-3);
    expect(b.lambda).toBeGreaterThanOrEqual(1e3);
    expect(a.cv.map((p) => p.lambda)).toEqual(lambdas);
    // The held-out loss of the chosen λ is the minimum of the path.
    expect(Math.min(...a.cv.map((p) => p.loss))).toBe(a.cv[0]!.loss);
  });

  it('out-of-fold predictions never use their own prompt', () => {
    // One prompt whose outcome is an outlier: its in-sample fit would chase it, its OOF prediction cannot.
    const features = Array.from({ length: 10 }, (_, p) => [p === 9 ? 5 : 0, 1]);
    const outcomes = Array.from({ length: 10 }, (_, p) => [p === 9 ? 100 : 0]);
    const result = trainValueHead({
      features,
      outcomes,
      lambdas: [1e-6],
      folds: 10,
      bias: false,
      random: createRng(2),
    });
    expect(Math.abs(result.oofPredictions[9]!)).toBeLessThan(1e-6);
    expect(result.foldOf.length).toBe(10);
  });

  it('is deterministic for a seed and fold assignments are balanced (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 6, max: 30 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer(),
        (n, folds, seed) => {
          const random = createRng(seed);
          const features = Array.from({ length: n }, () => [random(), random()]);
          const outcomes = features.map((x) => [x[0]! > 0.5 ? 1 : 0, x[1]!]);
          const a = trainValueHead({ features, outcomes, folds, lambdas: [0.1, 1], random: createRng(seed) });
          const b = trainValueHead({ features, outcomes, folds, lambdas: [0.1, 1], random: createRng(seed) });
          expect(Array.from(a.head.weights)).toEqual(Array.from(b.head.weights));
          const sizes = new Array<number>(folds).fill(0);
          for (const f of a.foldOf) sizes[f]!++;
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('rejects bad input with typed errors', () => {
    const random = createRng(1);
    const ok = { features: [[1], [2], [3]], outcomes: [[1], [0], [1]], random };
    expect(() => trainValueHead({ ...ok, outcomes: [[1], [0]] })).toThrow(OpenFuguError);
    expect(() => trainValueHead({ ...ok, outcomes: [[1], [Number.NaN], [1]] })).toThrow(/finite/);
    expect(() => trainValueHead({ ...ok, folds: 4 })).toThrow(/folds/);
    expect(() => trainValueHead({ ...ok, lambdas: [0] })).toThrow(/lambdas/);
    expect(() => trainValueHead({ ...ok, model: 'logistic', outcomes: [[1], [2], [0]] })).toThrow(/\[0, 1\]/);
  });
});

describe('trainValueHead — logistic', () => {
  it('with no informative feature the bias is the log-odds of the mean outcome', () => {
    const outcomes = [[1], [1], [1], [0], [1], [0], [1], [1]]; // mean 0.75
    const result = trainValueHead({
      features: outcomes.map(() => [0]),
      outcomes,
      model: 'logistic',
      lambdas: [1],
      folds: 2,
      random: createRng(4),
    });
    expect(result.head.agentBias?.[0]).toBeCloseTo(Math.log(3), 6);
    expect(result.head.valueLink).toBe('logistic');
    expect(predictQuality(result.head, headLogits(result.head, [0]).agentLogits)[0]).toBeCloseTo(0.75, 6);
  });

  it('recovers a known logistic model and its out-of-fold probabilities are calibrated', () => {
    const random = createRng(11);
    const n = 3000;
    const features = Array.from({ length: n }, () => [normal(random), normal(random)]);
    const outcomes = features.map((x) => [random() < sigmoid(1.5 * x[0]! - 1 * x[1]! + 0.5) ? 1 : 0]);
    const result = trainValueHead({
      features,
      outcomes,
      model: 'logistic',
      lambdas: [1e-2, 10, 1000],
      random: createRng(2),
    });
    expect(result.lambda).toBeLessThan(1000);
    expect(result.head.weights[0]).toBeGreaterThan(1.3);
    expect(result.head.weights[0]).toBeLessThan(1.7);
    expect(result.head.weights[1]).toBeGreaterThan(-1.2);
    expect(result.head.weights[1]).toBeLessThan(-0.8);
    expect(result.head.agentBias?.[0]).toBeGreaterThan(0.35);
    expect(result.head.agentBias?.[0]).toBeLessThan(0.65);
    expect(result.calibration.ece).toBeLessThan(0.04);
  });
});

describe('calibrationOf', () => {
  it('hand-computed Brier score and ECE', () => {
    // Predictions 0.2, 0.2 (bin 2) with outcomes 0, 1 → |0.4 − 1| / 4; 0.9, 0.9 (bin 9) with 1, 1 → |1.8 − 2| / 4.
    const c = calibrationOf([0.2, 0.2, 0.9, 0.9], [0, 1, 1, 1]);
    expect(c.brier).toBeCloseTo((0.04 + 0.64 + 0.01 + 0.01) / 4, 12);
    expect(c.ece).toBeCloseTo(0.6 / 4 + 0.2 / 4, 12);
  });
});

describe('value heads in head files', () => {
  const trained = trainValueHead({
    features: [
      [1, 0],
      [0, 1],
      [1, 1],
      [0, 0],
    ],
    outcomes: [
      [1, 0],
      [0, 1],
      [1, 1],
      [0, 0],
    ],
    lambdas: [0.3],
    folds: 2,
    agents: ['a', 'b'],
    backboneId: 'hashing-v2:d2:w1:b1:c3-5:s0',
    random: createRng(1),
  }).head;

  it('keeps the bias and value link in .safetensors and JSON', () => {
    for (const format of ['safetensors', 'json'] as const) {
      const back = parseHead(serializeHead(trained, format, { dtype: 'float64' }));
      expect(Array.from(back.agentBias!)).toEqual(Array.from(trained.agentBias!));
      expect(back.valueLink).toBe('identity');
      expect(back.agents).toEqual(['a', 'b']);
      expect(back.roleCount).toBe(0);
      expect(Array.from(headLogits(back, [1, 0.5]).agentLogits)).toEqual(
        Array.from(headLogits(trained, [1, 0.5]).agentLogits),
      );
    }
  });

  it('refuses to drop the bias silently in .npy', () => {
    expect(() => serializeHead(trained, 'npy')).toThrow(/bias/);
  });

  it('rejects an unknown value link', () => {
    const json = JSON.parse(new TextDecoder().decode(serializeHead(trained, 'json')));
    json.valueLink = 'softplus';
    expect(() => parseHead(new TextEncoder().encode(JSON.stringify(json)))).toThrow(/value link/);
  });
});
