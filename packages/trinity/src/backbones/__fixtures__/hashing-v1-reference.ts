/**
 * The zero-dependency default backbone: signed feature hashing ("the hashing trick", Weinberger et al.
 * 2009) of word unigrams, word bigrams and character n-grams, with sublinear term frequency and L2
 * normalisation.
 *
 * Pipeline for one text:
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
 * Deterministic (no randomness, no locale-dependent behaviour except Unicode case mapping, which is
 * locale-independent in `toLowerCase`), allocation-light (scratch buffers are reused between calls; not re-entrant, which synchronous JS never needs) and
 * synchronous, so `embedSync` is the router's hot path.
 */
import type { AbortSignalLike } from '@openfugu/schema';
import { InvalidArgumentError } from '@openfugu/schema';
import { type SyncBackbone, throwIfAborted } from '../types.js';

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
}

/** The hashing backbone: a {@link SyncBackbone} with its resolved settings. */
export interface HashingBackbone extends SyncBackbone {
  readonly settings: Readonly<Required<Omit<HashingBackboneSettings, 'weights'>>> & {
    readonly weights: Readonly<{ words: number; bigrams: number; chars: number }>;
  };
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SALT_WORD = 0x9e3779b1;
const SALT_BIGRAM = 0x85ebca77;
const SALT_CHAR = 0xc2b2ae3d;
const FAMILY_WORD = 0;
const FAMILY_BIGRAM = 1;
const FAMILY_CHAR = 2;
const SPACE = 32;

/** MurmurHash3's 32-bit finaliser: full avalanche, so low bits (bucket) and the top bit (sign) are independent. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function isWhitespace(code: number): boolean {
  return (
    code === 32 ||
    (code >= 9 && code <= 13) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

// 0 = not yet classified, 1 = word character, 2 = other. Shared by every instance (pure function of the code unit).
const wordClass = new Uint8Array(65536);
const wordCharPattern = /[\p{L}\p{M}\p{N}]/u;
function isWordChar(code: number): boolean {
  let c = wordClass[code]!;
  if (c === 0) {
    if (code >= 0xd800 && code <= 0xdfff) c = 1;
    else c = wordCharPattern.test(String.fromCharCode(code)) ? 1 : 2;
    wordClass[code] = c;
  }
  return c === 1;
}

/**
 * Creates the hashing backbone (zero dependencies, deterministic, microseconds per text).
 *
 * Defaults: `dimension` 1024, word unigrams and bigrams, character 3–5-grams, all family weights 1, seed 0.
 * Its `id` encodes every setting (e.g. `hashing-v1:d1024:w1:b1:c3-5:s0`) so a head trained on one
 * configuration is never silently used with another.
 *
 * @example
 * ```ts
 * const backbone = createHashingBackbone({ dimension: 1024 });
 * const v = backbone.embedSync('user: What is 2 + 2?'); // Float32Array(1024), unit norm
 * ```
 */
export function createHashingBackboneReference(settings: HashingBackboneSettings = {}): HashingBackbone {
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
  const familyWeight = new Float64Array([weights.words, weights.bigrams, weights.chars]);
  const powerOfTwo = (dimension & (dimension - 1)) === 0;
  const bucketMask = dimension - 1;
  const minN = charNgrams === false ? 0 : charNgrams[0];
  const maxN = charNgrams === false ? 0 : charNgrams[1];
  const saltWord = (SALT_WORD ^ seed) >>> 0;
  const saltBigram = (SALT_BIGRAM ^ Math.imul(seed, 0x27d4eb2f)) >>> 0;
  const saltChar = (FNV_OFFSET ^ SALT_CHAR ^ Math.imul(seed, 0x165667b1)) >>> 0;

  // Open-addressing table of distinct feature hashes (keys carry the family in their salt): two int32 per
  // slot, [key, count · 4 + family], meta 0 = empty, so a probe touches one cache line. Used slots are
  // listed and zeroed after each call, so a call costs only what it touches.
  let table = new Int32Array(0);
  let tableUsed = new Int32Array(0);
  let tableMask = 0;
  let usedCount = 0;
  let codes = new Uint16Array(4096);

  function resetTable(maxFeatures: number): void {
    let capacity = 1024;
    while (capacity < maxFeatures * 1.5) capacity *= 2;
    if (capacity * 2 > table.length) {
      table = new Int32Array(capacity * 2);
      tableUsed = new Int32Array(capacity);
      tableMask = capacity - 1;
    }
    usedCount = 0;
  }

  function add(key: number, family: number): void {
    let slot = key & tableMask;
    for (;;) {
      const base = slot << 1;
      const meta = table[base + 1]!;
      if (meta === 0) {
        table[base] = key;
        table[base + 1] = 4 + family;
        tableUsed[usedCount++] = base;
        return;
      }
      if (table[base] === key) {
        table[base + 1] = meta + 4;
        return;
      }
      slot = (slot + 1) & tableMask;
    }
  }

  const id =
    `hashing-v1:d${dimension}:w${words ? 1 : 0}:b${wordBigrams ? 1 : 0}:` +
    `c${charNgrams === false ? 0 : `${minN}-${maxN}`}:s${seed}` +
    (weights.words !== 1 || weights.bigrams !== 1 || weights.chars !== 1
      ? `:x${weights.words},${weights.bigrams},${weights.chars}`
      : '');

  function embedSync(text: string): Float32Array {
    const out = new Float32Array(dimension);
    const normalized = text.normalize('NFKC').toLowerCase();
    // Collapse whitespace and pad, into a reusable code-unit buffer.
    if (codes.length < normalized.length + 2) codes = new Uint16Array(normalized.length * 2 + 2);
    let length = 0;
    codes[length++] = SPACE;
    for (let i = 0; i < normalized.length; i++) {
      const c = normalized.charCodeAt(i);
      if (isWhitespace(c)) {
        if (codes[length - 1] !== SPACE) codes[length++] = SPACE;
      } else {
        codes[length++] = c;
      }
    }
    if (codes[length - 1] !== SPACE) codes[length++] = SPACE;
    if (length <= 1) return out;

    const nGramSpan = maxN === 0 ? 0 : maxN - minN + 1;
    resetTable(length * (nGramSpan + 2) + 8);

    // Words and bigrams.
    if (words || wordBigrams) {
      let inWord = false;
      let h = 0;
      let previous = 0;
      let hasPrevious = false;
      for (let i = 0; i < length; i++) {
        const c = codes[i]!;
        const wordChar = c < 128 ? (c >= 97 && c <= 122) || (c >= 48 && c <= 57) : isWordChar(c);
        if (wordChar) {
          if (!inWord) {
            inWord = true;
            h = FNV_OFFSET;
          }
          h = Math.imul(h ^ c, FNV_PRIME);
        } else if (inWord) {
          inWord = false;
          if (words) add(fmix32(h ^ saltWord), FAMILY_WORD);
          if (wordBigrams && hasPrevious) {
            add(fmix32(Math.imul(previous, 0x9e3779b1) ^ h ^ saltBigram), FAMILY_BIGRAM);
          }
          previous = h;
          hasPrevious = true;
        }
      }
    }

    // Character n-grams: one FNV-1a state per start position, extended code unit by code unit. The table
    // insertion is inlined here (the hot loop: ~3 features per character) with the arrays in locals.
    if (maxN > 0) {
      const buffer = codes;
      const entries = table;
      const usedSlots = tableUsed;
      const mask = tableMask;
      let used = usedCount;
      for (let i = 0; i + minN <= length; i++) {
        let h = saltChar;
        for (let j = i; j < i + minN - 1; j++) h = Math.imul(h ^ buffer[j]!, FNV_PRIME);
        const end = Math.min(i + maxN, length);
        for (let j = i + minN - 1; j < end; j++) {
          h = Math.imul(h ^ buffer[j]!, FNV_PRIME);
          let key = h ^ (h >>> 16);
          key = Math.imul(key, 0x85ebca6b);
          key ^= key >>> 13;
          key = Math.imul(key, 0xc2b2ae35);
          key ^= key >>> 16;
          let slot = key & mask;
          for (;;) {
            const base = slot << 1;
            const meta = entries[base + 1]!;
            if (meta === 0) {
              entries[base] = key;
              entries[base + 1] = 4 + FAMILY_CHAR;
              usedSlots[used++] = base;
              break;
            }
            if (entries[base] === key) {
              entries[base + 1] = meta + 4;
              break;
            }
            slot = (slot + 1) & mask;
          }
        }
      }
      usedCount = used;
    }

    let sumSquares = 0;
    for (let u = 0; u < usedCount; u++) {
      const base = tableUsed[u]!;
      const key = table[base]!;
      const meta = table[base + 1]!;
      table[base + 1] = 0;
      const count = meta >>> 2;
      const value = familyWeight[meta & 3]! * (count === 1 ? 1 : 1 + Math.log(count));
      const bucket = powerOfTwo ? key & bucketMask : (key & 0x7fffffff) % dimension;
      out[bucket]! += key < 0 ? -value : value;
    }
    for (let i = 0; i < dimension; i++) sumSquares += out[i]! * out[i]!;
    if (sumSquares > 0) {
      const inv = 1 / Math.sqrt(sumSquares);
      for (let i = 0; i < dimension; i++) out[i]! *= inv;
    }
    return out;
  }

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
    },
    embedSync,
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
