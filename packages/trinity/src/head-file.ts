/** File I/O for router heads (the edge around the pure `parseHead` / `serializeHead`). */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { RouterHead } from './head.js';
import {
  type HeadFormat,
  type ParseHeadOptions,
  parseHead,
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
  return parseHead(bytes, { ...options, ...(format === undefined ? {} : { format }) });
}

/**
 * Writes a router head; the format comes from the extension unless given (default JSON).
 *
 * @example
 * ```ts
 * await saveHeadFile('head.npy', head);
 * ```
 */
export async function saveHeadFile(
  path: string,
  head: RouterHead,
  options: SerializeHeadOptions & { format?: HeadFormat } = {},
): Promise<void> {
  const format = options.format ?? formatFromPath(path) ?? 'json';
  await writeFile(path, serializeHead(head, format, options));
}
