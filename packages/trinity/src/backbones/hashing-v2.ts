/**
 * The `hashing-v2` kernel: v1's features (word unigrams, adjacent word pairs, character n-grams of the same
 * prepared text), counted per hashed bucket instead of per distinct feature. That removes v1's table of
 * distinct features (a probe per feature occurrence, the bulk of v1's cost), and the cheaper hashes below
 * remove most of the rest.
 *
 * For one text:
 * 1. The code units are prepared exactly as in v1 (NFKC + lower-case, whitespace collapsed to one space, one
 *    space of padding on each side; hashing-text.ts). All-ASCII text is copied out with one native
 *    `TextEncoder.encodeInto` and prepared in the same pass that hashes its words.
 * 2. Feature hashes `h` (32-bit):
 *    - word: FNV-1a over its code units (as v1) XOR the word salt; word pair: `imul(h_prev, 0x9e3779b1) ^ h ^`
 *      the pair salt (as v1);
 *    - character n-gram `c_1 … c_n`: the polynomial `h = S·P^n + c_1·P^(n−1) + … + c_n` mod 2^32 with
 *      `P = 0x9e3779b1` and `S` the (seeded) char salt — computed for n = 3, 4, 5 by one multiply each from
 *      the hashes of the (n−1)-grams that end one position earlier (rolling, no substring, no re-reads).
 *    Key `k = imul(h ^ (h >>> 15), 0x2c1b3c6d)`; bucket = the top bits of `k`: `floor((k >>> 8) · d / 2^24)`
 *    (for a power-of-two `d` that is `k >>> (32 − log2 d)`); sign = bit 7 of `k` (1 → −1).
 * 3. Every feature occurrence adds its sign to its bucket's count. Counts are kept per *weight group*:
 *    families with equal weights share one float64 array of `d` counts (with the default weights, one array).
 * 4. Each bucket's signed count `c` becomes `w · sign(c) · (1 + ln |c|)` (0 when `c` is 0), summed in float64
 *    over the weight groups in the order words, bigrams, chars (first appearance of each distinct weight).
 * 5. The vector is scaled to unit L2 norm in float64 and rounded to float32 once.
 *
 * What differs from v1 (by design; v1 stays available and bit-identical, see hashing.test.ts):
 * - Collisions merge *before* the logarithm: features that share a bucket add their signed counts and the
 *   sublinear TF applies to the sum. In v1 each distinct feature gets `1 + ln tf` and the signed values are
 *   summed. A bucket holding one distinct feature gets `1 + ln tf` in both; a bucket holding `k` distinct
 *   features of equal sign gets `1 + ln k` (v2) instead of `k` (v1); opposite signs cancel count for count
 *   (v2) rather than value for value (v1), so a non-empty text can give the zero vector when every bucket
 *   cancels (seen only with tiny dimensions).
 * - Families with equal weights merge before the log too (v1 kept a word and a char n-gram apart unless their
 *   32-bit keys were equal).
 * - Different hashes: the n-gram hash is polynomial instead of FNV-1a, and the finaliser is one xorshift-
 *   multiply instead of `fmix32`; buckets come from the key's top bits, signs from bit 7 (v1: low bits and the
 *   top bit). So a feature lands in an unrelated coordinate: v1 and v2 vectors are not comparable coordinate
 *   by coordinate, only through the geometry they give a set of texts (tested: as close to v1's as v1 under
 *   another seed is, and nearly identical where collisions are rare).
 * - Rounding: v1 adds float64 terms into a float32 vector in first-insertion order and normalises in float32;
 *   v2 computes each bucket in float64 and rounds once after normalisation, so it does not depend on feature
 *   order.
 *
 * Speed notes (measured with `pnpm --filter @openfugu/trinity bench:latency`): the counts of a 1024-d vector
 * (8 KiB) stay in L1; the remaining cost is ~3 multiplies and one read-modify-write per feature occurrence.
 * V8 specialises `embedSync` to the first instance's constants; further instances in the same process run
 * generic code, measured ~20–35 % slower.
 *
 * Internal module: `createHashingBackbone({ version: 2 })` is the public entry point.
 */

