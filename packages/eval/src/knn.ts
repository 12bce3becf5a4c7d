/**
 * A k-nearest-neighbour router baseline on the same features as the trained heads: a prompt's utility for
 * each model is the mean outcome of that model on the k most cosine-similar training prompts.
 */
import { topKIndices } from '@openfugu/trinity';
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
  const nonzero = new Int32Array(queries[0]?.length ?? 0);
  queries.forEach((query, q) => {
    const queryNorm = Math.sqrt(dot(query, query)) || 1;
    // Short prompts give sparse hashing features: then the dot products run over the query's non-zeros only.
    let nnz = 0;
    for (let j = 0; j < query.length; j++) if (query[j] !== 0) nonzero[nnz++] = j;
    for (let i = 0; i < n; i++) {
      const row = trainFeatures[i]!;
      if (nnz * 2 > query.length) {
        scores[i] = dot(query, row) / (queryNorm * norms[i]!);
        continue;
      }
      let sum = 0;
      for (let t = 0; t < nnz; t++) {
        const j = nonzero[t]!;
        sum += query[j]! * row[j]!;
      }
      scores[i] = sum / (queryNorm * norms[i]!);
    }
    const filled = topKIndices(scores, kk, top);
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
