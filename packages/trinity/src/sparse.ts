/**
 * Sparse feature vectors: the non-zeros of a wide vector (hashed n-grams over 2^15–2^17 buckets, where a
 * prompt touches a few thousand). The wide composed backbone (`createWideConcatBackbone`) hands them to the
 * value-head trainer (conjugate-gradient ridge, `value-head.ts`) and to the router (`headLogits` reads only
 * the non-zeros), so neither ever holds a dense row per prompt.
 */
import { InvalidArgumentError } from '@openfugu/schema';

/** The non-zeros of a vector of length `dimension`: strictly increasing `indices` and their `values`. */
export interface SparseVector {
  readonly dimension: number;
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

/** A feature vector as trainers and heads take it: dense, or sparse. */
export type FeatureVector = ArrayLike<number> | SparseVector;

/** Whether `x` is a {@link SparseVector} (not a dense array). */
export function isSparseVector(x: unknown): x is SparseVector {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x as Partial<SparseVector>).indices instanceof Int32Array &&
    (x as Partial<SparseVector>).values instanceof Float32Array
  );
}

/** The length of a dense or sparse feature vector. */
export function featureLength(x: FeatureVector): number {
  return isSparseVector(x) ? x.dimension : x.length;
}

/**
 * The non-zeros of a dense vector (`scale` multiplies every value: a concat part's weight).
 *
 * @example
 * ```ts
 * toSparse([0, 2, 0, 3]); // { dimension: 4, indices: [1, 3], values: [2, 3] }
 * ```
 */
export function toSparse(dense: ArrayLike<number>, scale = 1): SparseVector {
  let nnz = 0;
  for (let i = 0; i < dense.length; i++) if (dense[i] !== 0) nnz++;
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let j = 0;
  for (let i = 0; i < dense.length; i++) {
    const v = dense[i]!;
    if (v !== 0) {
      indices[j] = i;
      values[j++] = v * scale;
    }
  }
  return { dimension: dense.length, indices, values };
}

/** The dense vector of a sparse one. */
export function toDense(x: SparseVector): Float32Array {
  const out = new Float32Array(x.dimension);
  for (let j = 0; j < x.indices.length; j++) out[x.indices[j]!] = x.values[j]!;
  return out;
}

/**
 * Joins sparse parts end to end (part `i`'s indices shifted by the dimensions before it), e.g. the blocks
 * of a concatenated backbone.
 */
export function concatSparse(parts: readonly SparseVector[]): SparseVector {
  let nnz = 0;
  let dimension = 0;
  for (const p of parts) {
    nnz += p.indices.length;
    dimension += p.dimension;
  }
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let offset = 0;
  let at = 0;
  for (const p of parts) {
    for (let j = 0; j < p.indices.length; j++) indices[at + j] = p.indices[j]! + offset;
    values.set(p.values, at);
    at += p.indices.length;
    offset += p.dimension;
  }
  return { dimension, indices, values };
}

/** Checks a sparse vector's invariants (indices strictly increasing and inside the dimension, values finite). */
export function checkSparseVector(x: SparseVector, argument = 'features'): void {
  if (x.indices.length !== x.values.length) {
    throw new InvalidArgumentError({
      argument,
      message: `sparse vector has ${x.indices.length} indices but ${x.values.length} values`,
    });
  }
  let previous = -1;
  for (let j = 0; j < x.indices.length; j++) {
    const i = x.indices[j]!;
    if (!(i > previous && i < x.dimension)) {
      throw new InvalidArgumentError({
        argument,
        message: `sparse vector indices must increase strictly inside [0, ${x.dimension}), got ${i} after ${previous}`,
      });
    }
    if (!Number.isFinite(x.values[j]!)) {
      throw new InvalidArgumentError({ argument, message: 'sparse vector values must be finite' });
    }
    previous = i;
  }
}
