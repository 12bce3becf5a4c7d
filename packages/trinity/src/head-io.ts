/**
 * Reading and writing router heads as `.npy`, `.safetensors` and JSON — pure (bytes in, bytes out).
 * `loadHeadFile` / `saveHeadFile` in `head-file.ts` do the file I/O at the edge.
 *
 * Accepted layouts (d = dimension, default 1024; roles on by default):
 * - a 2-D array `[agents + 3, d]` (e.g. the published `router_head` `[10, 1024]`), or `[agents, d]` with
 *   `roles: false`;
 * - a flat head-only vector of `(agents + 3) · d` floats (published: 10,240);
 * - a flat full TRINITY parameter vector: `9 · d` SVF offsets then the head (published: 19,456 =
 *   9 × 1024 + 10 × 1024). The offsets are kept in `head.svfOffsets`.
 * For flat vectors the agent count defaults to 7 (the published pool); pass `agentCount` otherwise.
 */
import { ShapeMismatchError } from '@openfugu/schema';
import { HeadFormatError } from './errors.js';
import { createRouterHead, ROLE_COUNT, type RouterHead, SVF_MATRIX_COUNT } from './head.js';
import { isNpy, parseNpy, serializeNpy } from './npy.js';
import { isSafetensors, parseSafetensors, serializeSafetensors } from './safetensors.js';

/** Serialisation formats of a router head. */
export type HeadFormat = 'npy' | 'safetensors' | 'json';

/** Options of {@link parseHead} and {@link headFromArray}. */
export interface ParseHeadOptions {
  /** Format; detected from the bytes when omitted (npy magic, JSON `{`/`[`, else safetensors). */
  format?: HeadFormat;
  /** Expected number of agent rows. Inferred from 2-D shapes; 7 for flat vectors when omitted. */
  agentCount?: number;
  /** Expected row length. Inferred from 2-D shapes; 1024 for flat vectors when omitted. */
  dimension?: number;
  /** Whether the head has the three role rows. Default true. */
  roles?: boolean;
  /** Safetensors tensor name; default `router_head`, else the only tensor in the file. */
  tensor?: string;
  /** Agent ids to attach (overrides ids stored in the file). */
  agents?: readonly string[];
}

/** JSON layout written by {@link serializeHead} (`format: 'openfugu.router-head'`). */
export interface RouterHeadJson {
  format: 'openfugu.router-head';
  version: 1;
  agentCount: number;
  roleCount: 0 | 3;
  dimension: number;
  agents?: string[];
  backboneId?: string;
  /** One array per row, agent rows first. */
  weights: number[][];
  svfOffsets?: number[][];
  /** Per-agent bias of a value head. */
  agentBias?: number[];
  valueLink?: 'identity' | 'logistic';
}

const PUBLISHED_AGENTS = 7;
const PUBLISHED_DIMENSION = 1024;

/**
 * Builds a head from a dense array in one of the accepted layouts; `ShapeMismatchError` otherwise.
 *
 * @example
 * ```ts
 * const head = headFromArray({ shape: [19456], data: vector }); // 7 agents + 3 roles × 1024, SVF kept
 * ```
 */
