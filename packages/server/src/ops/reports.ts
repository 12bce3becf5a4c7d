/**
 * The routing reports the page lists: SVG files (`openfugu-eval` reports, the trainer's curves) in one
 * configured directory. Only plain file names are served (no separators, no dot-dot, `.svg` only), and the
 * resolved path must stay inside the directory after symlinks are followed.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** One report file. */
export interface ReportEntry {
  name: string;
  bytes: number;
  /** Last modification, epoch ms. */
  modified: number;
}

const REPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.svg$/;
/** Largest report served (SVG reports are small; a huge file is a mistake, not a report). */
const MAX_REPORT_BYTES = 8 * 1024 * 1024;

/** Whether `name` is a report file name the page may ask for. */
export function isReportName(name: string): boolean {
  return REPORT_NAME.test(name) && !name.includes('..');
}

/**
 * Lists the SVG reports directly inside `dir` (not recursive), newest first; an absent directory lists none.
 *
 * @example
 * ```ts
 * const reports = await listReports('./reports'); // [{ name: 'routing.svg', bytes: 5123, modified: … }]
 * ```
 */
export async function listReports(dir: string): Promise<ReportEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const entries: ReportEntry[] = [];
  for (const name of names) {
    if (!isReportName(name)) continue;
    try {
      const info = await stat(join(dir, name));
      if (info.isFile()) entries.push({ name, bytes: info.size, modified: info.mtimeMs });
    } catch {
      // vanished or unreadable: not listed
    }
  }
  return entries.sort((a, b) => b.modified - a.modified || a.name.localeCompare(b.name));
}

/**
 * Reads one report by name; undefined when the name is not a report name, the file is missing, too large,
 * or resolves (through a symlink) outside `dir`.
 */
export async function readReport(dir: string, name: string): Promise<Buffer | undefined> {
  if (!isReportName(name)) return undefined;
  try {
    const root = await realpath(dir);
    const file = await realpath(join(root, name));
    if (!file.startsWith(root + sep)) return undefined;
    const info = await stat(file);
    if (!info.isFile() || info.size > MAX_REPORT_BYTES) return undefined;
    return await readFile(file);
  } catch {
    return undefined;
  }
}
