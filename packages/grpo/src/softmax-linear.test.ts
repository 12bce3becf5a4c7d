import { OpenFuguError } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from '../test/mulberry32.js';
import {
  createSoftmaxLinearTrainer,
  type SoftmaxLinearLossInput,
  type SoftmaxLinearTrainerSettings,
  softmaxLinearLoss,
} from './softmax-linear.js';

/** log π(a|x) for W row-major A×F with optional availability, written plainly (test oracle). */
function referenceLogProb(
  W: ArrayLike<number>,
  x: number[],
  a: number,
  A: number,
  tau: number,
  mask?: number[],
) {
  const z: number[] = [];
  for (let k = 0; k < A; k++) {
    let s = 0;
    for (let j = 0; j < x.length; j++) s += W[k * x.length + j]! * x[j]!;
    z.push(mask && !mask[k] ? Number.NEGATIVE_INFINITY : s / tau);
  }
  const max = Math.max(...z);
  const logZ = max + Math.log(z.reduce((acc, v) => acc + Math.exp(v - max), 0));
  return z[a]! - logZ;
}

/** A synthetic routing task: Gaussian features, the best action is argmax of a hidden linear map. */
function routingTask(seed: number, prompts: number, actions: number, features: number) {
  const random = mulberry32(seed);
  const hidden = Array.from({ length: actions * features }, () => gaussian(random));
  const observations = Array.from({ length: prompts }, () =>
    Float64Array.from({ length: features }, () => gaussian(random)),
  );
  const best = observations.map((x) => {
    let arg = 0;
    let top = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < actions; k++) {
      let s = 0;
      for (let j = 0; j < features; j++) s += hidden[k * features + j]! * x[j]!;
      if (s > top) {
        top = s;
        arg = k;
      }
    }
    return arg;
  });
  return { observations, best };
}

describe('softmaxLinearLoss', () => {
  it('hand-worked: W = 0, two actions, one on-policy sample', () => {
    // π = (0.5, 0.5). Sample action 0 with Â = 1: loss = −ρÂ = −1 ("dapo" over 1 token);
    // ∂loss/∂log π(0) = −1; ∂log π(0)/∂z = (1 − 0.5, −0.5) ⇒ ∂loss/∂W = (−0.5·x, +0.5·x) with x = [2].
    const { loss, gradient, entropy } = softmaxLinearLoss({
      actions: 2,
      features: 1,
      weights: [0, 0],
      observations: [[2]],
      samples: { prompt: [0], action: [0], advantage: [1] },
    });
    expect(loss).toBe(-1);
    expect(Array.from(gradient)).toEqual([-1, 1]);
    expect(entropy).toBeCloseTo(Math.LN2, 15);
  });

  it('analytic gradient matches central finite differences (clip, KL, entropy, masks, temperature)', () => {
    const random = mulberry32(11);
    const A = 4;
    const F = 5;
    const observations = Array.from({ length: 3 }, () => Array.from({ length: F }, () => gaussian(random)));
    const available = [undefined, [1, 0, 1, 1], [true, true, false, true]];
    const W = Array.from({ length: A * F }, () => 0.5 * gaussian(random));
    const Wold = W.map((w) => w + 0.3 * gaussian(random));
    const Wref = W.map((w) => w + 0.3 * gaussian(random));
    const tau = 0.7;
    const prompt = [0, 0, 0, 1, 1, 1, 2, 2, 2];
    const action = [0, 1, 3, 0, 2, 3, 1, 0, 3];
    const masks = available.map((m) => (m === undefined ? undefined : m.map(Number)));
    const oldLogProb = prompt.map((p, i) =>
      referenceLogProb(Wold, observations[p]!, action[i]!, A, tau, masks[p]),
    );
    const refLogProb = prompt.map((p, i) =>
      referenceLogProb(Wref, observations[p]!, action[i]!, A, tau, masks[p]),
    );
    const input = (weights: number[]): SoftmaxLinearLossInput => ({
      actions: A,
      features: F,
      weights,
      observations,
      available,
      temperature: tau,
      epsilonLow: 0.2,
      epsilonHigh: 0.28,
      beta: 0.05,
      klEstimator: 'k3',
      entropyCoefficient: 0.03,
      samples: {
        prompt,
        action,
        advantage: [1.2, -0.4, -0.8, 0.5, 0.5, -1, 0.9, -0.9, 0],
        oldLogProb,
        refLogProb,
      },
    });
    const analytic = softmaxLinearLoss(input(W));
    // Some ratios must be clipped for the check to cover the clip branch.
    expect(analytic.surrogate.clipFraction).toBeGreaterThan(0);
    const h = 1e-6;
    for (let j = 0; j < A * F; j++) {
      const plus = W.slice();
      plus[j]! += h;
      const minus = W.slice();
      minus[j]! -= h;
      const numeric = (softmaxLinearLoss(input(plus)).loss - softmaxLinearLoss(input(minus)).loss) / (2 * h);
      expect(analytic.gradient[j]).toBeCloseTo(numeric, 7);
    }
    // Masked action 1 of prompt 1 gets no gradient from prompt 1 (it never appears), so only prompts 0, 2
    // contribute to row 1; a quick sanity check that nothing is NaN.
    expect(Array.from(analytic.gradient).every(Number.isFinite)).toBe(true);
  });

  it('rejects an unavailable sampled action', () => {
    expect(() =>
      softmaxLinearLoss({
        actions: 2,
        features: 1,
        weights: [0, 0],
        observations: [[1]],
        available: [[1, 0]],
        samples: { prompt: [0], action: [1], advantage: [1] },
      }),
    ).toThrow(/unavailable/);
  });
});

