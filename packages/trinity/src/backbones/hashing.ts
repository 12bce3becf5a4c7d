/**
 * The zero-dependency default backbone: signed feature hashing ("the hashing trick", Weinberger et al.
 * 2009) of word unigrams, word bigrams and character n-grams, with sublinear term frequency and L2
 * normalisation.
 *
 * Pipeline for one text (v1):
 * 1. Unicode NFKC normalisation, then lower-casing (`String.prototype.normalize` / `toLowerCase`).
 * 2. Runs of whitespace collapse to one space; the text is padded with one space on each side so that
 *    character n-grams see word starts and ends.
 * 3. Features: every word (a maximal run of letters, marks and digits — `\p{L}\p{M}\p{N}`; other non-ASCII
 *    code units such as surrogate halves of emoji count as word characters), every pair of adjacent words,
 *    and every character n-gram (default 3–5 UTF-16 code units) of the collapsed text, punctuation included.
 * 4. Each distinct feature gets a 32-bit hash (FNV-1a over UTF-16 code units, family-salted, finalised with
 *    MurmurHash3's fmix32). Its count `tf` in this text becomes `weight · (1 + ln tf)`; the hash's low bits
 *    pick the bucket and its top bit the sign (signed hashing keeps inner products unbiased under
 *    collisions).
 * 5. The vector is scaled to unit L2 norm (an empty text gives the zero vector).
 *
 * That is `hashing-v1` (exact per-feature counts; ids `hashing-v1:…`), frozen bit for bit because trained heads
 * record it. `hashing-v2` (`version: 2`, ids `hashing-v2:…`, hashing-v2.ts) reads the same features but counts
 * them per hashed bucket, with cheaper hashes: 2–3× faster, different coordinates, the same geometry up
 * to hashing noise. {@link createHashingBackboneFromId} rebuilds whichever version a head records.
 *
 * Deterministic (no randomness, no locale-dependent behaviour except Unicode case mapping, which is
 * locale-independent in `toLowerCase`), allocation-light (scratch buffers are reused between calls; not re-entrant, which synchronous JS never needs) and
 * synchronous, so `embedSync` is the router's hot path.
 */
import type { AbortSignalLike } from '@openfugu/schema';
import { InvalidArgumentError } from '@openfugu/schema';
import { type SparseVector, toSparse } from '../sparse.js';
import {
  createCodeBuffer,
  FNV_OFFSET,
  FNV_PRIME,
  fmix32,
  isWordChar,
  prepareCodes,
  TF,
  TF_SIZE,
} from './hashing-text.js';
import { createHashingV2Embed, type HashingV2Config as HashingKernelConfig } from './hashing-v2.js';
import { type SyncBackbone, throwIfAborted } from './types.js';

/** Settings of {@link createHashingBackbone}. */
export interface HashingBackboneSettings {
  /** Output length. Default 1024 (the size of the published TRINITY head rows). */
  dimension?: number;
  /** Hash word unigrams. Default true. */
  words?: boolean;
  /** Hash adjacent word pairs. Default true. */
  wordBigrams?: boolean;
  /** Inclusive character n-gram range `[min, max]`, or `false` for none. Default `[3, 5]`. */
  charNgrams?: readonly [number, number] | false;
  /** Per-family multipliers applied after sublinear TF. Defaults: words 1, bigrams 1, chars 1. */
  weights?: { words?: number; bigrams?: number; chars?: number };
  /** Hash salt; different seeds give independent hashings. Default 0. */
  seed?: number;
  /**
   * Algorithm version, recorded in the id (`hashing-v1:…` / `hashing-v2:…`). 1: exact per-feature counts
   * (`weight · (1 + ln tf)` per distinct feature), frozen bit for bit for heads trained on it. 2: the same
   * features, buckets and signs counted per bucket (sublinear TF applied to each bucket's signed count),
   * 2–3× faster; see hashing-v2.ts for every difference. Default 2 (a head
   * trained on v1 records `hashing-v1:…` and is rebuilt with {@link createHashingBackboneFromId}).
   */
  version?: HashingVersion;
}

/** Versions of the hashing algorithm (see {@link HashingBackboneSettings.version}). */
export type HashingVersion = 1 | 2;

