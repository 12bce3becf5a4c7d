/**
 * Request metadata as features: an application often knows what kind of task it sends (a category such as
 * MMLU's subject, or free tags). `categoryFeatures` hashes the tags into a fixed-size block (FNV-1a 32-bit
 * of the NFKC-lower-cased, trimmed tag, bucket = hash mod dimension, value 1/√tags), appended after the
 * backbone's vector. A head trained with such a block records it in its backbone id as
 * `<backbone id>&category-v1:d<dimension>` ({@link withCategoryId}); routing with a head whose id lacks the
 * suffix ignores any category (see `createValueRouter`). Pure.
 */
import { InvalidArgumentError } from '@openfugu/schema';
import { concatSparse, isSparseVector, type SparseVector, toSparse } from './sparse.js';

const CATEGORY_PATTERN = /^(.*)&category-v1:d(\d+)$/;

/** The hashed category block for `tags` (an empty list or only blank tags gives zeros). */
export function categoryFeatures(tags: readonly string[], dimension: number): Float32Array {
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new InvalidArgumentError({
      argument: 'dimension',
      message: `dimension must be a positive integer, got ${dimension}`,
    });
  }
  const out = new Float32Array(dimension);
  const keys = tags.map((t) => t.normalize('NFKC').trim().toLowerCase()).filter((t) => t.length > 0);
  if (keys.length === 0) return out;
  const value = 1 / Math.sqrt(keys.length);
  for (const key of keys) {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) {
      h ^= key.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    out[(h >>> 0) % dimension]! += value;
  }
  return out;
}

/**
 * `vector` followed by the category block of `tags` (`dimension` 0: `vector` itself, no copy) — the input of a
 * head trained with a category block. A sparse vector stays sparse.
 */
export function withCategoryFeatures(
  vector: Float32Array | SparseVector,
  tags: string | readonly string[] | undefined,
  dimension: number,
): Float32Array | SparseVector {
  if (dimension === 0) return vector;
  const list = tags === undefined ? [] : typeof tags === 'string' ? [tags] : tags;
  if (isSparseVector(vector)) return concatSparse([vector, toSparse(categoryFeatures(list, dimension))]);
  const out = new Float32Array(vector.length + dimension);
  out.set(vector);
  out.set(categoryFeatures(list, dimension), vector.length);
  return out;
}

/** The backbone id of a head trained on `backboneId` features followed by a category block. */
export function withCategoryId(backboneId: string, dimension: number): string {
  return `${backboneId}&category-v1:d${dimension}`;
}

/** Splits a head's backbone id into the text backbone's id and the category block size (0 when none). */
export function parseCategoryId(id: string): { backboneId: string; categoryDimension: number } {
  const m = CATEGORY_PATTERN.exec(id);
  return m === null
    ? { backboneId: id, categoryDimension: 0 }
    : { backboneId: m[1]!, categoryDimension: Number(m[2]) };
}