import type { SparseVector } from '../sparse.js';
import {
  asciiBytes,
  createCodeBuffer,
  FNV_OFFSET,
  FNV_PRIME,
  isWordChar,
  padEnd,
  prepareCodes,
  SPACE,
  TF,
  TF_SIZE,
} from './hashing-text.js';

/** Resolved settings of one v2 backbone (validated by `createHashingBackbone`). */
export interface HashingV2Config {
  dimension: number;
  words: boolean;
  wordBigrams: boolean;
  /** Character n-gram range; `maxN` 0 = none. */
  minN: number;
  maxN: number;
  weights: { words: number; bigrams: number; chars: number };
  saltWord: number;
  saltBigram: number;
  /** Initial FNV-1a state of character n-grams (offset basis, salt and seed folded in). */
  saltChar: number;
}

/** `sign(c) · (1 + ln |c|)` for an integer count `c` (0 for 0). */
function sublinear(c: number): number {
  const a = c < 0 ? -c : c;
  const t = a < TF_SIZE ? TF[a | 0]! : 1 + Math.log(a);
  return c < 0 ? -t : t;
}

/** `SUBLINEAR[c + SUBLINEAR_OFFSET]` = {@link sublinear}`(c)` for `|c| < SUBLINEAR_OFFSET` (0 for 0). */
const SUBLINEAR_OFFSET = 2048;
const SUBLINEAR = new Float64Array(2 * SUBLINEAR_OFFSET);
for (let c = 1 - SUBLINEAR_OFFSET; c < SUBLINEAR_OFFSET; c++) SUBLINEAR[c + SUBLINEAR_OFFSET] = sublinear(c);

/** {@link sublinear} by table for small counts. */
function sublinearFast(c: number): number {
  return c > -SUBLINEAR_OFFSET && c < SUBLINEAR_OFFSET
    ? SUBLINEAR[(c + SUBLINEAR_OFFSET) | 0]!
    : sublinear(c);
}

/** Multiplier of v2's key finaliser (an odd 32-bit constant with well-spread bits). */
const MIX = 0x2c1b3c6d;
/** 2^−24. */
const INV_2_24 = 1 / 16777216;

/**
 * The bucket of key `k` (`k = imul(h ^ (h >>> 15), MIX)`): `floor((k >>> 8) · dimension / 2^24)`, its top bits.
 * `shift` = 32 − log2(dimension) for a power-of-two dimension ≥ 2 (the same value, by a shift), else −1.
 */
function bucketOf(k: number, shift: number, dimension: number): number {
  return shift >= 0 ? k >>> shift : ((k >>> 8) * dimension * INV_2_24) | 0;
}

// 1 for ASCII word characters (a–z after lower-casing, 0–9), 0 for the rest of ASCII.
const ASCII_WORD = new Uint8Array(128);
for (let c = 48; c <= 57; c++) ASCII_WORD[c] = 1;
for (let c = 97; c <= 122; c++) ASCII_WORD[c] = 1;
// Per ASCII byte: 0 for whitespace (9–13, 32); otherwise NOT_SPACE | the prepared code unit (A–Z lower-cased),
// plus WORD for word characters.
const NOT_SPACE = 0x200;
const WORD = 0x100;
const ASCII_CLASS = new Uint16Array(128);
for (let b = 0; b < 128; b++) {
  if (b === SPACE || (b >= 9 && b <= 13)) continue;
  const c = b >= 65 && b <= 90 ? b + 32 : b;
  ASCII_CLASS[b] = NOT_SPACE | (ASCII_WORD[c] === 1 ? WORD : 0) | c;
}

