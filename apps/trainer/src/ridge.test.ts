import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createBackboneFromId,
  createDefaultConcatBackbone,
  createRouter,
  createValueRouter,
  createWideConcatBackbone,
  loadHeadFile,
  withCategoryId,
} from '@openfugu/trinity';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from './cli.js';

function io(): CliIo & { err: string[] } {
  const err: string[] = [];
  return { err, stdout: { write: () => {} }, stderr: { write: (t) => err.push(t) }, env: {} };
}

/**
 * A generated outcome CSV (120 prompts, 2 models): `strong` answers the arithmetic prompts, `weak` the
 * writing prompts (and a few arithmetic ones), so the best single model is `strong` (≈ 0.5 + a little) and a
 * router that reads the prompt can reach the oracle (1.0).
 */
function writeTable(dir: string): string {
  const rows = ['id,prompt,strong,weak'];
  const topics = ['the sea', 'autumn', 'a lost key', 'the city at night', 'a red kite', 'old friends'];
  for (let i = 0; i < 120; i++) {
    if (i % 2 === 0) {
      const a = 13 + ((i * 7) % 89);
      const b = 3 + ((i * 11) % 47);
      rows.push(`${i},"What is ${a} * ${b} + ${i}? Show the arithmetic.",1,${i % 12 === 0 ? 1 : 0}`);
    } else {
      // A made-up name keeps every prompt text distinct (the held-out split groups equal texts).
      const name = String.fromCharCode(97 + (i % 26), 97 + Math.floor(i / 26), 101);
      rows.push(
        `${i},"Write a short poem about ${topics[i % topics.length]} and ${name} in a calm voice.",0,1`,
      );
    }
  }
  const file = path.join(dir, 'outcomes.csv');
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

describe('openfugu-train head --trainer ridge', () => {
  let dir = '';
  let data = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'openfugu-ridge-'));
    data = writeTable(dir);
  });

  it.each([
    ['concat', '.safetensors', () => createDefaultConcatBackbone().id],
    ['concat-sparse', '.json', () => createWideConcatBackbone().id],
  ] as const)(
    '--backbone %s writes a head (%s) with the backbone id that loads back and routes',
    async (backbone, ext, expectedId) => {
      const out = path.join(dir, `${backbone}${ext}`);
      const json = path.join(dir, `${backbone}.results.json`);
      const svg = path.join(dir, `${backbone}.svg`);
      const run = io();
      const args = ['head', '--data', data, '--trainer', 'ridge', '--backbone', backbone];
      expect(
        await runCli(
          [...args, '--seed', '2', '--holdout', '0.25', '--out', out, '--json', json, '--svg', svg],
          run,
        ),
        run.err.join(''),
      ).toBe(0);
      const head = await loadHeadFile(out);
      expect(head.backboneId).toBe(expectedId());
      expect(head.agents).toEqual(['strong', 'weak']);
      expect(head.roleCount).toBe(0);
      expect(head.agentBias).toHaveLength(2);
      // The server's path: rebuild the backbone from the id the head records, then route.
      const rebuilt = createBackboneFromId(head.backboneId!);
      expect(rebuilt.id).toBe(head.backboneId);
      const router = createValueRouter({ head, backbone: rebuilt });
      expect((await router.route('What is 48 * 31 + 7? Show the arithmetic.')).agent).toBe('strong');
      expect((await router.route('Write a short poem about the moon in a calm voice.')).agent).toBe('weak');
      if (backbone === 'concat') {
        const plain = createRouter({ head, backbone: rebuilt });
        const decision = await plain.route([{ role: 'user', content: 'Write a short poem about rain.' }]);
        expect(decision.agent).toBe('weak');
      }
      const results = JSON.parse(readFileSync(json, 'utf8'));
      expect(results.trainer).toBe('ridge');
      expect(results.backbone).toBe(expectedId());
      expect(results.criterion).toBe('deferral');
      expect(results.lambda).toBeGreaterThan(0);
      expect(results.cv.map((c: { lambda: number }) => c.lambda)).toContain(results.lambda);
      expect(results.hyperparameters.solver).toBe(backbone === 'concat-sparse' ? 'cg' : 'cholesky');
      expect(results.test.prompts).toBeGreaterThanOrEqual(25);
      expect(results.test.prompts).toBeLessThanOrEqual(35);
      // The held-out router beats the best single model on this separable table.
      expect(results.test.router).toBeGreaterThan(results.test.best_single.mean + 0.2);
      expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*log10 λ/);
      expect(run.err.join('')).toMatch(/ridge λ/);
    },
    // A hang guard, not a speed claim: the dense concat fit (6 λ × 6 Cholesky factorisations of 1,044²) takes
    // ~10 s on a quiet machine and 117 s was seen at load ≈ 10 on 2 cores.
    600_000,
  );

  it('--metadata subset: the subset label becomes request-category features the head records and routes by', async () => {
    // The prompt texts carry no signal (one template); only the subset says which model is right.
    const rows = ['id,prompt,subset,strong,weak'];
    for (let i = 0; i < 160; i++) {
      const alpha = i % 2 === 0;
      rows.push(
        `${i},"Item ${i}: choose the best option.",${alpha ? 'alpha' : 'beta'},${alpha || i % 8 === 1 ? 1 : 0},${alpha ? 0 : 1}`,
      );
    }
    const table = path.join(dir, 'subsets.csv');
    writeFileSync(table, `${rows.join('\n')}\n`);
    const out = path.join(dir, 'meta.json');
    const json = path.join(dir, 'meta.results.json');
    const run = io();
    const args = [
      'head',
      '--data',
      table,
      '--trainer',
      'ridge',
      '--backbone',
      'concat-sparse',
      '--metadata',
      'subset',
    ];
    expect(
      await runCli([...args, '--seed', '1', '--holdout', '0.25', '--out', out, '--json', json], run),
      run.err.join(''),
    ).toBe(0);
    const head = await loadHeadFile(out);
    expect(head.backboneId).toBe(withCategoryId(createWideConcatBackbone().id, 256));
    const router = createValueRouter({ head, backbone: createWideConcatBackbone() });
    const text = 'user: Item 999: choose the best option.';
    const pick = (category?: string) => {
      const q = router.predict(text, category);
      return q[0]! > q[1]! ? 'strong' : 'weak';
    };
    expect(pick('alpha')).toBe('strong');
    expect(pick('beta')).toBe('weak');
    const results = JSON.parse(readFileSync(json, 'utf8'));
    expect(results.backbone).toBe(head.backboneId);
    expect(results.test.router).toBeGreaterThan(results.test.best_single.mean + 0.2);
    // Only ridge takes it.
    const refused = io();
    expect(
      await runCli(
        ['head', '--data', table, '--trainer', 'cmaes', '--metadata', 'subset', '--out', out],
        refused,
      ),
    ).toBe(2);
    expect(refused.err.join('')).toMatch(/--metadata applies to --trainer ridge/);
  }, 600_000);

  it('refuses the iteration flags, a .npy head, and concat-sparse with cmaes or grpo (exit 2)', async () => {
    const base = ['head', '--data', data, '--out', path.join(dir, 'refused.json')];
    for (const flags of [
      ['--generations', '5'],
      ['--resume', path.join(dir, 'cp.json')],
      ['--checkpoint', path.join(dir, 'cp.json'), '--validation', '0.1'],
      ['--learning-rate', '0.1'],
    ]) {
      const run = io();
      expect(await runCli([...base, '--trainer', 'ridge', ...flags], run)).toBe(2);
      expect(run.err.join('')).toMatch(/--trainer ridge fits once .*do(es)? not apply/);
      expect(run.err.join('')).toContain(flags[0]);
    }
    const npy = io();
    const npyOut = path.join(dir, 'head.npy');
    expect(await runCli(['head', '--data', data, '--trainer', 'ridge', '--out', npyOut], npy)).toBe(2);
    expect(npy.err.join('')).toMatch(/\.npy cannot hold/);
    expect(existsSync(npyOut)).toBe(false);
    for (const trainer of ['cmaes', 'grpo']) {
      const run = io();
      expect(await runCli([...base, '--trainer', trainer, '--backbone', 'concat-sparse'], run)).toBe(2);
      expect(run.err.join('')).toMatch(/only --trainer ridge/);
    }
    expect(existsSync(path.join(dir, 'refused.json'))).toBe(false);
  });
});
