import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadHeadFile } from '@openfugu/trinity';
import { describeWithData } from '@openfugu/vitest-config/data';
import { describe, expect, it } from 'vitest';
import { type CliIo, runCli } from './cli.js';

function io(env: Record<string, string> = {}): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (t) => out.push(t) },
    stderr: { write: (t) => err.push(t) },
    env,
  };
}

describe('openfugu-train usage', () => {
  it('exit 2 on unknown commands, missing or invalid flags', async () => {
    expect(await runCli(['nope'], io())).toBe(2);
    expect(await runCli(['head', '--out', 'x.json'], io())).toBe(2);
    const bad = io();
    expect(await runCli(['head', '--data', 'd', '--out', 'x.json', '--trainer', 'sgd'], bad)).toBe(2);
    expect(bad.err.join('')).toMatch(/sgd/);
    expect(await runCli(['head', '--data', 'd', '--out', 'x', '--seed', '1.5'], io())).toBe(2);
    expect(await runCli(['--help'], io())).toBe(0);
  });

  it('exit 2 with a message for missing data', async () => {
    const out = io();
    expect(await runCli(['head', '--data', '/nonexistent/dir', '--out', '/tmp/x.json'], out)).toBe(2);
    expect(out.err.join('')).toMatch(/nonexistent/);
  });

  it('reward-server listens on PORT/HOST from the environment and stops cleanly', async () => {
    let server: { url: string; close(): Promise<void> } | undefined;
    const out = io({ PORT: '0', HOST: '127.0.0.1' });
    out.onServer = (s) => {
      server = s;
    };
    expect(await runCli(['reward-server', '--kind', 'format', '--quiet'], out)).toBe(0);
    expect(server?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${server!.url}/get_reward`, {
      method: 'POST',
      body: JSON.stringify({ query: ['<think>a</think><answer>[{"name":"f","arguments":{}}]</answer>'] }),
    });
    expect(await response.json()).toMatchObject({ rewards: [1] });
    await server!.close();
    expect(await runCli(['reward-server', '--quiet'], io({ PORT: 'eighty' }))).toBe(2);
  });
});

describeWithData('openfugu-train head on RouteLLM GSM8K', ['routellm'], (dir) => {
  const data = path.join(dir, 'gsm8k.csv');
  it.each(['cmaes', 'grpo'])(
    '%s: a run resumed from its checkpoint file writes the same head as an uninterrupted run',
    async (trainer) => {
      const out = mkdtempSync(path.join(tmpdir(), `openfugu-head-${trainer}-`));
      const common = ['head', '--data', data, '--trainer', trainer, '--seed', '5', '--holdout', '0.3'];
      const straight = io();
      expect(
        await runCli(
          [
            ...common,
            '--generations',
            '6',
            '--out',
            path.join(out, 'a.safetensors'),
            '--json',
            path.join(out, 'a.json'),
            '--svg',
            path.join(out, 'a.svg'),
          ],
          straight,
        ),
        straight.err.join(''),
      ).toBe(0);
      // "Interrupted" run: 3 generations with a checkpoint, then resumed to 6.
      expect(
        await runCli(
          [
            ...common,
            '--generations',
            '3',
            '--out',
            path.join(out, 'tmp.json'),
            '--checkpoint',
            path.join(out, 'cp.json'),
            '--checkpoint-every',
            '2',
          ],
          io(),
        ),
      ).toBe(0);
      const resumed = io();
      expect(
        await runCli(
          [
            ...common,
            '--generations',
            '6',
            '--out',
            path.join(out, 'b.safetensors'),
            '--resume',
            path.join(out, 'cp.json'),
            '--json',
            path.join(out, 'b.json'),
          ],
          resumed,
        ),
        resumed.err.join(''),
      ).toBe(0);
      expect(readFileSync(path.join(out, 'b.safetensors'))).toEqual(
        readFileSync(path.join(out, 'a.safetensors')),
      );
      const a = JSON.parse(readFileSync(path.join(out, 'a.json'), 'utf8'));
      const b = JSON.parse(readFileSync(path.join(out, 'b.json'), 'utf8'));
      expect(b.curve).toEqual(a.curve);
      expect(b.resumed_from_generation).toBe(3);
      expect(a.curve).toHaveLength(7);
      expect(a.models).toEqual(['gpt4', 'mixtral']);
      expect(a.test.prompts).toBeGreaterThan(300);
      expect(a.test.router).toBeGreaterThan(0.5);
      const head = await loadHeadFile(path.join(out, 'a.safetensors'));
      expect(head.agents).toEqual(['gpt4', 'mixtral']);
      expect(head.dimension).toBe(1024);
      const svg = readFileSync(path.join(out, 'a.svg'), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('validation');
      // Plain progress lines (stderr is not a TTY) with an ETA.
      expect(straight.err.join('')).toMatch(/ETA/);
      // A checkpoint of the other trainer is refused.
      const other = trainer === 'cmaes' ? 'grpo' : 'cmaes';
      const refused = io();
      expect(
        await runCli(
          [
            'head',
            '--data',
            data,
            '--trainer',
            other,
            '--seed',
            '5',
            '--holdout',
            '0.3',
            '--generations',
            '6',
            '--out',
            path.join(out, 'c.json'),
            '--resume',
            path.join(out, 'cp.json'),
          ],
          refused,
        ),
      ).toBe(2);
      expect(refused.err.join('')).toMatch(/checkpoint is for --trainer/);
    },
    60_000,
  );
});