/**
 * Counts the word that ends here (hash `h`, when `flags & 1`) and the pair it forms with the previous word
 * (when `flags & 2`): key `k` of a feature hash `x` is `imul(x ^ (x >>> 15), MIX)`, its sign bit 7 of `k`.
 */
function countWordEnd(
  h: number,
  previous: number,
  hasPrevious: boolean,
  wordCounts: Float64Array,
  bigramCounts: Float64Array,
  flags: number,
  saltWord: number,
  saltBigram: number,
  shift: number,
  dimension: number,
  touched: Uint32Array,
): void {
  if ((flags & 1) !== 0) {
    const x = h ^ saltWord;
    const k = Math.imul(x ^ (x >>> 15), MIX);
    const b = bucketOf(k, shift, dimension);
    wordCounts[b]! += ((k << 24) >> 31) | 1;
    touched[b >>> 5]! |= 1 << (b & 31);
  }
  if ((flags & 2) !== 0 && hasPrevious) {
    const x = Math.imul(previous, 0x9e3779b1) ^ h ^ saltBigram;
    const k = Math.imul(x ^ (x >>> 15), MIX);
    const b = bucketOf(k, shift, dimension);
    bigramCounts[b]! += ((k << 24) >> 31) | 1;
    touched[b >>> 5]! |= 1 << (b & 31);
  }
}

/**
 * The ASCII fast path of text preparation and word counting in one pass: writes the prepared code units of
 * `bytes[0, n)` (as `prepareCodes` would, without the closing space) into `buffer` and counts the word and
 * word-pair occurrences exactly as {@link countWords} does on them. Returns the number of code units written.
 */
function prepareAsciiCountWords(
  bytes: Uint8Array,
  n: number,
  buffer: Uint16Array,
  wordCounts: Float64Array,
  bigramCounts: Float64Array,
  flags: number,
  saltWord: number,
  saltBigram: number,
  shift: number,
  dimension: number,
  touched: Uint32Array,
): number {
  let length = 1;
  buffer[0] = SPACE;
  let previousSpace = true;
  let inWord = false;
  let h = 0;
  let previous = 0;
  let hasPrevious = false;
  for (let i = 0; i <= n; i++) {
    // i === n: a virtual closing space ends the last word (the prepared text always ends with a space).
    const m = i < n ? ASCII_CLASS[bytes[i]!]! : 0;
    if ((m & WORD) !== 0) {
      const c = m & 0xff;
      buffer[length++] = c;
      previousSpace = false;
      h = Math.imul((inWord ? h : FNV_OFFSET) ^ c, FNV_PRIME);
      inWord = true;
      continue;
    }
    if (inWord) {
      inWord = false;
      countWordEnd(
        h,
        previous,
        hasPrevious,
        wordCounts,
        bigramCounts,
        flags,
        saltWord,
        saltBigram,
        shift,
        dimension,
        touched,
      );
      previous = h;
      hasPrevious = true;
    }
    if (m === 0) {
      if (!previousSpace && i < n) buffer[length++] = SPACE;
      previousSpace = true;
    } else {
      buffer[length++] = m & 0xff;
      previousSpace = false;
    }
  }
  return length;
}

/** Word (`flags & 1`) and adjacent-word-pair (`flags & 2`) occurrences of `buffer[0, length)`, counted into their buckets. */
function countWords(
  buffer: Uint16Array,
  length: number,
  wordCounts: Float64Array,
  bigramCounts: Float64Array,
  flags: number,
  saltWord: number,
  saltBigram: number,
  shift: number,
  dimension: number,
  touched: Uint32Array,
): void {
  let inWord = false;
  let h = 0;
  let previous = 0;
  let hasPrevious = false;
  for (let i = 0; i < length; i++) {
    const c = buffer[i]!;
    if (c < 128 ? ASCII_WORD[c] === 1 : isWordChar(c)) {
      if (!inWord) {
        inWord = true;
        h = FNV_OFFSET;
      }
      h = Math.imul(h ^ c, FNV_PRIME);
    } else if (inWord) {
      inWord = false;
      countWordEnd(
        h,
        previous,
        hasPrevious,
        wordCounts,
        bigramCounts,
        flags,
        saltWord,
        saltBigram,
        shift,
        dimension,
        touched,
      );
      previous = h;
      hasPrevious = true;
    }
  }
}