export function headFromArray(
  array: { shape: readonly number[]; data: ArrayLike<number> },
  options: Omit<ParseHeadOptions, 'format' | 'tensor'> & { backboneId?: string } = {},
): RouterHead {
  const roles = options.roles ?? true;
  const roleCount = roles ? ROLE_COUNT : 0;
  const shape = array.shape;
  const extra = {
    roles,
    ...(options.agents === undefined ? {} : { agents: options.agents }),
    ...(options.backboneId === undefined ? {} : { backboneId: options.backboneId }),
  };
  const mismatch = (expected: string): never => {
    throw new ShapeMismatchError({
      message: `router head has shape [${shape.join(', ')}], expected ${expected}`,
      expected,
      actual: `[${shape.join(', ')}]`,
    });
  };
  if (shape.length === 2) {
    const [rows, d] = shape as [number, number];
    if (options.dimension !== undefined && d !== options.dimension) mismatch(`[rows, ${options.dimension}]`);
    const agentCount = options.agentCount ?? rows - roleCount;
    if (agentCount < 1 || rows !== agentCount + roleCount) {
      mismatch(
        `[${options.agentCount ?? 'agents'} + ${roleCount}, ${d}] (${roles ? 'agent rows then Worker, Thinker, Verifier' : 'agent rows only'})`,
      );
    }
    return createRouterHead({ agentCount, dimension: d, weights: array.data, ...extra });
  }
  if (shape.length === 1) {
    const length = shape[0]!;
    const d = options.dimension ?? PUBLISHED_DIMENSION;
    const agentCount = options.agentCount ?? PUBLISHED_AGENTS;
    const headSize = (agentCount + roleCount) * d;
    const svfSize = SVF_MATRIX_COUNT * d;
    const accepted = `[${headSize}] (head only: ${agentCount + roleCount} × ${d}) or [${svfSize + headSize}] (${SVF_MATRIX_COUNT} × ${d} SVF offsets then the head)`;
    if (length === headSize)
      return createRouterHead({ agentCount, dimension: d, weights: array.data, ...extra });
    if (length === svfSize + headSize) {
      const data = Array.from(array.data);
      return createRouterHead({
        agentCount,
        dimension: d,
        weights: data.slice(svfSize),
        svfOffsets: data.slice(0, svfSize),
        ...extra,
      });
    }
    return mismatch(accepted);
  }
  return mismatch('a 1-D vector or a 2-D [rows, dimension] matrix');
}

function detectFormat(bytes: Uint8Array): HeadFormat {
  if (isNpy(bytes)) return 'npy';
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
  )
    i++;
  if (bytes[i] === 0x7b || bytes[i] === 0x5b) return 'json';
  if (isSafetensors(bytes)) return 'safetensors';
  throw new HeadFormatError({
    format: 'unknown',
    message: 'unrecognised head file: not .npy, JSON or safetensors',
  });
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v));
}

function matrixFromJson(value: unknown, what: string): { shape: number[]; data: number[] } {
  if (isNumberArray(value)) return { shape: [value.length], data: value };
  if (Array.isArray(value) && value.length > 0 && value.every(isNumberArray)) {
    const width = (value[0] as number[]).length;
    if (!value.every((row) => (row as number[]).length === width)) {
      throw new ShapeMismatchError({
        message: `${what}: rows have different lengths`,
        expected: 'equal row lengths',
        actual: 'ragged',
      });
    }
    return { shape: [value.length, width], data: (value as number[][]).flat() };
  }
  throw new HeadFormatError({
    format: 'json',
    message: `${what} must be an array of finite numbers or of equal-length rows`,
  });
}

/**
 * Parses a router head from `.npy`, `.safetensors` or JSON bytes (format detected when not given) and
 * checks its shape against the accepted layouts (see the module comment).
 *
 * @example
 * ```ts
 * const head = parseHead(bytes, { agentCount: 5 });
 * ```
 */