/** The hashing backbone: a {@link SyncBackbone} with its resolved settings. */
export interface HashingBackbone extends SyncBackbone {
  readonly settings: Readonly<Required<Omit<HashingBackboneSettings, 'weights'>>> & {
    readonly weights: Readonly<{ words: number; bigrams: number; chars: number }>;
  };
  /**
   * The non-zeros of `embedSync(text)`, bit for bit. v2 finishes only the buckets the text touched, so a wide
   * backbone (2^15+ buckets) never fills or scans a dense output; v1 converts its dense vector.
   */
  embedSparseSync(text: string): SparseVector;
}

/**
 * The version {@link createHashingBackbone} uses when `settings.version` is not given. Heads record their
 * backbone's id, so a head trained on another version is rebuilt with {@link createHashingBackboneFromId}.
 */
export const DEFAULT_HASHING_VERSION: HashingVersion = 2;

const SALT_WORD = 0x9e3779b1;
const SALT_BIGRAM = 0x85ebca77;
const SALT_CHAR = 0xc2b2ae3d;
const FAMILY_WORD = 0;
const FAMILY_BIGRAM = 1;
const FAMILY_CHAR = 2;
/** Smallest feature-table capacity (slots); capacities are powers of two. */
const MIN_CAPACITY = 1024;
/** Largest fraction of table slots in use before the table doubles (linear probing stays short). */
const MAX_LOAD = 0.5;
/**
 * Counts one occurrence of `key` in the feature table (a new key gets `family` and is appended to
 * `usedSlots`). Returns the new number of used slots. The caller keeps the load factor below 1.
 */
function insert(
  entries: Int32Array,
  usedSlots: Int32Array,
  mask: number,
  used: number,
  key: number,
  family: number,
): number {
  let slot = key & mask;
  for (;;) {
    const base = slot << 1;
    const meta = entries[base + 1]!;
    if (meta === 0) {
      entries[base] = key;
      entries[base + 1] = 4 + family;
      usedSlots[used] = base;
      return used + 1;
    }
    if (entries[base] === key) {
      entries[base + 1] = meta + 4;
      return used;
    }
    slot = (slot + 1) & mask;
  }
}

/**
 * Adds the word (`flags & 1`) and adjacent-word-pair (`flags & 2`) features of `buffer[0, length)`; returns
 * the new used count. The caller guarantees room for one word and one pair per two code units.
 */
function hashWords(
  buffer: Uint16Array,
  length: number,
  entries: Int32Array,
  usedSlots: Int32Array,
  mask: number,
  used: number,
  flags: number,
  saltWord: number,
  saltBigram: number,
): number {
  let inWord = false;
  let h = 0;
  let previous = 0;
  let hasPrevious = false;
  for (let i = 0; i < length; i++) {
    const c = buffer[i]!;
    const wordChar = c < 128 ? (c >= 97 && c <= 122) || (c >= 48 && c <= 57) : isWordChar(c);
    if (wordChar) {
      if (!inWord) {
        inWord = true;
        h = FNV_OFFSET;
      }
      h = Math.imul(h ^ c, FNV_PRIME);
    } else if (inWord) {
      inWord = false;
      if ((flags & 1) !== 0) used = insert(entries, usedSlots, mask, used, fmix32(h ^ saltWord), FAMILY_WORD);
      if ((flags & 2) !== 0 && hasPrevious) {
        const key = fmix32(Math.imul(previous, 0x9e3779b1) ^ h ^ saltBigram);
        used = insert(entries, usedSlots, mask, used, key, FAMILY_BIGRAM);
      }
      previous = h;
      hasPrevious = true;
    }
  }
  return used;
}

/**
 * The default character 3–5-grams, unrolled: three features per start position from one FNV-1a chain,
 * from position `io[0]` while five code units remain and the table has room (`io[1]` used ≤ `limit`).
 * Writes the next position and the used count back to `io`.
 */
