/**
 * A k-nearest-neighbour router baseline on the same features as the trained heads: a prompt's utility for
 * each model is the mean outcome of that model on the k most cosine-similar training prompts.
 */
import type { OutcomeTable } from './table.js';
import { outcomeAt } from './table.js';

/** Returns prompts × models utilities for `queries` from the training table and features. */
export function knnUtilities(
  train: OutcomeTable,
  trainFeatures: readonly Float32Array[],
  queries: readonly Float32Array[],
  k = 20,
): Float64Array {
  const models = train.models.length;
  const n = trainFeatures.length;
  const kk = Math.max(1, Math.min(k, n));
  const norms = trainFeatures.map((f) => Math.sqrt(dot(f, f)) || 1);
  const utilities = new Float64Array(queries.length * models);
  const scores = new Float64Array(n);
  const top = new Int32Array(kk);
  queries.forEach((query, q) => {
    const queryNorm = Math.sqrt(dot(query, query)) || 1;
    for (let i = 0; i < n; i++) scores[i] = dot(query, trainFeatures[i]!) / (queryNorm * norms[i]!);
    // Partial selection of the k best (k is small).
    let filled = 0;
    for (let i = 0; i < n; i++) {
      const s = scores[i]!;
      if (filled < kk) {
        let j = filled++;
        while (j > 0 && scores[top[j - 1]!]! < s) {
          top[j] = top[j - 1]!;
          j--;
        }
        top[j] = i;
      } else if (s > scores[top[kk - 1]!]!) {
        let j = kk - 1;
        while (j > 0 && scores[top[j - 1]!]! < s) {
          top[j] = top[j - 1]!;
          j--;
        }
        top[j] = i;
      }
    }
    for (let m = 0; m < models; m++) {
      let sum = 0;
      let count = 0;
      for (let j = 0; j < filled; j++) {
        const v = outcomeAt(train, top[j]!, m);
        if (!Number.isNaN(v)) {
          sum += v;
          count++;
        }
      }
      utilities[q * models + m] = count === 0 ? 0 : sum / count;
    }
  });
  return utilities;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
