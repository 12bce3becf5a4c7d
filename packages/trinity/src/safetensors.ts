/**
 * `.safetensors` reading and writing (huggingface/safetensors format: an 8-byte little-endian header
 * length N, N bytes of JSON header `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }`,
 * then the tensor bytes, offsets relative to the end of the header). Pure: bytes in, bytes out.
 * Reads F32, F64, F16 and BF16 (converted to float64); writes F32 or F64.
 */
import { HeadFormatError } from './errors.js';
import type { DenseArray } from './npy.js';

/** A parsed safetensors file: its tensors by name and its string metadata. */
export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, DenseArray>;
  readonly metadata: Readonly<Record<string, string>>;
}

const MAX_HEADER = 100_000_000;

function fail(message: string, cause?: unknown): never {
  throw new HeadFormatError({ format: 'safetensors', message, cause });
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** True when `bytes` looks like a safetensors file (plausible header length followed by `{`). */
export function isSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  return length > 1 && length <= bytes.length - 8 && bytes[8] === 0x7b;
}

/**
 * Parses a safetensors file. Throws `HeadFormatError` for a bad header length, invalid JSON, an
 * unsupported dtype, or offsets that disagree with the shape or run past the file.
 *
 * @example
 * ```ts
 * const { tensors } = parseSafetensors(bytes);
 * tensors.get('router_head')?.shape; // [10, 1024]
 * ```
 */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) fail('safetensors file shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > MAX_HEADER || 8 + headerLength > bytes.length) {
    fail(`safetensors header length ${headerLength} is larger than the file (${bytes.length} bytes)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (error) {
    fail('safetensors header is not valid UTF-8 JSON', error);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail('safetensors header is not an object');
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, DenseArray>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null) fail('__metadata__ is not an object');
      metadata = Object.fromEntries(
        Object.entries(entry as Record<string, unknown>).filter(
          (e): e is [string, string] => typeof e[1] === 'string',
        ),
      );
      continue;
    }
    const info = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null) fail(`tensor '${name}' has no description`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
      fail(`tensor '${name}' has an invalid shape`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((n) => Number.isInteger(n) && n >= 0)
    ) {
      fail(`tensor '${name}' has invalid data_offsets`);
    }
    const itemSize = dtype === 'F64' ? 8 : dtype === 'F32' ? 4 : dtype === 'F16' || dtype === 'BF16' ? 2 : 0;
    if (itemSize === 0) {
      fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(dtype)} (accepted: F32, F64, F16, BF16)`);
    }
    const dims = shape as number[];
    const [begin, end] = offsets as [number, number];
    const count = dims.reduce((a, b) => a * b, 1);
    if (end - begin !== count * itemSize) {
      fail(
        `tensor '${name}': data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape [${dims.join(', ')}] needs ${count * itemSize}`,
      );
    }
    if (dataStart + end > bytes.length) fail(`tensor '${name}' runs past the end of the file`);
    const data = new Float64Array(count);
    const base = dataStart + begin;
    if (dtype === 'F64') for (let k = 0; k < count; k++) data[k] = view.getFloat64(base + 8 * k, true);
    else if (dtype === 'F32') for (let k = 0; k < count; k++) data[k] = view.getFloat32(base + 4 * k, true);
    else if (dtype === 'F16')
      for (let k = 0; k < count; k++) data[k] = halfToFloat(view.getUint16(base + 2 * k, true));
    else {
      const scratch = new DataView(new ArrayBuffer(4));
      for (let k = 0; k < count; k++) {
        scratch.setUint32(0, view.getUint16(base + 2 * k, true) << 16, true);
        data[k] = scratch.getFloat32(0, true);
      }
    }
    const stored =
      dtype === 'F64' ? 'float64' : dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : 'bfloat16';
    tensors.set(name, { shape: dims, data, dtype: stored });
  }
  return { tensors, metadata };
}

/**
 * Serialises tensors (and string metadata) as safetensors, in the given order, F32 by default.
 *
 * @example
 * ```ts
 * const bytes = serializeSafetensors([{ name: 'router_head', shape: [10, 1024], data: weights }]);
 * ```
 */
export function serializeSafetensors(
  tensors: readonly { name: string; shape: readonly number[]; data: ArrayLike<number> }[],
  options: { dtype?: 'float32' | 'float64'; metadata?: Record<string, string> } = {},
): Uint8Array {
  const itemSize = options.dtype === 'float64' ? 8 : 4;
  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined && Object.keys(options.metadata).length > 0)
    header.__metadata__ = options.metadata;
  let offset = 0;
  for (const tensor of tensors) {
    const size = tensor.data.length * itemSize;
    header[tensor.name] = {
      dtype: itemSize === 8 ? 'F64' : 'F32',
      shape: [...tensor.shape],
      data_offsets: [offset, offset + size],
    };
    offset += size;
  }
  let json = JSON.stringify(header);
  const encoded0 = new TextEncoder().encode(json);
  json += ' '.repeat((8 - (encoded0.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  view.setUint32(4, 0, true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of tensors) {
    for (let k = 0; k < tensor.data.length; k++) {
      if (itemSize === 8) view.setFloat64(position, tensor.data[k]!, true);
      else view.setFloat32(position, tensor.data[k]!, true);
      position += itemSize;
    }
  }
  return out;
}
