import { createRng } from '@openfugu/cmaes';
import { describe, expect, it } from 'vitest';
import { type HeadCheckpoint, trainHead, trainRidgeHead, valueRoutedReward } from './head.js';

/** 120 prompts, 12-d unit features, 3 models; the rewarded model is the argmax of a hidden linear map. */
function synthetic(): { features: Float32Array[]; outcomes: number[][] } {
  const rng = createRng(42);
  const hidden = Array.from({ length: 3 * 12 }, () => rng.gaussian());
  const features: Float32Array[] = [];
  const outcomes: number[][] = [];
  for (let p = 0; p < 120; p++) {
    const x = Float32Array.from({ length: 12 }, () => rng.gaussian());
    const norm = Math.hypot(...x);
    for (let i = 0; i < 12; i++) x[i]! /= norm;
    const scores = [0, 1, 2].map((a) => x.reduce((s, v, i) => s + v * hidden[a * 12 + i]!, 0));
    const best = scores.indexOf(Math.max(...scores));
    features.push(x);
    outcomes.push([0, 1, 2].map((a) => (a === best ? 1 : 0)));
  }
  return { features, outcomes };
}

const models = ['a', 'b', 'c'];

describe.each(['cmaes', 'grpo'] as const)('trainHead (%s)', (trainer) => {
  const { features, outcomes } = synthetic();
  const base = { trainer, features, outcomes, models, seed: 3, grpo: { batchSize: 16 } };

  it('resumes from a JSON checkpoint to the same head, bit for bit', () => {
    const straight = trainHead({ ...base, generations: 8 });
    const checkpoints: string[] = [];
    trainHead({
      ...base,
      generations: 3,
      checkpointEvery: 2,
      onCheckpoint: (cp) => checkpoints.push(JSON.stringify(cp)),
    });
    // Checkpoints at generation 2 and the final one at 3.
    expect(checkpoints.length).toBe(2);
    const resumed = trainHead({
      ...base,
      generations: 8,
      resume: JSON.parse(checkpoints.at(-1)!) as HeadCheckpoint,
    });
    expect(Array.from(resumed.head.weights)).toEqual(Array.from(straight.head.weights));
    expect(resumed.curve).toEqual(straight.curve);
    expect(resumed.selectedGeneration).toBe(straight.selectedGeneration);
    expect(resumed.evaluations).toBe(straight.evaluations);
    // Resuming from the generation-2 checkpoint also lands on the same head.
    const fromTwo = trainHead({
      ...base,
      generations: 8,
      resume: JSON.parse(checkpoints[0]!) as HeadCheckpoint,
    });
    expect(Array.from(fromTwo.head.weights)).toEqual(Array.from(straight.head.weights));
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = trainHead({ ...base, generations: 4 });
    const b = trainHead({ ...base, generations: 4 });
    const c = trainHead({ ...base, seed: 4, generations: 4 });
    expect(Array.from(a.head.weights)).toEqual(Array.from(b.head.weights));
    expect(Array.from(a.head.weights)).not.toEqual(Array.from(c.head.weights));
  });

  it('learns the synthetic routing task (validation reward above uniform 1/3 and above generation 0)', () => {
    const result = trainHead({ ...base, generations: 15 });
    const first = result.curve[0]!;
    const selected = result.curve.find((c) => c.generation === result.selectedGeneration)!;
    expect(selected.validation!).toBeGreaterThan(0.6);
    expect(selected.validation!).toBeGreaterThan(first.validation!);
    // Reward evaluations follow the budget rule: per generation the same for both trainers (± rounding).
    expect(result.evaluationsPerGeneration).toBeGreaterThan(0);
    expect(result.curve.at(-1)!.evaluations).toBe(result.evaluations);
  });

  it('refuses a checkpoint written with other settings', () => {
    const checkpoints: HeadCheckpoint[] = [];
    trainHead({ ...base, generations: 2, onCheckpoint: (cp) => checkpoints.push(cp) });
    expect(() => trainHead({ ...base, seed: 9, generations: 4, resume: checkpoints.at(-1)! })).toThrow(
      /seed/,
    );
  });
});

describe('trainHead budget', () => {
  it('gives GRPO the same reward evaluations per generation as CMA-ES (within one step)', () => {
    const { features, outcomes } = synthetic();
    const c = trainHead({ trainer: 'cmaes', features, outcomes, models, seed: 1, generations: 2 });
    const g = trainHead({
      trainer: 'grpo',
      features,
      outcomes,
      models,
      seed: 1,
      generations: 2,
      grpo: { batchSize: 16 },
    });
    // λ = 4 + ⌊3 ln 36⌋ = 14; 96 training prompts → 1344 lookups per generation; GRPO: 16 × 8 = 128 per step.
    expect(c.evaluationsPerGeneration).toBe(14 * 96);
    expect(g.evaluationsPerGeneration).toBe(Math.round(1344 / 128) * 128);
    expect(c.curve.map((p) => p.evaluations)).toEqual([0, 1344, 2688]);
    expect(g.curve.map((p) => p.evaluations)).toEqual([0, 1408, 2816]);
  });
});

describe('trainRidgeHead', () => {
  it('fits the synthetic routing task in one pass; more than two models choose λ by held-out loss', () => {
    const { features, outcomes } = synthetic();
    const train = { features: features.slice(0, 90), outcomes: outcomes.slice(0, 90) };
    const result = trainRidgeHead({ ...train, models, backboneId: 'test-backbone', seed: 1 });
    expect(result.criterion).toBe('loss');
    expect(result.solver).toBe('cholesky');
    expect(result.cv.map((c) => c.lambda)).toContain(result.lambda);
    expect(result.head.backboneId).toBe('test-backbone');
    expect(result.head.agents).toEqual(models);
    expect(result.head.agentBias).toHaveLength(3);
    // Held-out prompts: well above the uniform 1/3 of a router that ignores the prompt.
    expect(valueRoutedReward(result.head, features.slice(90), outcomes.slice(90))).toBeGreaterThan(0.6);
    const again = trainRidgeHead({ ...train, models, backboneId: 'test-backbone', seed: 1 });
    expect(Array.from(again.head.weights)).toEqual(Array.from(result.head.weights));
    expect(() =>
      trainRidgeHead({ ...train, outcomes: train.outcomes.map((r) => [r[0]!]), models: ['a'], seed: 1 }),
    ).toThrow(/at least 2 models/);
  });
});