describe('createSoftmaxLinearTrainer', () => {
  const A = 4;
  const F = 8;
  const task = routingTask(2024, 384, A, F);
  const train = Array.from({ length: 256 }, (_, i) => i);
  const heldOut = Array.from({ length: 128 }, (_, i) => 256 + i);
  const reward = (p: number, a: number): number => (a === task.best[p] ? 1 : 0);
  const settings = (seed: number): SoftmaxLinearTrainerSettings => ({
    actions: A,
    features: F,
    observations: task.observations,
    reward,
    random: mulberry32(seed),
    groupSize: 8,
    epsilonHigh: 0.28,
    innerSteps: 2,
    optimizer: { learningRate: 0.05 },
  });
  const batches = (seed: number, count: number, size: number): number[][] => {
    const random = mulberry32(seed);
    return Array.from({ length: count }, () =>
      Array.from({ length: size }, () => train[Math.floor(random() * 256)]!),
    );
  };

  it('learns a synthetic routing task to near-oracle held-out reward, deterministically', () => {
    const run = () => {
      const trainer = createSoftmaxLinearTrainer(settings(1));
      const before = trainer.evaluate(heldOut).meanReward;
      const curve: number[] = [];
      for (const batch of batches(99, 300, 16)) curve.push(trainer.step(batch).rewardMean);
      return { before, after: trainer.evaluate(heldOut).meanReward, curve, weights: trainer.weights() };
    };
    const first = run();
    // Zero weights: argmax picks action 0 everywhere → held-out reward = share of prompts whose best is 0.
    expect(first.before).toBeLessThan(0.5);
    // Oracle held-out reward is 1 by construction.
    expect(first.after).toBeGreaterThanOrEqual(0.9);
    const early = first.curve.slice(0, 20).reduce((a, b) => a + b) / 20;
    const late = first.curve.slice(-20).reduce((a, b) => a + b) / 20;
    expect(late).toBeGreaterThan(early + 0.3);
    const second = run();
    expect(second.after).toBe(first.after);
    expect(Array.from(second.weights)).toEqual(Array.from(first.weights));
  });

  it('checkpoints resume bit for bit (JSON state + stateful RNG)', () => {
    const plan = batches(5, 12, 8);
    const straight = createSoftmaxLinearTrainer({ ...settings(3), beta: 0.02, entropyCoefficient: 0.01 });
    for (const batch of plan) straight.step(batch);

    const first = createSoftmaxLinearTrainer({ ...settings(3), beta: 0.02, entropyCoefficient: 0.01 });
    for (const batch of plan.slice(0, 5)) first.step(batch);
    const checkpoint = JSON.parse(JSON.stringify(first.state()));
    expect(checkpoint.steps).toBe(5);
    expect(checkpoint.random).not.toBeNull();

    // Resume with a fresh generator seeded differently: restore() puts it back via setState.
    const resumed = createSoftmaxLinearTrainer({ ...settings(12345), beta: 0.02, entropyCoefficient: 0.01 });
    resumed.restore(checkpoint);
    const stats = plan.slice(5).map((batch) => resumed.step(batch));
    expect(stats.at(-1)!.step).toBe(12);
    expect(Array.from(resumed.weights())).toEqual(Array.from(straight.weights()));
    expect(resumed.state()).toEqual(straight.state());
  });

  it('never samples or picks unavailable actions', () => {
    const available = task.observations.map((_, p) => (p % 2 === 0 ? [1, 0, 1, 0] : undefined));
    const sampled: number[] = [];
    const trainer = createSoftmaxLinearTrainer({
      ...settings(8),
      available,
      reward: (p, a) => {
        if (p % 2 === 0) sampled.push(a);
        return reward(p, a);
      },
    });
    for (const batch of batches(4, 30, 16)) trainer.step(batch);
    expect(sampled.length).toBeGreaterThan(100);
    expect(sampled.every((a) => a === 0 || a === 2)).toBe(true);
    for (let p = 0; p < 40; p += 2) {
      expect([0, 2]).toContain(trainer.greedy(p));
      const probabilities = trainer.probabilities(p);
      expect(probabilities[1]).toBe(0);
      expect(probabilities[3]).toBe(0);
      expect(probabilities[0]! + probabilities[2]!).toBeCloseTo(1, 12);
    }
  });

  it('drops zero-variance groups and skips the update when all are dropped', () => {
    const trainer = createSoftmaxLinearTrainer({
      ...settings(2),
      reward: () => 1,
      dropZeroVarianceGroups: true,
    });
    const before = trainer.weights();
    const stats = trainer.step([0, 1, 2]);
    expect(stats).toMatchObject({
      skipped: true,
      zeroVarianceFraction: 1,
      droppedFraction: 1,
      keptSamples: 0,
    });
    expect(Array.from(trainer.weights())).toEqual(Array.from(before));
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);

    const mixed = createSoftmaxLinearTrainer({ ...settings(2), dropZeroVarianceGroups: true });
    const s = mixed.step(train.slice(0, 32));
    expect(s.keptSamples).toBe(s.samples * (1 - s.droppedFraction));
    expect(s.skipped).toBe(false);
  });

  it('is a Policy: logits(features) = W·x/τ', () => {
    const trainer = createSoftmaxLinearTrainer({ ...settings(1), temperature: 2 });
    const W = Float64Array.from({ length: A * F }, (_, j) => j / 10);
    trainer.setWeights(W);
    const x = task.observations[0]!;
    const z = trainer.logits(x);
    for (let k = 0; k < A; k++) {
      let s = 0;
      for (let j = 0; j < F; j++) s += W[k * F + j]! * x[j]!;
      expect(z[k]).toBeCloseTo(s / 2, 12);
    }
    expect(trainer.actionCount).toBe(A);
  });

  it('validates settings, rewards and checkpoints', () => {
    const codes = (call: () => unknown): string | undefined => {
      try {
        call();
      } catch (error) {
        return OpenFuguError.isInstance(error) ? error.code : 'not-openfugu';
      }
      return undefined;
    };
    expect(codes(() => createSoftmaxLinearTrainer({ ...settings(1), observations: [[1, 2]] }))).toBe(
      'shape_mismatch',
    );
    expect(codes(() => createSoftmaxLinearTrainer({ ...settings(1), available: [[0, 0, 0, 0]] }))).toBe(
      'invalid_argument',
    );
    const nan = createSoftmaxLinearTrainer({ ...settings(1), reward: () => Number.NaN });
    expect(codes(() => nan.step([0]))).toBe('invalid_argument');
    expect(codes(() => nan.step([100000]))).toBe('invalid_argument');
    const other = createSoftmaxLinearTrainer({ ...settings(1), actions: 3 });
    const state = createSoftmaxLinearTrainer(settings(1)).state();
    expect(codes(() => other.restore(state))).toBe('shape_mismatch');
    expect(codes(() => other.restore({ ...state, format: 'x' } as never))).toBe('invalid_schema');
  });
});
