/**
 * NumPy `.npy` reading and writing (format versions 1.0, 2.0 and 3.0) for float32/float64 arrays in C
 * order. Pure: bytes in, bytes out. Spec: numpy/lib/format.py ("NEP 1").
 */
import { HeadFormatError } from './errors.js';

/** A dense float array with its shape (C order). */
export interface DenseArray {
  readonly shape: readonly number[];
  readonly data: Float64Array;
  /** The stored element type. */
  readonly dtype: 'float32' | 'float64' | 'float16' | 'bfloat16';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** True when `bytes` starts with the `.npy` magic string. */
export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

type PyValue = string | number | boolean | PyValue[] | { [key: string]: PyValue };

/** Parses the Python-literal header dict of an .npy file (strings, ints, True/False, tuples, dicts). */
function parsePythonLiteral(text: string): PyValue {
  let i = 0;
  const fail = (message: string): never => {
    throw new HeadFormatError({
      format: 'npy',
      message: `.npy header: ${message} at offset ${i} in ${JSON.stringify(text)}`,
    });
  };
  const skip = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (): PyValue => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: { [key: string]: PyValue } = {};
      for (;;) {
        skip();
        if (text[i] === '}') {
          i++;
          return out;
        }
        const key = value();
        if (typeof key !== 'string') fail('dict key is not a string');
        skip();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        out[key as string] = value();
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const out: PyValue[] = [];
      for (;;) {
        skip();
        if (text[i] === close) {
          i++;
          return out;
        }
        out.push(value());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(True|False|-?\d+L?)/.exec(text.slice(i));
    if (m === null) return fail('unexpected token');
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    return Number.parseInt(m[0], 10);
  };
  const result = value();
  skip();
  if (i !== text.length) fail('trailing characters');
  return result;
}

/**
 * Parses an `.npy` file holding a float32 or float64 array in C order (either byte order).
 * Throws `HeadFormatError` for a bad magic, an unparsable header, `fortran_order: True`, another dtype,
 * or truncated data.
 *
 * @example
 * ```ts
 * const { shape, data } = parseNpy(bytes); // shape [10, 1024]
 * ```
 */
export function parseNpy(bytes: Uint8Array): DenseArray {
  if (!isNpy(bytes))
    throw new HeadFormatError({ format: 'npy', message: 'not an .npy file (missing \\x93NUMPY magic)' });
  if (bytes.length < 10)
    throw new HeadFormatError({ format: 'npy', message: '.npy file truncated in its preamble' });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12)
      throw new HeadFormatError({ format: 'npy', message: '.npy file truncated in its preamble' });
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new HeadFormatError({
      format: 'npy',
      message: `unsupported .npy format version ${major}.${bytes[7]}`,
    });
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length)
    throw new HeadFormatError({ format: 'npy', message: '.npy header runs past the end of the file' });
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, dataStart),
  );
  const header = parsePythonLiteral(headerText.trim());
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new HeadFormatError({ format: 'npy', message: '.npy header is not a dict' });
  }
  const { descr, fortran_order: fortranOrder, shape } = header as Record<string, PyValue | undefined>;
  if (typeof descr !== 'string')
    throw new HeadFormatError({ format: 'npy', message: ".npy header lacks a string 'descr'" });
  if (fortranOrder !== false) {
    throw new HeadFormatError({
      format: 'npy',
      message: `.npy array is stored in Fortran order (fortran_order: ${String(fortranOrder)}); save it in C order (np.ascontiguousarray) first`,
    });
  }
  if (!Array.isArray(shape) || !shape.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) {
    throw new HeadFormatError({ format: 'npy', message: ".npy header lacks an integer tuple 'shape'" });
  }
  const dims = shape as number[];
  const m = /^([<>=|])f([48])$/.exec(descr);
  if (m === null) {
    throw new HeadFormatError({
      format: 'npy',
      message: `unsupported .npy dtype '${descr}': only float32 ('<f4') and float64 ('<f8') are accepted`,
    });
  }
  const littleEndian = m[1] !== '>';
  const itemSize = Number(m[2]);
  const count = dims.reduce((a, b) => a * b, 1);
  if (dataStart + count * itemSize > bytes.length) {
    throw new HeadFormatError({
      format: 'npy',
      message: `.npy data truncated: shape (${dims.join(', ')}) needs ${count * itemSize} bytes, file has ${bytes.length - dataStart}`,
    });
  }
  const data = new Float64Array(count);
  if (itemSize === 4)
    for (let k = 0; k < count; k++) data[k] = view.getFloat32(dataStart + 4 * k, littleEndian);
  else for (let k = 0; k < count; k++) data[k] = view.getFloat64(dataStart + 8 * k, littleEndian);
  return { shape: dims, data, dtype: itemSize === 4 ? 'float32' : 'float64' };
}

/**
 * Serialises a float array as `.npy` version 1.0, little-endian, C order. Default dtype float32.
 *
 * @example
 * ```ts
 * const bytes = serializeNpy({ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, 'float64');
 * ```
 */
export function serializeNpy(
  array: { shape: readonly number[]; data: ArrayLike<number> },
  dtype: 'float32' | 'float64' = 'float32',
): Uint8Array {
  const itemSize = dtype === 'float32' ? 4 : 8;
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '<f${itemSize}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad with spaces so that magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const count = array.data.length;
  const out = new Uint8Array(10 + header.length + count * itemSize);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let k = 0; k < header.length; k++) out[10 + k] = header.charCodeAt(k);
  const start = 10 + header.length;
  if (itemSize === 4) for (let k = 0; k < count; k++) view.setFloat32(start + 4 * k, array.data[k]!, true);
  else for (let k = 0; k < count; k++) view.setFloat64(start + 8 * k, array.data[k]!, true);
  return out;
}
