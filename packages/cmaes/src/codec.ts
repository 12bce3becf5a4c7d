/**
 * Exact, compact JSON encoding of Float64Array: little-endian IEEE-754 bytes in base64.
 * Unlike `Array.from(x)` through JSON it keeps −0, NaN and ±Infinity and costs 10.7 characters per
 * number instead of ~20, which matters for a 19,456-dimensional state saved every generation.
 */

import { InvalidArgumentError } from '@openfugu/schema';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const lookup = new Int16Array(128).fill(-1);
for (let i = 0; i < alphabet.length; i++) lookup[alphabet.charCodeAt(i)] = i;

/** Base64 (RFC 4648, padded) of the little-endian bytes of `values`. */
export function encodeFloat64(values: Float64Array): string {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  let out = '';
  const chunk: string[] = [];
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk.push(
      alphabet[v >>> 18]! + alphabet[(v >>> 12) & 63]! + alphabet[(v >>> 6) & 63]! + alphabet[v & 63]!,
    );
    if (chunk.length === 4096) {
      out += chunk.join('');
      chunk.length = 0;
    }
  }
  out += chunk.join('');
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    out += alphabet[v >>> 18]! + alphabet[(v >>> 12) & 63]! + '==';
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[v >>> 18]! + alphabet[(v >>> 12) & 63]! + alphabet[(v >>> 6) & 63]! + '=';
  }
  return out;
}

/** Inverse of {@link encodeFloat64}; throws `InvalidArgumentError` on malformed input or wrong length. */
export function decodeFloat64(text: unknown, length: number, name: string): Float64Array {
  const fail = (why: string): never => {
    throw new InvalidArgumentError({ argument: name, message: `${name}: ${why}` });
  };
  if (typeof text !== 'string') return fail('expected a base64 string');
  const byteLength = length * 8;
  const expectedChars = Math.ceil(byteLength / 3) * 4;
  if (text.length !== expectedChars) {
    return fail(`expected ${length} float64 values (${expectedChars} base64 characters), got ${text.length}`);
  }
  const bytes = new Uint8Array(Math.ceil(byteLength / 3) * 3);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = text.charCodeAt(i + k);
      const d = c === 61 ? 0 : c < 128 ? lookup[c]! : -1;
      if (d < 0) return fail('invalid base64 character');
      v = (v << 6) | d;
    }
    bytes[o++] = (v >>> 16) & 255;
    bytes[o++] = (v >>> 8) & 255;
    bytes[o++] = v & 255;
  }
  const view = new DataView(bytes.buffer);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}
