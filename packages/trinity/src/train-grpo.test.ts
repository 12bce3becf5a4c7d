import { createRng } from '@openfugu/cmaes';
import { describe, expect, it } from 'vitest';
import { evaluateHead } from './train.js';
import { trainRouterHeadGrpo } from './train-grpo.js';

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
});