/** Multiplier of v2's polynomial n-gram hash (odd). */
const POLY = 0x9e3779b1;

/** v2's hash of the n-gram `buffer[end − n + 1, end]`: Horner from `seed`, `h ← h · POLY + c` (mod 2^32). */
function ngramHash(buffer: Uint16Array, end: number, n: number, seed: number): number {
  let h = seed;
  for (let j = end - n + 1; j <= end; j++) h = (Math.imul(h, POLY) + buffer[j]!) | 0;
  return h;
}

/**
 * Character n-grams of lengths `minN`–`maxN` that end at positions `[fromEnd, toEnd)` (any dimension and
 * range; `shift` as in {@link bucketOf}).
 */
function countCharNgrams(
  buffer: Uint16Array,
  fromEnd: number,
  toEnd: number,
  minN: number,
  maxN: number,
  counts: Float64Array,
  shift: number,
  dimension: number,
  seed: number,
  touched: Uint32Array,
): void {
  for (let end = fromEnd; end < toEnd; end++) {
    for (let n = minN; n <= maxN && n <= end + 1; n++) {
      const h = ngramHash(buffer, end, n, seed);
      const k = Math.imul(h ^ (h >>> 15), MIX);
      const b = bucketOf(k, shift, dimension);
      counts[b]! += ((k << 24) >> 31) | 1;
      touched[b >>> 5]! |= 1 << (b & 31);
    }
  }
}

/**
 * Character 3-, 4- and 5-grams ending at positions `[4, length)` for a power-of-two dimension ≥ 2 (the default).
 * The polynomial hash rolls: the n-gram ending at `j` hashes to `h(n − 1, j − 1) · POLY + c_j`, so one multiply
 * per length and position, and the four running hashes (lengths 1–4 ending at `j − 1`) stay in registers.
 */
function countCharNgrams35(
  buffer: Uint16Array,
  length: number,
  counts: Float64Array,
  shift: number,
  seed: number,
  touched: Uint32Array,
): void {
  if (length < 5) return;
  const seedTimesPoly = Math.imul(seed, POLY);
  let e1 = ngramHash(buffer, 3, 1, seed);
  let e2 = ngramHash(buffer, 3, 2, seed);
  let e3 = ngramHash(buffer, 3, 3, seed);
  let e4 = ngramHash(buffer, 3, 4, seed);
  for (let j = 4; j < length; j++) {
    const c = buffer[j]!;
    const h5 = (Math.imul(e4, POLY) + c) | 0;
    const h4 = (Math.imul(e3, POLY) + c) | 0;
    const h3 = (Math.imul(e2, POLY) + c) | 0;
    e2 = (Math.imul(e1, POLY) + c) | 0;
    e1 = (seedTimesPoly + c) | 0;
    e3 = h3;
    e4 = h4;
    const k3 = Math.imul(h3 ^ (h3 >>> 15), MIX);
    const k4 = Math.imul(h4 ^ (h4 >>> 15), MIX);
    const k5 = Math.imul(h5 ^ (h5 >>> 15), MIX);
    const b3 = k3 >>> shift;
    const b4 = k4 >>> shift;
    const b5 = k5 >>> shift;
    counts[b3]! += ((k3 << 24) >> 31) | 1;
    counts[b4]! += ((k4 << 24) >> 31) | 1;
    counts[b5]! += ((k5 << 24) >> 31) | 1;
    touched[b3 >>> 5]! |= 1 << (b3 & 31);
    touched[b4 >>> 5]! |= 1 << (b4 & 31);
    touched[b5 >>> 5]! |= 1 << (b5 & 31);
  }
}

