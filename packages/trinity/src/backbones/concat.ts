/**
 * Composed features: a backbone that concatenates other backbones' vectors, each scaled by a weight
 * (`createConcatBackbone`), with a stable id that names every part — `concat(1*hashing-v2:…+0.5*prompt-stats-v1)`
 * — recorded in heads (`backboneId`) and rebuilt by {@link createBackboneFromId}.
 *
 * The composed default (`createDefaultConcatBackbone`, issue 16): hashed word uni+bigrams (512-d, seed 1),
 * hashed character 3–5-grams (512-d, seed 2), the 20 prompt statistics of `prompt-stats.ts`, and — when a
 * loaded GloVe backbone is passed — 100-d SIF GloVe; all weights 1. Each hashing part is L2-normalised on its
 * own, so word and character evidence weigh the same whatever the prompt length.
 */
import { type Backbone, InvalidArgumentError } from '@openfugu/schema';
import { concatSparse, type SparseVector, toSparse } from '../sparse.js';
import { createGloveBackbone, type GloveBackbone } from './glove.js';
import { createHashingBackbone, createHashingBackboneFromId } from './hashing.js';
import { createPromptStatsBackbone, PROMPT_STATS_ID } from './prompt-stats.js';
import { isSyncBackbone, type SyncBackbone, throwIfAborted } from './types.js';

/** One part of a concatenation. */
export interface ConcatPart {
  backbone: Backbone;
  /** Multiplier of this part's vector (> 0). Default 1. */
  weight?: number;
}

/** A concatenation of backbones; `embedSync` works when every part has it (GloVe: once loaded). */
export interface ConcatBackbone extends SyncBackbone {
  readonly parts: readonly { backbone: Backbone; weight: number; offset: number }[];
  /** The same vector as `embedSync`, as its non-zeros (each part's own sparse embedding when it has one). */
  embedSparseSync(text: string): SparseVector;
}

/**
 * Concatenates `parts` (in order) into one backbone of dimension Σ parts' dimensions.
 *
 * @example
 * ```ts
 * const backbone = createConcatBackbone([
 *   { backbone: createHashingBackbone({ dimension: 512 }) },
 *   { backbone: createPromptStatsBackbone(), weight: 0.5 },
 * ]);
 * backbone.id; // 'concat(1*hashing-v2:d512:w1:b1:c3-5:s0+0.5*prompt-stats-v1)'
 * ```
 */
export function createConcatBackbone(parts: readonly ConcatPart[]): ConcatBackbone {
  if (parts.length === 0) {
    throw new InvalidArgumentError({ argument: 'parts', message: 'a concatenation needs at least one part' });
  }
  let offset = 0;
  const resolved = parts.map((part) => {
    const weight = part.weight ?? 1;
    if (!(weight > 0 && Number.isFinite(weight))) {
      throw new InvalidArgumentError({
        argument: 'weight',
        message: `part weights must be > 0, got ${weight}`,
      });
    }
    if (/[()+*]/.test(part.backbone.id)) {
      if (!part.backbone.id.startsWith('concat(')) {
        throw new InvalidArgumentError({
          argument: 'parts',
          message: `backbone id ${part.backbone.id} contains ( ) + or *, which a concat id cannot hold`,
        });
      }
    }
    const entry = { backbone: part.backbone, weight, offset };
    offset += part.backbone.dimension;
    return entry;
  });
  const dimension = offset;
  const id = `concat(${resolved.map((p) => `${p.weight}*${p.backbone.id}`).join('+')})`;
  const assemble = (vectors: readonly Float32Array[]): Float32Array => {
    const out = new Float32Array(dimension);
    resolved.forEach((p, i) => {
      const v = vectors[i]!;
      if (p.weight === 1) out.set(v, p.offset);
      else for (let j = 0; j < v.length; j++) out[p.offset + j] = p.weight * v[j]!;
    });
    return out;
  };
  return {
    id,
    dimension,
    parts: resolved,
    embedSync(text) {
      return assemble(resolved.map((p) => syncPart(p.backbone).embedSync(text)));
    },
    embedSparseSync(text) {
      return concatSparse(
        resolved.map((p) => {
          const part = syncPart(p.backbone);
          if (!part.embedSparseSync) return toSparse(part.embedSync(text), p.weight);
          const sparse = part.embedSparseSync(text);
          return p.weight === 1 ? sparse : { ...sparse, values: sparse.values.map((v) => v * p.weight) };
        }),
      );
    },
    async embed(texts, options) {
      const perPart: Float32Array[][] = [];
      for (const p of resolved) {
        throwIfAborted(options?.signal);
        perPart.push(await p.backbone.embed(texts, options));
      }
      return texts.map((_, t) => assemble(perPart.map((vectors) => vectors[t]!)));
    },
    async dispose() {
      for (const p of resolved) await p.backbone.dispose?.();
    },
  };
}