export function parseHead(bytes: Uint8Array, options: ParseHeadOptions = {}): RouterHead {
  const format = options.format ?? detectFormat(bytes);
  if (format === 'npy') return headFromArray(parseNpy(bytes), options);
  if (format === 'safetensors') {
    const file = parseSafetensors(bytes);
    const names = [...file.tensors.keys()];
    const name =
      options.tensor ??
      (file.tensors.has('router_head')
        ? 'router_head'
        : names.filter((n) => n !== 'svf_offsets' && n !== 'agent_bias').length === 1
          ? names.find((n) => n !== 'svf_offsets' && n !== 'agent_bias')
          : undefined);
    const tensor = name === undefined ? undefined : file.tensors.get(name);
    if (tensor === undefined) {
      throw new HeadFormatError({
        format: 'safetensors',
        message: `safetensors file has no tensor ${name === undefined ? "'router_head'" : `'${name}'`} (tensors: ${names.join(', ') || 'none'})`,
      });
    }
    let agents = options.agents;
    if (agents === undefined && file.metadata.agents !== undefined) {
      try {
        const parsed: unknown = JSON.parse(file.metadata.agents);
        if (Array.isArray(parsed) && parsed.every((a) => typeof a === 'string')) agents = parsed;
      } catch {
        // Foreign metadata: ignore.
      }
    }
    // Our own files record the role rows in the metadata; an explicit `roles` option still wins.
    const recordedRoles = file.metadata.role_count;
    const roles =
      options.roles ??
      (recordedRoles === '0' ? false : recordedRoles === String(ROLE_COUNT) ? true : undefined);
    const head = headFromArray(tensor, {
      ...options,
      ...(roles === undefined ? {} : { roles }),
      ...(agents === undefined ? {} : { agents }),
      ...(file.metadata.backbone_id === undefined ? {} : { backboneId: file.metadata.backbone_id }),
    });
    return withHeadExtras(head, {
      svfOffsets: file.tensors.get('svf_offsets')?.data,
      agentBias: file.tensors.get('agent_bias')?.data,
      valueLink: file.metadata.value_link,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new HeadFormatError({ format: 'json', message: 'head file is not valid UTF-8 JSON', cause: error });
  }
  if (Array.isArray(json)) return headFromArray(matrixFromJson(json, 'head'), options);
  if (typeof json !== 'object' || json === null)
    throw new HeadFormatError({ format: 'json', message: 'head JSON must be an object or an array' });
  const record = json as Partial<RouterHeadJson> & Record<string, unknown>;
  if (record.format !== 'openfugu.router-head') {
    throw new HeadFormatError({
      format: 'json',
      message: "head JSON object must have format 'openfugu.router-head'",
    });
  }
  const matrix = matrixFromJson(record.weights, 'weights');
  const roles = record.roleCount === undefined ? options.roles : record.roleCount > 0;
  const storedAgents =
    Array.isArray(record.agents) && record.agents.every((a) => typeof a === 'string')
      ? record.agents
      : undefined;
  const agents = options.agents ?? storedAgents;
  const head = headFromArray(matrix, {
    ...options,
    ...(roles === undefined ? {} : { roles }),
    ...(record.agentCount === undefined ? {} : { agentCount: record.agentCount }),
    ...(record.dimension === undefined ? {} : { dimension: record.dimension }),
    ...(agents === undefined ? {} : { agents }),
    ...(typeof record.backboneId === 'string' ? { backboneId: record.backboneId } : {}),
  });
  return withHeadExtras(head, {
    svfOffsets:
      record.svfOffsets === undefined ? undefined : matrixFromJson(record.svfOffsets, 'svfOffsets').data,
    agentBias:
      record.agentBias === undefined ? undefined : matrixFromJson(record.agentBias, 'agentBias').data,
    valueLink: record.valueLink,
  });
}

/**
 * Attaches what a file stores beside the weight matrix (SVF offsets, per-agent bias, value link) to a
 * parsed head; unchanged when there is nothing to add. An unknown value link is a format error.
 */
function withHeadExtras(
  head: RouterHead,
  extras: {
    svfOffsets: ArrayLike<number> | undefined;
    agentBias: ArrayLike<number> | undefined;
    valueLink: unknown;
  },
): RouterHead {
  const { valueLink } = extras;
  if (valueLink !== undefined && valueLink !== 'identity' && valueLink !== 'logistic') {
    throw new HeadFormatError({
      format: 'unknown',
      message: `unknown value link '${String(valueLink)}' (expected 'identity' or 'logistic')`,
    });
  }
  const svfOffsets = head.svfOffsets === undefined ? extras.svfOffsets : head.svfOffsets;
  if (svfOffsets === head.svfOffsets && extras.agentBias === undefined && valueLink === undefined)
    return head;
  return createRouterHead({
    agentCount: head.agentCount,
    dimension: head.dimension,
    roles: head.roleCount > 0,
    weights: head.weights,
    ...(svfOffsets === undefined ? {} : { svfOffsets }),
    ...(head.agents === undefined ? {} : { agents: head.agents }),
    ...(head.backboneId === undefined ? {} : { backboneId: head.backboneId }),
    ...(extras.agentBias === undefined ? {} : { agentBias: extras.agentBias }),
    ...(valueLink === undefined ? {} : { valueLink }),
  });
}

/** Options of {@link serializeHead}. */
export interface SerializeHeadOptions {
  /** Element type for `.npy` / `.safetensors`. Default float32 (what the published heads use). */
  dtype?: 'float32' | 'float64';
  /**
   * `.npy` only: write the flat published parameter vector (SVF offsets then head) when the head has
   * SVF offsets. Default false (a 2-D `[rows, dimension]` array).
   */
  flat?: boolean;
}

/**
 * Serialises a head. `.npy`: `[rows, dimension]` (or the flat vector with `flat`); `.safetensors`:
 * `router_head` `[rows, dimension]` plus `svf_offsets` `[9, dimension]` when present, agent ids and
 * backbone id in `__metadata__`; JSON: {@link RouterHeadJson} (float64 precision).
 *
 * @example
 * ```ts
 * const bytes = serializeHead(head, 'safetensors');
 * ```
 */
export function serializeHead(
  head: RouterHead,
  format: HeadFormat,
  options: SerializeHeadOptions = {},
): Uint8Array {
  const rows = head.agentCount + head.roleCount;
  const d = head.dimension;
  if (format === 'npy') {
    if (head.agentBias !== undefined) {
      throw new HeadFormatError({
        format: 'npy',
        message: 'this head has a per-agent bias, which .npy cannot hold: save it as .safetensors or JSON',
      });
    }
    if (options.flat === true && head.svfOffsets !== undefined) {
      const flat = new Float64Array(head.svfOffsets.length + head.weights.length);
      flat.set(head.svfOffsets, 0);
      flat.set(head.weights, head.svfOffsets.length);
      return serializeNpy({ shape: [flat.length], data: flat }, options.dtype);
    }
    return serializeNpy({ shape: [rows, d], data: head.weights }, options.dtype);
  }
  if (format === 'safetensors') {
    const tensors = [{ name: 'router_head', shape: [rows, d], data: head.weights }];
    if (head.svfOffsets !== undefined)
      tensors.push({ name: 'svf_offsets', shape: [SVF_MATRIX_COUNT, d], data: head.svfOffsets });
    if (head.agentBias !== undefined)
      tensors.push({ name: 'agent_bias', shape: [head.agentCount], data: head.agentBias });
    const metadata: Record<string, string> = {
      format: 'openfugu.router-head',
      role_count: String(head.roleCount),
    };
    if (head.agents !== undefined) metadata.agents = JSON.stringify(head.agents);
    if (head.backboneId !== undefined) metadata.backbone_id = head.backboneId;
    if (head.valueLink !== undefined) metadata.value_link = head.valueLink;
    return serializeSafetensors(tensors, {
      metadata,
      ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
    });
  }
  const toRows = (data: Float64Array, count: number): number[][] =>
    Array.from({ length: count }, (_, r) => Array.from(data.subarray(r * d, (r + 1) * d)));
  const json: RouterHeadJson = {
    format: 'openfugu.router-head',
    version: 1,
    agentCount: head.agentCount,
    roleCount: head.roleCount,
    dimension: d,
    ...(head.agents === undefined ? {} : { agents: [...head.agents] }),
    ...(head.backboneId === undefined ? {} : { backboneId: head.backboneId }),
    weights: toRows(head.weights, rows),
    ...(head.svfOffsets === undefined ? {} : { svfOffsets: toRows(head.svfOffsets, SVF_MATRIX_COUNT) }),
    ...(head.agentBias === undefined ? {} : { agentBias: Array.from(head.agentBias) }),
    ...(head.valueLink === undefined ? {} : { valueLink: head.valueLink }),
  };
  return new TextEncoder().encode(JSON.stringify(json));
}