/**
 * Returns the `embedSync` of a v2 backbone and its sparse twin `embedSparseSync` (the same vector's non-zeros,
 * bit for bit, finished on the touched buckets only — what wide backbones route with). Scratch (the code-unit
 * buffer and one float64 count array per weight group) is allocated once here and reused; a call allocates
 * only its output. Not re-entrant, which synchronous JavaScript never needs.
 */
export function createHashingV2Embed(
  config: HashingV2Config,
  options: { fastPaths?: boolean } = {},
): { embedSync: (text: string) => Float32Array; embedSparseSync: (text: string) => SparseVector } {
  // `fastPaths: false` (tests only) runs the generic code that the fast paths must agree with bit for bit.
  const fastPaths = options.fastPaths ?? true;
  const { dimension, words, wordBigrams, minN, maxN, weights, saltWord, saltBigram, saltChar } = config;
  const shift = dimension > 1 && (dimension & (dimension - 1)) === 0 ? 32 - Math.log2(dimension) : -1;
  const wordFlags = (words ? 1 : 0) | (wordBigrams ? 2 : 0);

  // Weight groups: families with equal weights share one array of counts (enabled families only, in the order
  // words, bigrams, chars).
  const groupWeights: number[] = [];
  const groupCounts: Float64Array[] = [];
  const groupOf = (enabled: boolean, weight: number): Float64Array => {
    if (!enabled) return groupCounts[0] ?? new Float64Array(0);
    const index = groupWeights.indexOf(weight);
    if (index >= 0) return groupCounts[index]!;
    groupWeights.push(weight);
    groupCounts.push(new Float64Array(dimension));
    return groupCounts[groupCounts.length - 1]!;
  };
  const wordCounts = groupOf(words, weights.words);
  const bigramCounts = groupOf(wordBigrams, weights.bigrams);
  const charCounts = groupOf(maxN > 0, weights.chars);
  // Every family disabled: a vector of zeros, but keep one (unused) array so finalisation has somewhere to sum.
  if (groupCounts.length === 0) {
    groupWeights.push(0);
    groupCounts.push(new Float64Array(dimension));
  }
  const first = groupCounts[0]!;
  const firstWeight = groupWeights[0]!;
  const scratch = createCodeBuffer();
  // One bit per bucket, set by the counting loops: the buckets a text touched, in order, without a scan of the
  // counts (what the sparse embedding finishes). Cleared by every embedding.
  const touched = new Uint32Array(Math.ceil(dimension / 32));

  /** Counts the text's features into the group arrays; false when there is nothing to count. */
  function count(text: string): boolean {
    // All-ASCII text with word features: preparation and word counting in one pass. Otherwise (and in tests,
    // which check that both paths agree) prepare first, then count words over the prepared code units.
    const n = fastPaths && wordFlags !== 0 ? asciiBytes(text, scratch) : -1;
    let length: number;
    if (n >= 0) {
      length = prepareAsciiCountWords(
        scratch.bytes,
        n,
        scratch.codes,
        wordCounts,
        bigramCounts,
        wordFlags,
        saltWord,
        saltBigram,
        shift,
        dimension,
        touched,
      );
      length = padEnd(scratch.codes, length);
    } else {
      length = prepareCodes(text, scratch);
      if (wordFlags !== 0 && length > 1) {
        countWords(
          scratch.codes,
          length,
          wordCounts,
          bigramCounts,
          wordFlags,
          saltWord,
          saltBigram,
          shift,
          dimension,
          touched,
        );
      }
    }
    if (length <= 1) return false;
    const buffer = scratch.codes;

    if (maxN > 0) {
      if (fastPaths && minN === 3 && maxN === 5 && shift >= 0 && length >= 5) {
        countCharNgrams(buffer, 2, 4, 3, 5, charCounts, shift, dimension, saltChar, touched);
        countCharNgrams35(buffer, length, charCounts, shift, saltChar, touched);
      } else {
        countCharNgrams(
          buffer,
          minN - 1,
          length,
          minN,
          maxN,
          charCounts,
          shift,
          dimension,
          saltChar,
          touched,
        );
      }
    }

    return true;
  }

  function embedSync(text: string): Float32Array {
    const out = new Float32Array(dimension);
    if (!count(text)) return out;
    // Sublinear TF per bucket and weight group, summed in float64 into the first group's array (other groups
    // are emptied on the way); then the norm, one float32 rounding, and the first array emptied.
    let sumSquares = 0;
    if (groupCounts.length === 1) {
      // Branch-free for counts below SUBLINEAR_OFFSET in magnitude (SUBLINEAR maps a zero count to 0).
      for (let b = 0; b < dimension; b++) {
        const v = firstWeight * sublinearFast(first[b]!);
        first[b] = v;
        sumSquares += v * v;
      }
    } else {
      for (let b = 0; b < dimension; b++) {
        let v = firstWeight * sublinearFast(first[b]!);
        for (let g = 1; g < groupCounts.length; g++) {
          const counts = groupCounts[g]!;
          v += groupWeights[g]! * sublinearFast(counts[b]!);
          counts[b] = 0;
        }
        first[b] = v;
        sumSquares += v * v;
      }
    }
    if (sumSquares > 0) {
      const inv = 1 / Math.sqrt(sumSquares);
      for (let b = 0; b < dimension; b++) {
        out[b] = first[b]! * inv;
        first[b] = 0;
      }
    } else {
      first.fill(0);
    }
    touched.fill(0);
    return out;
  }

  const nonZero = new Int32Array(dimension);
  const empty = (): SparseVector => ({ dimension, indices: new Int32Array(0), values: new Float32Array(0) });

  /** The non-zeros of `embedSync(text)`, bit for bit, without a dense pass over the finished vector. */
  function embedSparseSync(text: string): SparseVector {
    if (!count(text)) return empty();
    // The touched buckets in increasing order, from the bitmap (a bucket whose signed count came back to 0 in
    // every group is dropped here, as the dense path's zero).
    let nnz = 0;
    for (let word = 0; word < touched.length; word++) {
      let bits = touched[word]!;
      if (bits === 0) continue;
      touched[word] = 0;
      while (bits !== 0) {
        const low = bits & -bits;
        const b = word * 32 + (31 - Math.clz32(low));
        bits ^= low;
        let any = first[b] !== 0;
        for (let g = 1; g < groupCounts.length && !any; g++) any = groupCounts[g]![b] !== 0;
        if (any) nonZero[nnz++] = b;
      }
    }
    // The dense path's arithmetic, in the same (ascending) order, on the touched buckets only.
    const sums = new Float64Array(nnz);
    let sumSquares = 0;
    for (let t = 0; t < nnz; t++) {
      const b = nonZero[t]!;
      let v = firstWeight * sublinearFast(first[b]!);
      for (let g = 1; g < groupCounts.length; g++) {
        const counts = groupCounts[g]!;
        v += groupWeights[g]! * sublinearFast(counts[b]!);
        counts[b] = 0;
      }
      first[b] = 0;
      sums[t] = v;
      sumSquares += v * v;
    }
    if (!(sumSquares > 0)) return empty();
    const inv = 1 / Math.sqrt(sumSquares);
    const indices = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    let kept = 0;
    for (let t = 0; t < nnz; t++) {
      const value = Math.fround(sums[t]! * inv);
      if (value === 0) continue;
      indices[kept] = nonZero[t]!;
      values[kept++] = value;
    }
    return kept === nnz
      ? { dimension, indices, values }
      : { dimension, indices: indices.slice(0, kept), values: values.slice(0, kept) };
  }

  return { embedSync, embedSparseSync };
}