/**
 * The composed default of issue 16: hashed words (512), hashed character n-grams (512), prompt statistics
 * (20) and, when given, GloVe (100). Dimension 1044 (1144 with GloVe). `wordDimension` / `charDimension`
 * widen the blocks (the eval CLI's `concat-wide` uses 1024 words: dimension 1556;
 * {@link createWideConcatBackbone} 2^15 + 2^16); the id records them (`hashing-v2:d1024:…`), so heads
 * trained on the 512-d default keep meaning the same vectors.
 */
export function createDefaultConcatBackbone(
  options: { glove?: GloveBackbone; wordDimension?: number; charDimension?: number } = {},
): ConcatBackbone {
  const parts: ConcatPart[] = [
    {
      backbone: createHashingBackbone({
        dimension: options.wordDimension ?? 512,
        charNgrams: false,
        seed: 1,
      }),
    },
    {
      backbone: createHashingBackbone({
        dimension: options.charDimension ?? 512,
        words: false,
        wordBigrams: false,
        seed: 2,
      }),
    },
    { backbone: createPromptStatsBackbone() },
  ];
  if (options.glove) parts.push({ backbone: options.glove });
  return createConcatBackbone(parts);
}

/** Word and character blocks of {@link createWideConcatBackbone}. */
export const WIDE_WORD_DIMENSION = 32768;
export const WIDE_CHAR_DIMENSION = 65536;

/**
 * The wide composition: the default's three parts with 2^15 hashed word uni+bigram buckets and 2^16
 * hashed character 3–5-gram buckets (dimension 98,324), so that few n-grams share a bucket. A prompt
 * touches a few thousand buckets: use it through `embedSparseSync` — the value-head trainer fits it by
 * conjugate gradients on the non-zeros and the router's head reads only those. On RouteLLM MMLU it ranks
 * prompts better than the 1,044-d default (docs/results.md, `--backbone concat-sparse`).
 */
export function createWideConcatBackbone(options: { glove?: GloveBackbone } = {}): ConcatBackbone {
  return createDefaultConcatBackbone({
    ...options,
    wordDimension: WIDE_WORD_DIMENSION,
    charDimension: WIDE_CHAR_DIMENSION,
  });
}

/** A part as a synchronous backbone; a typed error for one without `embedSync` (GloVe before `load()`). */
function syncPart(backbone: Backbone): SyncBackbone {
  if (!isSyncBackbone(backbone)) {
    throw new InvalidArgumentError({
      argument: 'backbone',
      message: `part ${backbone.id} has no embedSync; use embed()`,
    });
  }
  return backbone;
}

/** Splits a concat id's body on top-level `+` (nested `concat(…)` parts keep theirs). */
function splitTopLevel(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '+' && depth === 0) {
      out.push(body.slice(start, i));
      start = i + 1;
    }
  }
  out.push(body.slice(start));
  return out;
}

/**
 * Rebuilds the backbone a head was trained on from its id: `hashing-v1:…` / `hashing-v2:…`,
 * `prompt-stats-v1`, `glove-wink-sg-100d:…` (call `load()` on GloVe parts, or use `embed`, before
 * `embedSync`) and `concat(…)` of these. Throws `InvalidArgumentError` for any other id, and when the
 * rebuilt backbone's id differs from `id`.
 *
 * @example
 * ```ts
 * const backbone = createBackboneFromId(head.backboneId!);
 * const router = createRouter({ backbone, head });
 * ```
 */
export function createBackboneFromId(id: string): Backbone {
  let backbone: Backbone | undefined;
  if (id.startsWith('hashing-')) backbone = createHashingBackboneFromId(id);
  else if (id === PROMPT_STATS_ID) backbone = createPromptStatsBackbone();
  else if (id.startsWith('glove-wink-sg-100d:')) {
    const m = /^glove-wink-sg-100d:(sif|mean)(?::a(.+))?$/.exec(id);
    if (m !== null) {
      backbone = createGloveBackbone({
        pooling: m[1] as 'sif' | 'mean',
        ...(m[2] === undefined ? {} : { sifA: Number(m[2]) }),
      });
    }
  } else if (id.startsWith('concat(') && id.endsWith(')')) {
    const parts = splitTopLevel(id.slice('concat('.length, -1)).map((part) => {
      const star = part.indexOf('*');
      const weight = Number(part.slice(0, star));
      if (star < 0 || !(weight > 0 && Number.isFinite(weight))) return undefined;
      return { weight, backbone: createBackboneFromId(part.slice(star + 1)) };
    });
    if (parts.every((p) => p !== undefined)) backbone = createConcatBackbone(parts);
  }
  if (backbone?.id !== id) {
    throw new InvalidArgumentError({
      argument: 'id',
      message: `cannot rebuild a backbone from id ${JSON.stringify(id)} (known: hashing-v1/v2, prompt-stats-v1, glove-wink-sg-100d, concat(…) of these)`,
    });
  }
  return backbone;
}

/** True for ids that describe their backbone completely (so two different ids mean different vectors). */
export function isSelfDescribingBackboneId(id: string): boolean {
  return id.startsWith('hashing-') || id.startsWith('concat(') || id === PROMPT_STATS_ID;
}