function hashCharNgrams35(
  buffer: Uint16Array,
  length: number,
  entries: Int32Array,
  usedSlots: Int32Array,
  mask: number,
  limit: number,
  salt: number,
  io: Int32Array,
): void {
  let i = io[0]!;
  let used = io[1]!;
  for (; i + 5 <= length && used <= limit; i++) {
    const h2 = Math.imul(Math.imul(salt ^ buffer[i]!, FNV_PRIME) ^ buffer[i + 1]!, FNV_PRIME);
    const h3 = Math.imul(h2 ^ buffer[i + 2]!, FNV_PRIME);
    const h4 = Math.imul(h3 ^ buffer[i + 3]!, FNV_PRIME);
    const h5 = Math.imul(h4 ^ buffer[i + 4]!, FNV_PRIME);
    used = insert(entries, usedSlots, mask, used, fmix32(h3), FAMILY_CHAR);
    used = insert(entries, usedSlots, mask, used, fmix32(h4), FAMILY_CHAR);
    used = insert(entries, usedSlots, mask, used, fmix32(h5), FAMILY_CHAR);
  }
  io[0] = i;
  io[1] = used;
}

/**
 * Character `minN`–`maxN`-grams from position `io[0]` while the table has room: per start position, hash
 * the first `minN − 1` code units, then extend the FNV-1a chain one unit per feature (shortest first).
 */
function hashCharNgrams(
  buffer: Uint16Array,
  length: number,
  minN: number,
  maxN: number,
  entries: Int32Array,
  usedSlots: Int32Array,
  mask: number,
  limit: number,
  salt: number,
  io: Int32Array,
): void {
  let i = io[0]!;
  let used = io[1]!;
  for (; i + minN <= length && used <= limit; i++) {
    let h = salt;
    for (let j = i; j < i + minN - 1; j++) h = Math.imul(h ^ buffer[j]!, FNV_PRIME);
    const end = Math.min(i + maxN, length);
    for (let j = i + minN - 1; j < end; j++) {
      h = Math.imul(h ^ buffer[j]!, FNV_PRIME);
      used = insert(entries, usedSlots, mask, used, fmix32(h), FAMILY_CHAR);
    }
  }
  io[0] = i;
  io[1] = used;
}

/**
 * Runs the kernels once on a small text with a tiny table at module load, so that every path (new key,
 * repeated key, probing past a collision) has type feedback before V8 optimises them. Without it the first
 * optimisation can happen mid-call before a path ran, and the deoptimisations that follow sometimes leave
 * the hot loop unoptimised for the rest of the process (measured: 70 vs 90+ µs per 2 KB text, at random).
 * The warm-up has no effect on results: the kernels are pure functions of their arguments.
 */
function warmUpKernels(): void {
  const sample = ' the cat sat on the mat; the cat sat on the hat. 0123 abc abc abc xyz xyz ';
  const buffer = new Uint16Array(sample.length);
  for (let i = 0; i < sample.length; i++) buffer[i] = sample.charCodeAt(i);
  const io = new Int32Array(2);
  for (let round = 0; round < 40; round++) {
    const capacity = round % 2 === 0 ? 256 : 1024;
    const limit = capacity / 2;
    const entries = new Int32Array(capacity * 2);
    const usedSlots = new Int32Array(capacity);
    io[0] = 0;
    io[1] = hashWords(buffer, buffer.length, entries, usedSlots, capacity - 1, 0, 3, round, round + 1);
    hashCharNgrams35(buffer, buffer.length, entries, usedSlots, capacity - 1, limit, round, io);
    hashCharNgrams(buffer, buffer.length, 3, 5, entries, usedSlots, capacity - 1, limit, round, io);
  }
}
warmUpKernels();

/**
 * Creates the hashing backbone (zero dependencies, deterministic, microseconds per text).
 *
 * Defaults: `dimension` 1024, word unigrams and bigrams, character 3–5-grams, all family weights 1, seed 0,
 * `version` 2. Its `id` encodes every setting (e.g. `hashing-v2:d1024:w1:b1:c3-5:s0`) so a head trained on one
 * configuration is never silently used with another.
 *
 * @example
 * ```ts
 * const backbone = createHashingBackbone({ dimension: 1024 });
 * const v = backbone.embedSync('user: What is 2 + 2?'); // Float32Array(1024), unit norm
 * ```
 */
