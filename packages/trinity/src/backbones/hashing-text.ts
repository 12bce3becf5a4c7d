/**
 * Text preparation shared by the hashing backbones (`hashing-v1` and `hashing-v2` read the same code units):
 * NFKC normalisation, lower-casing, whitespace collapsing and one space of padding on each side, written into
 * a reusable `Uint16Array` of UTF-16 code units. Internal: not part of the package's public API.
 */

export const SPACE = 32;

/** True for the code units that `String.prototype.trim` treats as white space (plus U+FEFF). */
export function isWhitespace(code: number): boolean {
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

/** Word characters: `\p{L}\p{M}\p{N}`, and every surrogate half (so emoji and astral letters join words). */
export function isWordChar(code: number): boolean {
  let c = wordClass[code]!;
  if (c === 0) {
    if (code >= 0xd800 && code <= 0xdfff) c = 1;
    else c = wordCharPattern.test(String.fromCharCode(code)) ? 1 : 2;
    wordClass[code] = c;
  }
  return c === 1;
}

/** Reusable buffers: prepared code units, and UTF-8 bytes of the ASCII fast path (replaced when too small). */
export interface CodeBuffer {
  codes: Uint16Array;
  bytes: Uint8Array;
}

/** A {@link CodeBuffer} for texts of about `capacity` code units (grows on demand). */
export function createCodeBuffer(capacity = 4096): CodeBuffer {
  return { codes: new Uint16Array(capacity + 2), bytes: new Uint8Array(capacity) };
}

// Shared by every instance; a pure function of the byte: lower-case ASCII letter or digit or other printable
// byte → itself (A–Z lower-cased), ASCII whitespace (9–13, 32) → 0, other control bytes → 256 + byte.
const ASCII_MAP = new Uint16Array(128);
for (let c = 0; c < 128; c++) {
  if (c === SPACE || (c >= 9 && c <= 13)) ASCII_MAP[c] = 0;
  else if (c < SPACE || c === 127) ASCII_MAP[c] = 256 + c;
  else ASCII_MAP[c] = c >= 65 && c <= 90 ? c + 32 : c;
}

const encoder = new TextEncoder();

/**
 * Collapsing and lower-casing of ASCII bytes `bytes[0, n)` into `buffer`, padded with a space at the start
 * (the caller pads the end).
 */
function collapseBytes(bytes: Uint8Array, n: number, buffer: Uint16Array): number {
  let length = 1;
  buffer[0] = SPACE;
  let previousSpace = true;
  for (let i = 0; i < n; i++) {
    const m = ASCII_MAP[bytes[i]!]!;
    if (m === 0) {
      if (!previousSpace) buffer[length++] = SPACE;
      previousSpace = true;
    } else {
      buffer[length++] = m & 255;
      previousSpace = false;
    }
  }
  return length;
}

/**
 * Writes the prepared code units of `text` into `scratch.codes` and returns their number: NFKC + lower-case
 * (skipped for all-ASCII text, which is its own NFKC form and lower-cases A–Z only), whitespace runs collapsed
 * to one space, one space of padding on each side. Returns 1 (a lone space) for an empty or all-space text.
 *
 * All-ASCII text is detected and copied out of the string with one native `TextEncoder.encodeInto` (UTF-8 has
 * as many bytes as UTF-16 has code units exactly when every code unit is ASCII), which is several times faster
 * than `charCodeAt` per code unit, especially on the concatenated strings `renderMessages` builds.
 */
export function prepareCodes(text: string, scratch: CodeBuffer): number {
  const n = asciiBytes(text, scratch);
  if (n < 0) return prepareNonAscii(text, scratch);
  const length = collapseBytes(scratch.bytes, n, scratch.codes);
  return padEnd(scratch.codes, length);
}

/**
 * When `text` is all ASCII, copies it into `scratch.bytes` (growing both buffers to fit it) and returns its
 * length; otherwise returns −1.
 */
export function asciiBytes(text: string, scratch: CodeBuffer): number {
  if (scratch.codes.length < text.length + 2) scratch.codes = new Uint16Array(text.length * 2 + 2);
  if (scratch.bytes.length < text.length) scratch.bytes = new Uint8Array(text.length * 2);
  const { read, written } = encoder.encodeInto(text, scratch.bytes);
  return read === text.length && written === text.length ? written : -1;
}

/** Appends the closing space unless the prepared code units already end with one; returns the new length. */
export function padEnd(buffer: Uint16Array, length: number): number {
  if (buffer[length - 1] !== SPACE) buffer[length++] = SPACE;
  return length;
}

/** {@link prepareCodes} for text with non-ASCII code units: `normalize('NFKC').toLowerCase()` first. */
export function prepareNonAscii(text: string, scratch: CodeBuffer): number {
  const normalized = text.normalize('NFKC').toLowerCase();
  if (scratch.codes.length < normalized.length + 2)
    scratch.codes = new Uint16Array(normalized.length * 2 + 2);
  const buffer = scratch.codes;
  let length = 0;
  buffer[length++] = SPACE;
  for (let i = 0; i < normalized.length; i++) {
    const c = normalized.charCodeAt(i);
    if (c > SPACE && c < 0xa0) {
      buffer[length++] = c; // the common case: printable ASCII and C1 controls are never whitespace
    } else if (isWhitespace(c)) {
      if (buffer[length - 1] !== SPACE) buffer[length++] = SPACE;
    } else {
      buffer[length++] = c;
    }
  }
  return padEnd(buffer, length);
}

/** FNV-1a 32-bit offset basis and prime (the hashing backbones' feature hash, over UTF-16 code units). */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** MurmurHash3's 32-bit finaliser: full avalanche, so low bits (bucket) and the top bit (sign) are independent. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** `TF[c]` = the sublinear term frequency `c === 1 ? 1 : 1 + Math.log(c)`, precomputed for small counts. */
export const TF_SIZE = 4096;
export const TF = new Float64Array(TF_SIZE);
for (let c = 1; c < TF_SIZE; c++) TF[c] = c === 1 ? 1 : 1 + Math.log(c);
