import { createRng } from '@openfugu/cmaes';
import { describe, expect, it } from 'vitest';
import { evaluateHead, splitIndices, type TrainingCheckpoint, trainRouterHead } from './train.js';

/**
 * Synthetic routing problem: 16-d unit features from two clusters; agent 0 is right on cluster A
 * (reward 1) and wrong on B, agent 1 the reverse, agent 2 is right 55 % of the time everywhere (the best
 * single model). A good head routes A → 0 and B → 1 (oracle ≈ 1).
 */
function problem(count: number, seed: number): { features: Float32Array[]; outcomes: number[][] } {
  const rng = createRng(seed);
  const features: Float32Array[] = [];
  const outcomes: number[][] = [];
  for (let p = 0; p < count; p++) {
    const cluster = p % 2;
    const x = new Float32Array(16);
    for (let i = 0; i < 16; i++) x[i] = 0.3 * rng.gaussian();
    x[cluster] = (x[cluster] ?? 0) + 2;
    x[15] = (x[15] ?? 0) + 1;
    let norm = 0;
    for (const v of x) norm += v * v;
    for (let i = 0; i < 16; i++) x[i] = x[i]! / Math.sqrt(norm);
    features.push(x);
    outcomes.push([cluster === 0 ? 1 : 0, cluster === 1 ? 1 : 0, rng() < 0.55 ? 1 : 0]);
  }
  return { features, outcomes };
}

describe('trainRouterHead', () => {
  const data = problem(200, 1);

  it('beats the best single agent on validation and generalises to fresh test prompts', () => {
    const result = trainRouterHead({ ...data, seed: 3, maxGenerations: 60, agents: ['a', 'b', 'c'] });
    const first = result.history[0]!;
    const chosen = result.history[result.selectedGeneration]!;
    // Generation 0 is "always the best single train agent" (≈ 0.55).
    expect(first.trainReward).toBeLessThan(0.7);
    expect(chosen.validationReward).toBeGreaterThan(0.95);
    const test = problem(200, 99);
    expect(evaluateHead(result.head, test.features, test.outcomes).mean).toBeGreaterThan(0.9);
    expect(result.head.agents).toEqual(['a', 'b', 'c']);
    expect(result.trainIndices.length + result.validationIndices.length).toBe(200);
    expect(result.history.every((h, i) => h.generation === i)).toBe(true);
  });

  it('trades reward for cost with λ', () => {
    // Agent 2 is free, agents 0 and 1 cost 1 per call: with λ = 1 routing to 0/1 gains 1 − 1 = 0 < 0.55.
    const cheap = trainRouterHead({ ...data, costs: [1, 1, 0], lambda: 1, seed: 3, maxGenerations: 30 });
    const test = problem(100, 5);
    const { choices } = evaluateHead(cheap.head, test.features, test.outcomes);
    expect(choices.filter((c) => c === 2).length).toBeGreaterThan(90);
  });

  it('resumes from a JSON checkpoint bit-for-bit', () => {
    const straight = trainRouterHead({ ...data, seed: 5, maxGenerations: 12 });
    let saved: TrainingCheckpoint | undefined;
    trainRouterHead({
      ...data,
      seed: 5,
      maxGenerations: 6,
      onCheckpoint: (c) => {
        saved = JSON.parse(JSON.stringify(c));
      },
    });
    expect(saved?.history.length).toBe(7);
    const resumed = trainRouterHead({ ...data, seed: 5, maxGenerations: 12, resume: saved! });
    expect(resumed.history).toEqual(straight.history);
    expect(Array.from(resumed.head.weights)).toEqual(Array.from(straight.head.weights));
  });

  it('reports progress, honours abort, validates shapes', () => {
    const seen: number[] = [];
    trainRouterHead({ ...data, maxGenerations: 3, onProgress: (p) => seen.push(p.generation) });
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(() => trainRouterHead({ ...data, maxGenerations: 3, signal: AbortSignal.abort() })).toThrow(
      /aborted/,
    );
    expect(() => trainRouterHead({ features: data.features, outcomes: data.outcomes.slice(1) })).toThrow(
      /outcome rows/,
    );
    expect(() =>
      trainRouterHead({ features: data.features, outcomes: data.outcomes.map(() => [1, Number.NaN]) }),
    ).toThrow(/finite/);
    expect(() => trainRouterHead({ ...data, costs: [1, 2] })).toThrow(/costs/);
  });

  it('entropy bonus keeps the softmax flatter', () => {
    const plain = trainRouterHead({
      ...data,
      seed: 2,
      maxGenerations: 20,
      selection: 'final',
      init: 'zeros',
    });
    const flat = trainRouterHead({
      ...data,
      seed: 2,
      maxGenerations: 20,
      selection: 'final',
      init: 'zeros',
      entropyBonus: 5,
    });
    const norm = (w: Float64Array): number => Math.sqrt(w.reduce((s, x) => s + x * x, 0));
    expect(norm(flat.head.weights)).toBeLessThan(norm(plain.head.weights));
  });
});

describe('splitIndices', () => {
  it('is seeded, disjoint and complete', () => {
    const a = splitIndices(50, 0.2, 1);
    expect(a.validation).toHaveLength(10);
    expect(new Set([...a.train, ...a.validation]).size).toBe(50);
    expect(splitIndices(50, 0.2, 1)).toEqual(a);
    expect(splitIndices(50, 0.2, 2)).not.toEqual(a);
  });
});