export function createHashingBackbone(settings: HashingBackboneSettings = {}): HashingBackbone {
  const dimension = settings.dimension ?? 1024;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 1 << 24) {
    throw new InvalidArgumentError({
      argument: 'dimension',
      message: `dimension must be an integer in [1, 2^24], got ${dimension}`,
    });
  }
  const words = settings.words ?? true;
  const wordBigrams = settings.wordBigrams ?? true;
  const charNgrams = settings.charNgrams === undefined ? ([3, 5] as const) : settings.charNgrams;
  if (charNgrams !== false) {
    const [lo, hi] = charNgrams;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo || hi > 16) {
      throw new InvalidArgumentError({
        argument: 'charNgrams',
        message: `charNgrams must be [min, max] with 1 <= min <= max <= 16, got [${lo}, ${hi}]`,
      });
    }
  }
  const weights = {
    words: settings.weights?.words ?? 1,
    bigrams: settings.weights?.bigrams ?? 1,
    chars: settings.weights?.chars ?? 1,
  };
  for (const [name, value] of Object.entries(weights)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new InvalidArgumentError({
        argument: `weights.${name}`,
        message: `weights.${name} must be a finite number >= 0, got ${value}`,
      });
    }
  }
  const seed = (settings.seed ?? 0) >>> 0;
  const version = settings.version ?? DEFAULT_HASHING_VERSION;
  if (version !== 1 && version !== 2) {
    throw new InvalidArgumentError({
      argument: 'version',
      message: `version must be 1 or 2, got ${String(version)}`,
    });
  }
  const minN = charNgrams === false ? 0 : charNgrams[0];
  const maxN = charNgrams === false ? 0 : charNgrams[1];
  const saltWord = (SALT_WORD ^ seed) >>> 0;
  const saltBigram = (SALT_BIGRAM ^ Math.imul(seed, 0x27d4eb2f)) >>> 0;
  const saltChar = (FNV_OFFSET ^ SALT_CHAR ^ Math.imul(seed, 0x165667b1)) >>> 0;

  const config: HashingKernelConfig = {
    dimension,
    words,
    wordBigrams,
    minN,
    maxN,
    weights,
    saltWord,
    saltBigram,
    saltChar,
  };
  const kernel =
    version === 1
      ? { embedSync: createHashingV1Embed(config), embedSparseSync: undefined }
      : createHashingV2Embed(config);
  const { embedSync } = kernel;
  const embedSparseSync = kernel.embedSparseSync ?? ((text: string) => toSparse(embedSync(text)));
  const id =
    `hashing-v${version}:d${dimension}:w${words ? 1 : 0}:b${wordBigrams ? 1 : 0}:` +
    `c${charNgrams === false ? 0 : `${minN}-${maxN}`}:s${seed}` +
    (weights.words !== 1 || weights.bigrams !== 1 || weights.chars !== 1
      ? `:x${weights.words},${weights.bigrams},${weights.chars}`
      : '');

  return {
    id,
    dimension,
    settings: {
      dimension,
      words,
      wordBigrams,
      charNgrams: charNgrams === false ? false : [minN, maxN],
      seed,
      weights,
      version,
    },
    embedSync,
    embedSparseSync,
    async embed(texts: readonly string[], options?: { signal?: AbortSignalLike }): Promise<Float32Array[]> {
      const result: Float32Array[] = [];
      for (const text of texts) {
        throwIfAborted(options?.signal);
        result.push(embedSync(text));
      }
      return result;
    },
  };
}

/**
 * Returns the `embedSync` of a `hashing-v1` backbone: exact per-feature counts in an open-addressing table,
 * `weight · (1 + ln tf)` per distinct feature added to the float32 output in first-insertion order. Its output
 * is frozen (heads trained on it record its id): bit-identity is pinned by hashing.test.ts.
 */
