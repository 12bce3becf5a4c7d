import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReportName, listReports, readReport } from './reports.js';

let root: string;
let dir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'openfugu-reports-test-'));
  dir = join(root, 'reports');
  await mkdir(dir);
  await writeFile(join(root, 'secret.svg'), '<svg>secret</svg>');
  await writeFile(join(dir, 'curve.svg'), '<svg>curve</svg>');
  await writeFile(join(dir, 'notes.txt'), 'text');
  await mkdir(join(dir, 'nested.svg'));
  await symlink(join(root, 'secret.svg'), join(dir, 'escape.svg'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('reports', () => {
  it('accepts plain .svg names only', () => {
    expect(isReportName('curve.svg')).toBe(true);
    for (const name of [
      '../secret.svg',
      '..svg',
      'a/b.svg',
      'a\\b.svg',
      '.hidden.svg',
      'x.svg.txt',
      '',
      'a..b.svg',
    ]) {
      expect(isReportName(name)).toBe(false);
    }
  });

  it('lists the SVG files of the directory, not other files or folders; an absent directory lists none', async () => {
    const names = (await listReports(dir)).map((entry) => entry.name).sort();
    expect(names).toEqual(['curve.svg', 'escape.svg']);
    expect(await listReports(join(root, 'absent'))).toEqual([]);
  });

  it('reads a report, and nothing outside the directory (dot-dot, symlink, folder)', async () => {
    expect((await readReport(dir, 'curve.svg'))?.toString()).toBe('<svg>curve</svg>');
    expect(await readReport(dir, '../secret.svg')).toBeUndefined();
    expect(await readReport(dir, 'escape.svg')).toBeUndefined();
    expect(await readReport(dir, 'nested.svg')).toBeUndefined();
    expect(await readReport(dir, 'missing.svg')).toBeUndefined();
  });
});
