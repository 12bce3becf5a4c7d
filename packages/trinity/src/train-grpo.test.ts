import { createRng } from '@openfugu/cmaes';
import { describe, expect, it } from 'vitest';
import { evaluateHead } from './train.js';
import { type GrpoTrainingCheckpoint, trainRouterHeadGrpo } from './train-grpo.js';

function problem(count: number, seed: number): { features: Float32Array[]; outcomes: number[][] } {
  const rng = createRng(seed);
  const features: Float32Array[] = [];
  const outcomes: number[][] = [];
  for (let p = 0; p < count; p++) {
    const cluster = p % 2;
    const x = new Float32Array(8);
    for (let i = 0; i < 8; i++) x[i] = 0.3 * rng.gaussian();
    x[cluster] = (x[cluster] ?? 0) + 2;
    const norm = Math.hypot(...x);
    features.push(x.map((v) => v / norm));
    outcomes.push([cluster === 0 ? 1 : 0, cluster === 1 ? 1 : 0, rng() < 0.55 ? 1 : 0]);
  }
  return { features, outcomes };
}

describe('trainRouterHeadGrpo', () => {
  it('learns the cluster → agent mapping from sampled rewards and generalises', () => {
    const data = problem(200, 1);
    const epochs: number[] = [];
    const result = trainRouterHeadGrpo({
      ...data,
      seed: 2,
      epochs: 15,
      learningRate: 0.1,
      onEpoch: (e) => epochs.push(e.epoch),
    });
    expect(epochs).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(result.history[0]!.trainReward).toBeLessThan(0.7);
    const test = problem(200, 7);
    expect(evaluateHead(result.head, test.features, test.outcomes).mean).toBeGreaterThan(0.9);
    // Deterministic for a seed.
    const again = trainRouterHeadGrpo({ ...data, seed: 2, epochs: 15, learningRate: 0.1 });
    expect(Array.from(again.head.weights)).toEqual(Array.from(result.head.weights));
  });

  it('validates inputs and honours abort', () => {
    const data = problem(20, 1);
    expect(() => trainRouterHeadGrpo({ features: data.features, outcomes: data.outcomes.slice(1) })).toThrow(
      /outcome rows/,
    );
    expect(() => trainRouterHeadGrpo({ ...data, signal: AbortSignal.abort() })).toThrow(/aborted/);
  });

  it.each([
    ['one pass per epoch', {}],
    ['fixed steps per epoch', { stepsPerEpoch: 5, batchSize: 24 }],
  ] as const)('resumes from a JSON checkpoint bit for bit (%s)', (_, extra) => {
    const data = problem(90, 3);
    const base = { ...data, seed: 4, learningRate: 0.1, ...extra };
    const straight = trainRouterHeadGrpo({ ...base, epochs: 7 });
    const saved: string[] = [];
    const first = trainRouterHeadGrpo({
      ...base,
      epochs: 3,
      checkpointEvery: 2,
      onCheckpoint: (cp) => saved.push(JSON.stringify(cp)),
    });
    // Epoch 2, then the final checkpoint (epoch 3).
    expect(saved.map((s) => (JSON.parse(s) as GrpoTrainingCheckpoint).epoch)).toEqual([2, 3]);
    expect(JSON.stringify(first.checkpoint)).toBe(saved[1]);
    for (const text of saved) {
      const seen: number[] = [];
      const resumed = trainRouterHeadGrpo({
        ...base,
        epochs: 7,
        resume: JSON.parse(text) as GrpoTrainingCheckpoint,
        onProgress: (e, w) => {
          seen.push(e.epoch);
          expect(w.length).toBe(3 * 8);
        },
      });
      expect(seen[0]).toBe((JSON.parse(text) as GrpoTrainingCheckpoint).epoch + 1);
      expect(seen.at(-1)).toBe(7);
      expect(Array.from(resumed.head.weights)).toEqual(Array.from(straight.head.weights));
      expect(resumed.history).toEqual(straight.history);
      expect(resumed.selectedEpoch).toBe(straight.selectedEpoch);
      expect(resumed.checkpoint).toEqual(straight.checkpoint);
    }
    // The straight run moved: more than one distinct weight vector was visited.
    expect(new Set(straight.history.map((h) => h.trainReward)).size).toBeGreaterThan(1);
  });

  it('counts steps and reward lookups per epoch', () => {
    const data = problem(90, 3);
    // 72 train prompts: one pass = 3 steps (32 + 32 + 8 prompts).
    const pass = trainRouterHeadGrpo({ ...data, epochs: 2, groupSize: 4 });
    expect(pass.trainIndices.length).toBe(72);
    expect(pass.history.map((h) => [h.steps, h.evaluations])).toEqual([
      [0, 0],
      [3, 72 * 4],
      [6, 2 * 72 * 4],
    ]);
    expect(pass.history[0]!.meanSampledReward).toBeNull();
    const fixed = trainRouterHeadGrpo({ ...data, epochs: 2, groupSize: 4, stepsPerEpoch: 5, batchSize: 10 });
    expect(fixed.history.map((h) => h.evaluations)).toEqual([0, 5 * 10 * 4, 10 * 10 * 4]);
  });

  it('takes an explicit validation split and refuses a checkpoint with other settings', () => {
    const data = problem(40, 5);
    const validationIndices = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const r = trainRouterHeadGrpo({ ...data, epochs: 2, validationIndices });
    expect(r.validationIndices).toEqual(validationIndices);
    expect(r.trainIndices).toEqual(Array.from({ length: 30 }, (_, i) => i + 10));
    expect(() => trainRouterHeadGrpo({ ...data, epochs: 3, groupSize: 4, resume: r.checkpoint })).toThrow(
      /other settings/,
    );
    expect(() =>
      trainRouterHeadGrpo({
        features: data.features.slice(1),
        outcomes: data.outcomes.slice(1),
        epochs: 3,
        resume: r.checkpoint,
      }),
    ).toThrow(/does not match/);
    const foreign = {
      ...r.checkpoint,
      format: 'openfugu.trinity-training/1',
    } as unknown as GrpoTrainingCheckpoint;
    expect(() => trainRouterHeadGrpo({ ...data, epochs: 3, resume: foreign })).toThrow(
      /not a trainRouterHeadGrpo/,
    );
  });
});