function createHashingV1Embed(config: HashingKernelConfig): (text: string) => Float32Array {
  const { dimension, words, wordBigrams, minN, maxN, weights, saltWord, saltBigram, saltChar } = config;
  const familyWeight = new Float64Array([weights.words, weights.bigrams, weights.chars]);
  const powerOfTwo = (dimension & (dimension - 1)) === 0;
  const bucketMask = dimension - 1;

  // Open-addressing table of distinct feature hashes (keys carry the family in their salt; a key seen by two
  // families is one feature, counted together under the family that saw it first): two int32 per slot,
  // [key, count · 4 + family], meta 0 = empty, so a probe touches one cache line. `tableUsed` lists the used
  // slots in first-insertion order — the order in which features are added to the output, which fixes the
  // float32 rounding, so it is part of the output's definition. Used slots are zeroed after each call, so a
  // call costs only what it touches.
  //
  // Speed comes from keeping the table small: the load factor is kept ≤ MAX_LOAD and each call starts at the
  // capacity the previous call ended with (capped by what this text could need), growing (rehashing in
  // first-insertion order) only when it fills up. A 2 KB English prompt has ~2,000–4,000 distinct features,
  // so the table is 32–64 KiB — L1/L2-resident — instead of the ~128 KiB its worst case would need.
  let table = new Int32Array(2 * MIN_CAPACITY);
  let tableUsed = new Int32Array(MIN_CAPACITY);
  let tableMask = MIN_CAPACITY - 1;
  let tableLimit = Math.floor(MIN_CAPACITY * MAX_LOAD);
  let usedCount = 0;
  let lastCapacity = MIN_CAPACITY;
  const scratch = createCodeBuffer();
  let rehashKeys = new Int32Array(0);
  let rehashMetas = new Int32Array(0);
  const io = new Int32Array(2);
  const wordFlags = (words ? 1 : 0) | (wordBigrams ? 2 : 0);

  /**
   * Picks this call's capacity (the table is all-empty between calls): room for `reserved` features, and
   * up to the previous call's capacity while this text could need it.
   */
  function resetTable(reserved: number, maxFeatures: number): void {
    let capacity = MIN_CAPACITY;
    while (capacity < lastCapacity && capacity * MAX_LOAD < maxFeatures) capacity *= 2;
    while (capacity * MAX_LOAD < reserved) capacity *= 2;
    setCapacity(capacity);
    usedCount = 0;
  }

  function setCapacity(capacity: number): void {
    if (capacity * 2 > table.length) table = new Int32Array(capacity * 2);
    if (capacity > tableUsed.length) {
      const grown = new Int32Array(capacity);
      grown.set(tableUsed.subarray(0, usedCount));
      tableUsed = grown;
    }
    tableMask = capacity - 1;
    tableLimit = Math.floor(capacity * MAX_LOAD);
  }

  /** Doubles the capacity and re-inserts every feature, keeping first-insertion order. */
  function grow(): void {
    const n = usedCount;
    if (rehashKeys.length < n) {
      rehashKeys = new Int32Array(n * 2);
      rehashMetas = new Int32Array(n * 2);
    }
    for (let u = 0; u < n; u++) {
      const base = tableUsed[u]!;
      rehashKeys[u] = table[base]!;
      rehashMetas[u] = table[base + 1]!;
      table[base + 1] = 0;
    }
    setCapacity((tableMask + 1) * 2);
    const mask = tableMask;
    for (let u = 0; u < n; u++) {
      const key = rehashKeys[u]!;
      let slot = key & mask;
      while (table[(slot << 1) + 1] !== 0) slot = (slot + 1) & mask;
      const base = slot << 1;
      table[base] = key;
      table[base + 1] = rehashMetas[u]!;
      tableUsed[u] = base;
    }
  }

  function embedSync(text: string): Float32Array {
    const out = new Float32Array(dimension);
    // Collapse whitespace and pad, into a reusable code-unit buffer (hashing-text.ts: ASCII text is lower-cased
    // without building intermediate strings; other text goes through `normalize('NFKC').toLowerCase()`).
    const length = prepareCodes(text, scratch);
    const buffer = scratch.codes;
    if (length <= 1) return out;

    const nGramSpan = maxN === 0 ? 0 : maxN - minN + 1;
    // At most one word and one bigram per two code units, so the word phase never needs the table to grow.
    resetTable(words || wordBigrams ? length + 2 : 0, length * (nGramSpan + 2) + 8);
    let used = 0;
    if (words || wordBigrams) {
      used = hashWords(buffer, length, table, tableUsed, tableMask, used, wordFlags, saltWord, saltBigram);
    }

    // Character n-grams, in chunks that stop when the table needs to grow. `io` = [next position, used].
    if (maxN > 0) {
      io[0] = 0;
      io[1] = used;
      for (;;) {
        if (minN === 3 && maxN === 5) {
          hashCharNgrams35(buffer, length, table, tableUsed, tableMask, tableLimit, saltChar, io);
        }
        hashCharNgrams(buffer, length, minN, maxN, table, tableUsed, tableMask, tableLimit, saltChar, io);
        if (io[0]! + minN > length) break;
        usedCount = io[1]!;
        grow();
      }
      used = io[1]!;
    }
    const entries = table;
    const usedSlots = tableUsed;

    // Sublinear TF, sign and bucket, in first-insertion order; the table is emptied on the way.
    for (let u = 0; u < used; u++) {
      const base = usedSlots[u]!;
      const key = entries[base]!;
      const meta = entries[base + 1]!;
      entries[base + 1] = 0;
      const count = meta >>> 2;
      // TF[count] is exactly `count === 1 ? 1 : 1 + Math.log(count)` (precomputed with the same expression).
      const value = familyWeight[meta & 3]! * (count < TF_SIZE ? TF[count]! : 1 + Math.log(count));
      const bucket = powerOfTwo ? key & bucketMask : (key & 0x7fffffff) % dimension;
      out[bucket]! += key < 0 ? -value : value;
    }
    lastCapacity = tableMask + 1;
    usedCount = 0;
    let sumSquares = 0;
    for (let i = 0; i < dimension; i++) sumSquares += out[i]! * out[i]!;
    if (sumSquares > 0) {
      const inv = 1 / Math.sqrt(sumSquares);
      for (let i = 0; i < dimension; i++) out[i]! *= inv;
    }
    return out;
  }

  return embedSync;
}

