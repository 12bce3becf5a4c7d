import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REWARD_KINDS, runCli } from './main.js';

const input =
  (rows: unknown[]): (() => string) =>
  () =>
    `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;
const gold = [{ name: 'get_user_details', arguments: { user_id: 'u1' } }];
const good = '<think>x</think><answer>[{"name":"get_user_details","arguments":{"user_id":"u1"}}]</answer>';

describe('openfugu-verify (runCli)', () => {
  it('prints help and rejects bad usage with exit 2', async () => {
    expect(await runCli(['--help'], () => '')).toMatchObject({
      exitCode: 0,
      stdout: expect.stringContaining('reward --kind'),
    });
    expect((await runCli([], () => '')).exitCode).toBe(2);
    expect(await runCli(['frobnicate'], () => '')).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining("unknown command 'frobnicate'"),
    });
    expect(await runCli(['reward'], () => '')).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining('--kind action|format|bfcl|openfugu-action|openfugu-format'),
    });
    // The help names every --kind value as one, in the usage line and in the list.
    const help = (await runCli(['--help'], () => '')).stdout;
    expect(help).toContain('reward --kind action|format|bfcl|openfugu-action|openfugu-format <');
    for (const kind of REWARD_KINDS) expect(help).toMatch(new RegExp(`^ {8}${kind} +\\S`, 'm'));
    expect((await runCli(['reward', '--kind', 'nope'], () => '')).exitCode).toBe(2);
    expect((await runCli(['reward', '--kind', 'action', '--bogus'], () => '')).exitCode).toBe(2);
  });

  it('reward --kind action|format: one {reward, details} line per input line, in order', async () => {
    const result = await runCli(
      ['reward', '--kind', 'action'],
      input([
        { completion: good, reference: gold },
        { completion: 'nothing', reference: { actions: gold, tools: ['get_user_details'] } },
      ]),
    );
    expect(result.exitCode).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.reward)).toEqual([1, 0]);
    expect(lines[1].details.unparsed).toBe(true);
    const format = await runCli(
      ['reward', '--kind', 'format'],
      input([{ completion: good }, { completion: 'x', reference: null }]),
    );
    expect(
      format.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).reward),
    ).toEqual([1, 0]);
    const reference = await runCli(
      ['reward', '--kind', 'openfugu-action'],
      input([{ completion: good, reference: gold }]),
    );
    expect(JSON.parse(reference.stdout).reward).toBe(1);
    // the reference compares Python str(): a gold 5.0 (float) does not match a predicted 5 (int)
    const line = (x: string) =>
      JSON.stringify({
        completion: `<answer>[{"name": "f", "arguments": {"x": ${x}}}]</answer>`,
        reference: [],
      }).replace('"reference":[]', '"reference":[{"name": "f", "arguments": {"x": 5.0}}]');
    const floats = await runCli(
      ['reward', '--kind', 'openfugu-action'],
      () => `${line('5')}\n${line('5.0')}\n`,
    );
    expect(
      floats.stdout
        .trimEnd()
        .split('\n')
        .map((out) => JSON.parse(out).reward),
    ).toEqual([0.7, 1]);
  });

  it('reward --kind bfcl keeps 5.0 a float', async () => {
    const fn = {
      name: 'f',
      parameters: { type: 'dict', properties: { x: { type: 'float' } }, required: ['x'] },
    };
    const stdin = () =>
      '{"completion": "[f(x=5.0)]", "reference": {"category": "simple_python", "function": ' +
      `${JSON.stringify([fn])}, "possible_answer": [{"f": {"x": [5.0]}}]}}\n`;
    const result = await runCli(['reward', '--kind', 'bfcl'], stdin);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('"reward":1');
    expect(result.stdout).toContain('"x":5.0');
  });

  it('exits 2 naming the line of a malformed line, keeping earlier output', async () => {
    for (const [text, message] of [
      ['{"completion": "x", "reference": []}\nnot json\n', /line 2: invalid JSON/],
      ['{"completion": 3, "reference": []}\n', /line 1: "completion" must be a string/],
      ['{"completion": "x", "reference": [{"name": 1}]}\n', /line 1: every gold action/],
      ['{"completion": "x", "reference": []}\n\n{"completion": "x", "reference": []}\n', /line 2/],
      ['[1]\n', /line 1: expected a JSON object/],
    ] as const) {
      const result = await runCli(['reward', '--kind', 'action'], () => text);
      expect(result.exitCode, text).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    const partial = await runCli(
      ['reward', '--kind', 'action'],
      () => '{"completion": "x", "reference": []}\n{\n',
    );
    expect(partial.stdout.trimEnd().split('\n')).toHaveLength(1);
    const bfcl = await runCli(
      ['reward', '--kind', 'bfcl'],
      () => '{"completion": "x", "reference": {"category": "simple_python"}}\n',
    );
    expect(bfcl).toMatchObject({
      exitCode: 2,
      stderr: expect.stringMatching(/line 1: "reference.function"/),
    });
  });

  it('dispatches bfcl to the BFCL line judge', async () => {
    const result = await runCli(
      ['bfcl'],
      () => '{"id":"x","category":"irrelevance","function":[],"model_output":[]}\n',
    );
    expect(result).toEqual({
      stdout: '{"id":"x","valid":true,"error_type":null}\n',
      stderr: '',
      exitCode: 0,
    });
    expect(await runCli(['bfcl'], () => 'oops\n')).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining('line 1'),
    });
  });

  it('streams bfcl verdicts as chunks arrive; reward reads chunks whole', async () => {
    const row = '{"id":"x","category":"irrelevance","function":[],"model_output":[]}\n';
    async function* chunks(): AsyncGenerator<Uint8Array | string> {
      yield new TextEncoder().encode(row.slice(0, 10));
      yield row.slice(10);
      yield new TextEncoder().encode(`${row}oops\n`);
    }
    const written: string[] = [];
    const result = await runCli(['bfcl'], chunks, (text) => written.push(text));
    expect(written).toEqual([
      '{"id":"x","valid":true,"error_type":null}\n',
      '{"id":"x","valid":true,"error_type":null}\n',
    ]);
    expect(result).toMatchObject({ stdout: '', exitCode: 2, stderr: expect.stringContaining('line 3') });
    // without a writer, the verdicts come back in the result
    expect((await runCli(['bfcl'], chunks)).stdout.split('\n')).toHaveLength(3);
    const reward = await runCli(['reward', '--kind', 'format'], async function* () {
      yield `${JSON.stringify({ completion: good, reference: null }).slice(0, 5)}`;
      yield new TextEncoder().encode(`${JSON.stringify({ completion: good, reference: null }).slice(5)}\n`);
    });
    expect(JSON.parse(reward.stdout).reward).toBe(1);
  });
});

describe('openfugu-verify (process)', () => {
  it('reads stdin, writes stdout and sets the exit code', async () => {
    const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli.ts');
    const run = (args: string[], stdin: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
        input: stdin,
        encoding: 'utf8',
        cwd: path.dirname(cli),
      });
    const ok = run(
      ['reward', '--kind', 'format'],
      `${JSON.stringify({ completion: good, reference: null })}\n`,
    );
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).reward).toBe(1);
    const bad = run(['reward', '--kind', 'format'], 'nope\n');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('line 1');
    const bfcl = run(['bfcl'], '{"id":7,"category":"irrelevance","function":[],"model_output":[]}\n{\n');
    expect(bfcl.status).toBe(2);
    expect(bfcl.stdout).toBe('{"id":7,"valid":true,"error_type":null}\n');
    expect(bfcl.stderr).toContain('line 2');
  });
});
