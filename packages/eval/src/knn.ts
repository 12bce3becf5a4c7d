/**
 * The k-nearest-neighbour router baseline of the routing reports, on the same features as the trained heads:
 * a prompt's utility for each model is the mean outcome of that model on the k most cosine-similar training
 * prompts. It is `@openfugu/trinity`'s kNN index (`createKnnIndex`, with its sparse fast path) at a fixed k;
 * the `knn` trainer is the same index with k chosen by cross-validation (`trainKnnRouter`).
 */
import { createKnnIndex, type SparseVector } from '@openfugu/trinity';
import type { OutcomeTable } from './table.js';

/**
 * Returns prompts × models utilities for `queries` from the training table and features (k below 1 counts
 * as 1; a missing outcome, NaN, is left out of its model's mean).
 *
 * @example
 * ```ts
 * const utilities = knnUtilities(train, trainFeatures, testFeatures, 20); // test prompts × models
 * ```
 */
export function knnUtilities(
  train: OutcomeTable,
  trainFeatures: readonly (Float32Array | SparseVector)[],
  queries: readonly (Float32Array | SparseVector)[],
  k = 20,
): Float64Array {
  const models = train.models.length;
  const index = createKnnIndex({
    features: trainFeatures,
    outcomes: trainFeatures.map((_, p) => Array.from(train.outcomes.subarray(p * models, (p + 1) * models))),
    agents: train.models,
    k: Math.max(1, k),
  });
  const utilities = new Float64Array(queries.length * models);
  queries.forEach((query, q) => {
    utilities.set(index.predict(query), q * models);
  });
  return utilities;
}
