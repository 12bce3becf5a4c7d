/**
 * File I/O for router heads (the edge around the pure `parseHead` / `serializeHead`). A `.npy` file holds
 * numbers only, so `saveHeadFile` writes the agent ids and the backbone id beside it, in a sidecar
 * `<file>.meta.json`, and `loadHeadFile` reads that sidecar when it is there.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { HeadFormatError } from './errors.js';
import { createRouterHead, type RouterHead } from './head.js';
import {
  type HeadFormat,
  type ParseHeadOptions,
  parseHead,
  type RouterHeadJson,
  type SerializeHeadOptions,
  serializeHead,
} from './head-io.js';

function formatFromPath(path: string): HeadFormat | undefined {
  const ext = extname(path).toLowerCase();
  return ext === '.npy'
    ? 'npy'
    : ext === '.safetensors'
      ? 'safetensors'
      : ext === '.json'
        ? 'json'
        : undefined;
}

/**
 * Reads a router head from a `.npy`, `.safetensors` or `.json` file (format from the extension, else
 * detected from the bytes).
 *
 * @example
 * ```ts
 * const head = await loadHeadFile('router_head.safetensors');
 * ```
 */
export async function loadHeadFile(path: string, options: ParseHeadOptions = {}): Promise<RouterHead> {
  const bytes = new Uint8Array(await readFile(path));
  const format = options.format ?? formatFromPath(path);
  const meta = format === 'npy' ? await readSidecar(headSidecarPath(path)) : undefined;
  if (meta === undefined)
    return parseHead(bytes, { ...options, ...(format === undefined ? {} : { format }) });
  const head = parseHead(bytes, {
    agentCount: meta.agentCount,
    dimension: meta.dimension,
    roles: meta.roleCount === 3,
    ...options,
    format: 'npy',
  });
  if (
    head.agentCount !== meta.agentCount ||
    head.dimension !== meta.dimension ||
    head.roleCount !== meta.roleCount
  ) {
    throw new HeadFormatError({
      format: 'npy',
      message: `${headSidecarPath(path)} describes a [${meta.agentCount} + ${meta.roleCount}, ${meta.dimension}] head, but ${path} holds [${head.agentCount} + ${head.roleCount}, ${head.dimension}]`,
    });
  }
  const agents = options.agents ?? meta.agents;
  return createRouterHead({
    agentCount: head.agentCount,
    dimension: head.dimension,
    roles: head.roleCount === 3,
    weights: head.weights,
    ...(head.svfOffsets === undefined ? {} : { svfOffsets: head.svfOffsets }),
    ...(agents === undefined ? {} : { agents }),
    ...(meta.backboneId === undefined ? {} : { backboneId: meta.backboneId }),
    ...(meta.valueLink === undefined ? {} : { valueLink: meta.valueLink }),
  });
}

/**
 * What the `.npy` sidecar holds: the JSON head's fields without the numbers (shape, agent ids, backbone id,
 * value link).
 */
export type HeadSidecar = Omit<RouterHeadJson, 'format' | 'weights' | 'svfOffsets'> & {
  format: 'openfugu.router-head-meta';
};

/**
 * The sidecar of a `.npy` head.
 *
 * @example
 * ```ts
 * headSidecarPath('head.npy') // 'head.npy.meta.json'
 * ```
 */
export function headSidecarPath(path: string): string {
  return `${path}.meta.json`;
}

async function readSidecar(path: string): Promise<HeadSidecar | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new HeadFormatError({ format: 'json', message: `${path}: not JSON`, cause });
  }
  const meta = value as Partial<HeadSidecar> | null;
  const count = (n: unknown): boolean => Number.isInteger(n) && (n as number) > 0;
  if (
    meta === null ||
    typeof meta !== 'object' ||
    meta.format !== 'openfugu.router-head-meta' ||
    !count(meta.agentCount) ||
    !count(meta.dimension) ||
    (meta.roleCount !== 0 && meta.roleCount !== 3) ||
    (meta.agents !== undefined &&
      !(Array.isArray(meta.agents) && meta.agents.every((agent) => typeof agent === 'string'))) ||
    (meta.backboneId !== undefined && typeof meta.backboneId !== 'string') ||
    (meta.valueLink !== undefined && meta.valueLink !== 'identity' && meta.valueLink !== 'logistic')
  ) {
    throw new HeadFormatError({
      format: 'json',
      message: `${path}: expected { format: 'openfugu.router-head-meta', agentCount, roleCount: 0 | 3, dimension, agents?, backboneId?, valueLink? }`,
    });
  }
  return meta as HeadSidecar;
}

/**
 * Writes a router head; the format comes from the extension unless given (default JSON). A 2-D `.npy` head
 * also gets its sidecar (`headSidecarPath`: shape, agent ids, backbone id), which `loadHeadFile` reads back.
 * The flat published vector (`flat: true`) is written as is, without one.
 *
 * @example
 * ```ts
 * await saveHeadFile('head.npy', head); // head.npy + head.npy.meta.json
 * ```
 */
export async function saveHeadFile(
  path: string,
  head: RouterHead,
  options: SerializeHeadOptions & { format?: HeadFormat } = {},
): Promise<void> {
  const format = options.format ?? formatFromPath(path) ?? 'json';
  await writeFile(path, serializeHead(head, format, options));
  if (format !== 'npy' || (options.flat === true && head.svfOffsets !== undefined)) return;
  const meta: HeadSidecar = {
    format: 'openfugu.router-head-meta',
    version: 1,
    agentCount: head.agentCount,
    roleCount: head.roleCount,
    dimension: head.dimension,
    ...(head.agents === undefined ? {} : { agents: [...head.agents] }),
    ...(head.backboneId === undefined ? {} : { backboneId: head.backboneId }),
    ...(head.valueLink === undefined ? {} : { valueLink: head.valueLink }),
  };
  await writeFile(headSidecarPath(path), `${JSON.stringify(meta, null, 2)}\n`);
}