const ID_PATTERN =
  /^hashing-v([12]):d(\d+):w([01]):b([01]):c(0|\d+-\d+):s(\d+)(?::x([^,:]+),([^,:]+),([^,:]+))?$/;

/**
 * The settings that a hashing backbone id (`hashing-v1:d1024:w1:b1:c3-5:s0`, `hashing-v2:…`) encodes, or
 * `undefined` when `id` is not a hashing backbone id. `createHashingBackbone(parseHashingBackboneId(id)).id`
 * is `id` again.
 *
 * @example
 * ```ts
 * parseHashingBackboneId('hashing-v1:d128:w1:b1:c3-5:s0'); // { version: 1, dimension: 128, … }
 * ```
 */
export function parseHashingBackboneId(id: string): HashingBackboneSettings | undefined {
  const m = ID_PATTERN.exec(id);
  if (m === null) return undefined;
  const [, version, dimension, words, bigrams, chars, seed, xw, xb, xc] = m;
  const range = chars === '0' ? false : (chars!.split('-').map(Number) as [number, number]);
  return {
    version: Number(version) as HashingVersion,
    dimension: Number(dimension),
    words: words === '1',
    wordBigrams: bigrams === '1',
    charNgrams: range,
    seed: Number(seed),
    ...(xw === undefined ? {} : { weights: { words: Number(xw), bigrams: Number(xb), chars: Number(xc) } }),
  };
}

/**
 * Rebuilds the hashing backbone that produced `id` (e.g. a head's `backboneId`), whatever the current default
 * version: a head trained on `hashing-v1:…` keeps getting v1 vectors. Throws `InvalidArgumentError` when `id`
 * is not a valid hashing backbone id.
 *
 * @example
 * ```ts
 * const head = await loadHeadFile('head.safetensors');
 * const backbone = createHashingBackboneFromId(head.backboneId ?? 'hashing-v1:d1024:w1:b1:c3-5:s0');
 * ```
 */
export function createHashingBackboneFromId(id: string): HashingBackbone {
  const settings = parseHashingBackboneId(id);
  const backbone = settings === undefined ? undefined : createHashingBackbone(settings);
  if (backbone?.id !== id) {
    throw new InvalidArgumentError({
      argument: 'id',
      message: `not a hashing backbone id: ${JSON.stringify(id)} (expected e.g. hashing-v2:d1024:w1:b1:c3-5:s0)`,
    });
  }
  return backbone;
}
