import { describe, expect, it } from 'vitest';
import { knnUtilities } from './knn.js';
import type { OutcomeTable } from './table.js';

describe('knnUtilities (the kNN baseline of the routing report)', () => {
  // Four training prompts in two directions; one outcome is missing (NaN).
  const train: OutcomeTable = {
    format: 'generic',
    name: 'tiny',
    prompts: ['a', 'b', 'c', 'd'].map((id) => ({ id, text: id })),
    models: ['strong', 'weak'],
    outcomes: Float64Array.of(1, 0, 1, Number.NaN, 0, 1, 0, 0),
  };
  const features = [
    Float32Array.of(1, 0),
    Float32Array.of(2, 0.1),
    Float32Array.of(0, 1),
    Float32Array.of(0.1, 3),
  ];

  it('averages each model over the k most cosine-similar training prompts (hand-computed)', () => {
    const utilities = knnUtilities(train, features, [Float32Array.of(5, 0), Float32Array.of(0, 1)], 2);
    // Query 0 → prompts a, b: strong (1 + 1) / 2, weak 0 / 1 (b's weak outcome is missing).
    // Query 1 → prompts c, d: strong 0, weak (1 + 0) / 2.
    expect(Array.from(utilities)).toEqual([1, 0, 0, 0.5]);
    // k below 1 counts as 1; k above the table size uses every prompt.
    expect(Array.from(knnUtilities(train, features, [Float32Array.of(0, 1)], 0))).toEqual([0, 1]);
    expect(Array.from(knnUtilities(train, features, [Float32Array.of(0, 1)], 10))).toEqual([0.5, 1 / 3]);
  });
});
