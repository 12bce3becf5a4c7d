/**
 * A minimal reader/writer for the protobuf wire format — just enough to edit ONNX models without
 * decoding their weights.
 *
 * ONNX files are protobuf messages (`ModelProto`). Decoding one fully (protobufjs, onnx-proto) builds a JS
 * object for every tensor; for a 0.6B-parameter model that is slow and memory-hungry, and the only edit we
 * need is to the graph's node list and outputs. On the wire a message is a flat sequence of fields
 * (`tag = field << 3 | wireType`, then the payload), so a field can be dropped or appended by copying byte
 * ranges. Reference: https://protobuf.dev/programming-guides/encoding/
 */

/** Wire types used by proto3/proto2 (3 and 4, the deprecated groups, are rejected). */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

/** One field of a message as it lies in the buffer. */
export interface WireField {
  /** Field number. */
  readonly field: number;
  /** Wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
  readonly wireType: number;
  /** Offset of the field's tag (start of the whole field). */
  readonly start: number;
  /** Offset of the payload (after the length prefix for length-delimited fields). */
  readonly valueStart: number;
  /** Offset just past the field. */
  readonly end: number;
  /** The value of a varint field (exact up to 2^53); 0 for other wire types. */
  readonly varint: number;
}

/** Thrown (internally) when bytes are not a well-formed protobuf message. */
export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

function readVarint(bytes: Uint8Array, offset: number, limit: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  let position = offset;
  for (let i = 0; i < 10; i++) {
    if (position >= limit) throw new WireFormatError(`truncated varint at byte ${offset}`);
    const byte = bytes[position++]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, position];
    scale *= 128;
  }
  throw new WireFormatError(`varint longer than 10 bytes at byte ${offset}`);
}

/**
 * Lists the fields of the message stored in `bytes[start, end)`, in order. Payloads are not copied.
 * Throws `WireFormatError` on malformed input (never loops forever: every step advances).
 */
export function readFields(bytes: Uint8Array, start = 0, end = bytes.length): WireField[] {
  const fields: WireField[] = [];
  let position = start;
  while (position < end) {
    const fieldStart = position;
    const [tag, afterTag] = readVarint(bytes, position, end);
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) throw new WireFormatError(`field number 0 at byte ${fieldStart}`);
    let valueStart = afterTag;
    let fieldEnd: number;
    let varint = 0;
    switch (wireType) {
      case WIRE_VARINT: {
        [varint, fieldEnd] = readVarint(bytes, afterTag, end);
        break;
      }
      case WIRE_FIXED64:
        fieldEnd = afterTag + 8;
        break;
      case WIRE_LENGTH_DELIMITED: {
        const [length, afterLength] = readVarint(bytes, afterTag, end);
        valueStart = afterLength;
        fieldEnd = afterLength + length;
        break;
      }
      case WIRE_FIXED32:
        fieldEnd = afterTag + 4;
        break;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType} at byte ${fieldStart}`);
    }
    if (fieldEnd > end)
      throw new WireFormatError(`field ${field} at byte ${fieldStart} runs past the message end`);
    fields.push({ field, wireType, start: fieldStart, valueStart, end: fieldEnd, varint });
    position = fieldEnd;
  }
  return fields;
}

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/** Decodes the payload of a length-delimited field as UTF-8. */
export function fieldString(bytes: Uint8Array, field: WireField): string {
  return textDecoder.decode(bytes.subarray(field.valueStart, field.end));
}

function encodeVarint(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a varint`);
  const out: number[] = [];
  let rest = value;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** Encodes a varint field. */
export function varintField(field: number, value: number): Uint8Array {
  return Uint8Array.from([...encodeVarint(field * 8 + WIRE_VARINT), ...encodeVarint(value)]);
}

/** Encodes a length-delimited field whose payload is the concatenation of `parts`. */
export function lengthDelimitedField(field: number, parts: readonly Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const head = Uint8Array.from([...encodeVarint(field * 8 + WIRE_LENGTH_DELIMITED), ...encodeVarint(length)]);
  return concatBytes([head, ...parts]);
}

/** Encodes a UTF-8 string field. */
export function stringField(field: number, value: string): Uint8Array {
  return lengthDelimitedField(field, [textEncoder.encode(value)]);
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
