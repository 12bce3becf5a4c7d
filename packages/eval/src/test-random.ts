import type { OutcomeTable } from './table.js';

/** mulberry32: a tiny seeded generator for this package's tests (not exported from the package). */
export function testRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Synthetic two-model pool for tests: prompts about "math" are solved by `mathy`, the rest by `wordy`;
 * `mathy` is better overall.
 */
export function syntheticTable(n: number, seed: number): OutcomeTable {
  const random = testRandom(seed);
  const prompts = Array.from({ length: n }, (_, i) => ({
    id: String(i),
    text: i % 5 < 3 ? `math question ${i}: add ${i} and ${i + 1}` : `write a poem about item ${i}`,
    subset: i % 5 < 3 ? 'math' : 'writing',
  }));
  const outcomes = new Float64Array(n * 2);
  prompts.forEach((p, i) => {
    const math = p.subset === 'math';
    outcomes[i * 2] = random() < (math ? 0.95 : 0.3) ? 1 : 0;
    outcomes[i * 2 + 1] = random() < (math ? 0.2 : 0.9) ? 1 : 0;
  });
  return { format: 'generic', name: 'synthetic', prompts, models: ['mathy', 'wordy'], outcomes };
}
