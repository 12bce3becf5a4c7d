import { readFileSync } from 'node:fs';
import { describeWithData } from '@openfugu/vitest-config/data';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BfclEntry, checkBfcl } from '../bfcl/checker.js';
import { checkBfclLine, createBfclLineChecker, runBfclCommand } from './bfcl.js';
import { createBfclCommandStream } from './bfcl-batch.js';

const fn = {
  name: 'f',
  parameters: { type: 'dict', properties: { x: { type: 'integer' } }, required: ['x'] },
};
const line = (id: string, x: string) =>
  `{"id":"${id}","category":"simple_python","function":${JSON.stringify([fn])},"possible_answer":[{"f":{"x":[5]}}],"model_output":[{"f":{"x":${x}}}]}`;

describe('runBfclCommand', () => {
  it('writes one verdict line per input line, in order', () => {
    const r = runBfclCommand(`${line('a', '5')}\n${line('b', '6')}\n`);
    expect(r).toEqual({
      stdout:
        '{"id":"a","valid":true,"error_type":null}\n{"id":"b","valid":false,"error_type":"value_error:others"}\n',
      stderr: '',
      exitCode: 0,
    });
    expect(runBfclCommand(`${line('a', '5')}\r\n${line('b', '5')}`).stdout.split('\n')).toHaveLength(3);
    expect(runBfclCommand('')).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    expect(runBfclCommand(`${line('a', '5')}\n\n\r\n`).exitCode).toBe(0);
  });

  it('keeps 5.0 a float (the line is re-read losslessly)', () => {
    const r = runBfclCommand(`${line('a', '5.0')}\n${line('b', '5.00')}\n${line('c', '5e0')}\n`);
    expect(r.stdout.match(/type_error:simple/g)).toHaveLength(3);
  });

  it('accepts NaN / Infinity like Python json does', () => {
    expect(runBfclCommand(line('a', 'NaN')).stdout).toContain('"valid":false');
  });

  it('stops at a malformed line with exit code 2 and its line number', () => {
    const cases: [string, RegExp][] = [
      [`${line('a', '5')}\n{"id": 1,\n${line('c', '5')}`, /line 2: invalid JSON/],
      [`${line('a', '5')}\n\n${line('c', '5')}`, /line 2: invalid JSON/],
      [`${line('a', '5')}\n[1]`, /line 2: expected a JSON object/],
      [
        `${line('a', '5')}\n${line('b', '5').replace('"model_output"', '"output"')}`,
        /line 2: missing "model_output"/,
      ],
      [`${line('a', '5').replace('"id":"a",', '')}`, /line 1: missing "id"/],
      [`${line('a', '5').replace('"possible_answer"', '"gt"')}`, /line 1: "possible_answer" must be a list/],
    ];
    for (const [input, message] of cases) {
      const r = runBfclCommand(input);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const r = runBfclCommand(`${line('a', '5')}\nnot json\n`);
    expect(r.stdout).toBe('{"id":"a","valid":true,"error_type":null}\n');
  });

  it('does not need possible_answer for irrelevance lines, and echoes non-string ids', () => {
    const r = checkBfclLine('{"id":7,"category":"irrelevance","function":[],"model_output":[]}', 1);
    expect(r).toEqual({ ok: true, output: '{"id":7,"valid":true,"error_type":null}' });
  });

  it('gives the same result for the UTF-8 bytes of the input as for its text', () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    const inputs = [
      '',
      `${line('a', '5')}\n${line('b', '6')}\n`,
      `${line('a', '5')}\r\n${line('b', '5.0')}`,
      `${line('a', '5')}\n\n\r\n`,
      `${line('a', '5')}\n\u00a0\n`, // a blank-looking last line (U+00A0 is whitespace to \s)
      `${line('a', '5')}\n\n${line('c', '5')}`,
      `${line('a', '5')}\n{"id": 1,\n`,
      `\ufeff${line('a', '5')}\n`,
      `${line('é', '5').replace('"f"', '"fé"')}\n${line('b', '5')}\n`,
      `${line('a', '5')}\nnot json\n`,
    ];
    for (const input of inputs) {
      expect(runBfclCommand(bytes(input))).toEqual(runBfclCommand(input));
      expect(runBfclCommand(bytes(input), { underscoreToDot: true })).toEqual(
        runBfclCommand(input, { underscoreToDot: true }),
      );
    }
    // invalid UTF-8 becomes U+FFFD as in a text decode (here inside a string value: the line still judges)
    const broken = new Uint8Array([...bytes(line('a', '5').replace('"a"', '"a_"')), 10]);
    broken[broken.indexOf(95)] = 0xff;
    expect(runBfclCommand(broken)).toEqual(runBfclCommand(new TextDecoder().decode(broken)));
    expect(runBfclCommand(broken).stdout).toContain('"id":"a\ufffd"');
  });

  it('streams: any input, split into chunks anywhere, gives the same result as the whole', () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    // every rule in play: verdicts, a float, non-ASCII, blank lines (fine at the end, malformed in the
    // middle), whitespace-only lines after a blank one, syntax errors, CRLF, a last line without \n
    const rows = [
      line('a', '5'),
      line('b', '6'),
      line('c', '5.0'),
      line('é', '5').replace('"f"', '"fé"'),
      '',
      ' \t',
      '\r',
      '{"id": 1,',
      'not json',
    ];
    const input = fc
      .tuple(
        fc.array(fc.constantFrom(...rows), { maxLength: 10 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
      )
      .map(([lines, eol, last]) => lines.join(eol) + (last && lines.length > 0 ? eol : ''));
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
        const all = bytes(text);
        const at = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const stream = createBfclCommandStream();
        let out = '';
        let from = 0;
        for (const to of [...at, all.length]) {
          out += stream.push(all.slice(from, to));
          from = to;
        }
        const end = stream.end();
        expect({ ...end, stdout: out + end.stdout }).toEqual(runBfclCommand(text));
        expect(stream.failed).toBe(end.exitCode === 2);
      }),
      { numRuns: 500 },
    );
  });

  it('passes the underscoreToDot option through', () => {
    const dotted = line('a', '5').replaceAll('"f"', '"m.f"');
    expect(runBfclCommand(dotted).stdout).toContain('"valid":true');
    expect(runBfclCommand(dotted, { underscoreToDot: true }).stdout).toContain('wrong_func_name');
  });
});

