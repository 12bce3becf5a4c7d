import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeWithData } from '@openfugu/vitest-config/data';
import { describe, expect, it } from 'vitest';
import { runEvalCli } from './cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'openfugu-eval-cli-'));

/** Runs the CLI in-process, capturing what it writes (no child process: fast on a loaded machine). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runEvalCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

/** Starts the bin's entry from source (tsx + the @openfugu/source condition), as the built bin would run. */
function spawnCli(...args: string[]) {
  const result = spawnSync(
    process.execPath,
    ['--conditions=@openfugu/source', '--import', 'tsx', path.join(here, 'bin.ts'), ...args],
    { encoding: 'utf8', cwd: path.join(here, '..'), timeout: SPAWN_TIMEOUT_MS },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
// A child node + tsx start takes well under a second on an idle machine; allow a loaded one 60 s.
const SPAWN_TIMEOUT_MS = 60_000;

function writeTable(name: string, rows: number, models = ['small', 'large']): string {
  const file = path.join(work, name);
  const lines = [`id,prompt,${models.join(',')}`];
  for (let i = 0; i < rows; i++) {
    const math = i % 2 === 0;
    // Model 0 solves the "compute" prompts, model 1 the "describe" prompts and every fifth "compute" one.
    const solved = (m: number): number => (m === 0 ? (math ? 1 : 0) : !math || i % 5 === 0 ? 1 : 0);
    lines.push(
      `${i},"${math ? 'compute' : 'describe'} item ${i}",${models.map((_, m) => solved(m)).join(',')}`,
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('openfugu-eval routing (contract)', () => {
  const table = writeTable('table.csv', 120);

  it('writes the JSON summary with the contract fields, plus Markdown and SVG', async () => {
    const out = path.join(work, 'out.json');
    const result = await cli(
      'routing',
      '--train',
      table,
      '--split',
      '0.7',
      '--seed',
      '4',
      '--generations',
      '5',
      '--resamples',
      '50',
      '--json',
      out,
      '--markdown',
      path.join(work, 'out.md'),
      '--svg',
      path.join(work, 'out.svg'),
      '--quiet',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report).toMatchObject({
      router: { mean: expect.any(Number) },
      best_single: { model: expect.any(String), mean: expect.any(Number) },
      oracle: { mean: 1 },
      random: { mean: expect.any(Number) },
      n_test: expect.any(Number),
      apgr: expect.any(Number),
      aiq: expect.any(Number),
    });
    expect(report.n_test + report.n_train).toBe(120);
    expect(report.curve.length).toBeGreaterThan(2);
    expect(report.router.ci95).toHaveLength(2);
    const svg = readFileSync(path.join(work, 'out.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    for (const label of ['best single', 'oracle', 'random', 'kNN', 'TRINITY head'])
      expect(svg).toContain(label);
    expect(readFileSync(path.join(work, 'out.md'), 'utf8')).toContain('| oracle |');
  });

  it('--quiet on a terminal keeps one progress line on stderr; --quiet into a pipe prints nothing', async () => {
    let stderr = '';
    const code = await runEvalCli(
      [
        'routing',
        '--train',
        table,
        '--generations',
        '5',
        '--resamples',
        '20',
        '--json',
        path.join(work, 'q.json'),
        '--quiet',
      ],
      { stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text), isTTY: true } },
    );
    expect(code).toBe(0);
    expect(stderr).toMatch(/openfugu-eval \[.*\] 100% \| 5\/5/);
    // One line, redrawn in place (carriage returns / cursor moves), ended once.
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    const piped = await cli(
      'routing',
      '--train',
      table,
      '--generations',
      '2',
      '--resamples',
      '20',
      '--json',
      path.join(work, 'q2.json'),
      '--quiet',
    );
    expect(piped.stderr).toBe('');
  });

  it('gives the same split and result for the same seed', async () => {
    const a = path.join(work, 'a.json');
    const b = path.join(work, 'b.json');
    for (const out of [a, b])
      await cli(
        'routing',
        '--train',
        table,
        '--seed',
        '9',
        '--generations',
        '3',
        '--resamples',
        '20',
        '--json',
        out,
        '--quiet',
        '--trainer',
        'grpo',
      );
    const strip = (file: string) => {
      const { timings_ms, wall_ms, command, ...rest } = JSON.parse(readFileSync(file, 'utf8'));
      return rest;
    };
    expect(strip(a)).toEqual(strip(b));
  });

  it('exits 2 with a clear message on an unknown model', async () => {
    const result = await cli(
      'routing',
      '--train',
      table,
      '--models',
      'small,gpt-9',
      '--json',
      path.join(work, 'x.json'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown model 'gpt-9'.*known models: small, large/);
  });

  it('exits 2 on an empty split', async () => {
    const tiny = writeTable('tiny.csv', 1);
    const result = await cli(
      'routing',
      '--train',
      tiny,
      '--split',
      '0.5',
      '--json',
      path.join(work, 'x.json'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/split is empty/);
  });

  it('exits 2 when train and test disagree on models, and on malformed files with file:line', async () => {
    const other = writeTable('other.csv', 20, ['small', 'medium']);
    const mismatch = await cli(
      'routing',
      '--train',
      table,
      '--test',
      other,
      '--json',
      path.join(work, 'x.json'),
    );
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/disagree on models/);
    const bad = path.join(work, 'bad.csv');
    writeFileSync(bad, 'id,prompt,a\n0,x,1\n1,y\n');
    const malformed = await cli('routing', '--train', bad, '--json', path.join(work, 'x.json'));
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/bad\.csv:3/);
  });

  it('exits 2 on bad usage', async () => {
    expect((await cli('routing', '--train', table)).code).toBe(2);
    expect((await cli('routing', '--train', table, '--json', 'x', '--split', '1.5')).code).toBe(2);
    expect((await cli('routing', '--bogus')).code).toBe(2);
    const unknown = await cli('nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'nope'[\s\S]*Usage:/);
    expect((await cli('--help')).code).toBe(0);
  });

  it('the process entry sets the exit code (one child process)', () => {
    const result = spawnCli('nope');
    expect(result.stderr).toMatch(/unknown command 'nope'/);
    expect(result.code).toBe(2);
  });
});

describeWithData('openfugu-eval routing on RouteLLM GSM8K', ['routellm', 'gsm8k.csv'], (file) => {
  it('runs end to end on the real table (short budget)', async () => {
    const out = path.join(work, 'gsm8k.json');
    const result = await cli(
      'routing',
      '--train',
      file,
      '--split',
      '0.7',
      '--seed',
      '1',
      '--generations',
      '2',
      '--resamples',
      '100',
      '--json',
      out,
      '--quiet',
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.models).toEqual(['gpt4', 'mixtral']);
    expect(report.best_single.model).toBe('gpt4');
    expect(report.n_test).toBeGreaterThan(350);
    expect(report.random.mean).toBeGreaterThan(0.7);
    expect(report.oracle.mean).toBeGreaterThan(report.best_single.mean);
  });
});
