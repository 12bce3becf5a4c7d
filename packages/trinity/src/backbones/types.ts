import type { AbortSignalLike, Backbone } from '@openfugu/schema';
import { AbortedError } from '@openfugu/schema';
import type { SparseVector } from '../sparse.js';

/** A backbone that can also embed one text synchronously (the router's hot path uses it when present). */
export interface SyncBackbone extends Backbone {
  /** Embed one text synchronously; same result as `embed([text])[0]`. */
  embedSync(text: string): Float32Array;
  /**
   * The same vector as `embedSync`, as its non-zeros — offered by wide backbones (hashed n-grams over
   * 2^15+ buckets), where routers and trainers read only the non-zeros.
   */
  embedSparseSync?(text: string): SparseVector;
}

/** True when `backbone` offers `embedSync`. */
/**
 * The vector a head reads for `text`: the backbone's non-zeros when it offers them (`embedSparseSync`, the
 * hashing and concat backbones), its dense embedding otherwise — the same logits either way.
 */
export function embedForHead(backbone: SyncBackbone, text: string): Float32Array | SparseVector {
  return backbone.embedSparseSync ? backbone.embedSparseSync(text) : backbone.embedSync(text);
}

export function isSyncBackbone(backbone: Backbone): backbone is SyncBackbone {
  return typeof (backbone as Partial<SyncBackbone>).embedSync === 'function';
}

/** Throws `AbortedError` when the signal has fired (checked between texts of a batch). */
export function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
}

/** Scales `vector` in place to unit L2 norm (an all-zero vector stays zero). Returns it. */
export function l2NormalizeInPlace(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  if (sum > 0) {
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < vector.length; i++) vector[i]! *= inv;
  }
  return vector;
}