describeWithData('openfugu-verify bfcl on oracle_dev', ['bfcl', 'oracle_dev.jsonl'], (file) => {
  it('reproduces the official verdicts line by line', () => {
    const text = readFileSync(file, 'utf8');
    const r = runBfclCommand(text);
    expect(r.exitCode).toBe(0);
    expect(runBfclCommand(readFileSync(file))).toEqual(r); // the bytes path, line by line
    const inputs = text.split('\n').filter((l) => l !== '');
    const outputs = r.stdout.split('\n').filter((l) => l !== '');
    expect(outputs).toHaveLength(inputs.length);
    let mismatches = 0;
    for (let i = 0; i < inputs.length; i++) {
      const want = JSON.parse(inputs[i]!) as {
        id: string;
        official: { valid: boolean; error_type: string | null };
      };
      const got = JSON.parse(outputs[i]!) as { id: string; valid: boolean; error_type: string | null };
      if (
        got.id !== want.id ||
        got.valid !== want.official.valid ||
        got.error_type !== want.official.error_type
      ) {
        mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    // the scanner's fast path gives what the full parser gives on every line
    const slow = inputs.map((l, i) => checkBfclLine(l, i + 1));
    const check = createBfclLineChecker();
    expect(inputs.map((l, i) => check(l, i + 1))).toEqual(slow);
  });

  it('never mutates the function docs and answers it shares between lines', () => {
    const deepFreeze = (v: unknown): void => {
      if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
      Object.freeze(v);
      for (const x of Object.values(v)) deepFreeze(x);
    };
    const entries = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as BfclEntry & { official: { error_type: string | null } });
    let mismatches = 0;
    for (const e of entries) {
      deepFreeze(e.function);
      deepFreeze(e.possible_answer);
      // a write to a frozen object throws in strict code, which the checker reports as checker_crash:internal
      if (checkBfcl(e).error_type?.startsWith('checker_crash:internal')) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
