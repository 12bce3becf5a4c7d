import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonLossless } from '../bfcl/lossless-json.js';
import { createBfclLineScanner } from './bfcl-scan.js';

const READ = ['id', 'category', 'function', 'possible_answer', 'model_output', 'language'] as const;

/** What the full parser makes of a line, restricted to the keys the scanner returns; undefined if invalid. */
function reference(line: string): Record<string, unknown> | undefined {
  const r = parseJsonLossless(line);
  if (!r.ok || typeof r.value !== 'object' || r.value === null || Array.isArray(r.value)) return undefined;
  const o = r.value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of READ) if (Object.hasOwn(o, k)) out[k] = o[k];
  return out;
}

const fn = {
  name: 'f',
  description: 'Says "hi" \\ back',
  parameters: { type: 'dict', properties: { x: { type: 'integer' } }, required: ['x'] },
};
const oracleLike = (model: string, extra = ''): string =>
  `{"id":"simple_1","cand":3,"category":"simple_python","question":[[{"role":"user","content":"x \\"y\\" \\u00e9"}]],` +
  `"function":${JSON.stringify([fn])},"possible_answer":[{"f":{"x":[5, 5.0]}}],"model_output":${model},` +
  `"official":{"valid":true,"error_type":null},"meta":{"n":-1.5e3,"b":[true,false,null]}${extra}}`;

describe('createBfclLineScanner', () => {
  it('returns the fields the checker reads, keeping 5.0 a float', () => {
    const scan = createBfclLineScanner();
    const line = oracleLike('[{"f":{"x":5.0}}]');
    expect(scan(line)).toEqual(reference(line));
    const r = scan(line) as { model_output: [{ f: { x: unknown } }] };
    expect(r.model_output[0].f.x).not.toBe(5); // JsonFloat, as the lossless parser gives
  });

  it('gives up (undefined) on what only the full parser may judge', () => {
    const scan = createBfclLineScanner();
    const bad = [
      '',
      '[1]',
      '{"id":1,}',
      '{"id":1',
      '{"id":1} x',
      '{"a":NaN,"id":1}',
      '{"a":Infinity,"id":1}',
      '{"a":[1,],"id":1}',
      '{"a":{"b":1,},"id":1}',
      '{"a":"\u0001","id":1}', // raw control character in a skipped string
      '{"a\u0001":1,"id":1}', // ... in a skipped key
      '{"a":"\\x","id":1}', // invalid escape in a skipped string
      '{"a":"\\u12G4","id":1}',
      '{"a":01,"id":1}',
      '{"a":1.,"id":1}',
      '{"a":-,"id":1}',
      '{"a":1e,"id":1}',
      '{"a":tru,"id":1}',
      '{"i\\u0064":1}', // an escaped key
      '{"id":"\u0001"}',
      '{"function":[1,}',
      '{"function":[1]]}',
      `{"a":${'['.repeat(1001)}${']'.repeat(1001)}}`,
    ];
    for (const line of bad) expect(scan(line), line).toBeUndefined();
  });

  it('agrees with the full parser on any JSON object line, also when values repeat between lines', () => {
    const value = fc.jsonValue({ maxDepth: 3 });
    const key = fc.constantFrom(
      ...READ,
      'question',
      'meta',
      'official',
      'variant',
      'cand',
      'other',
      '__proto__',
    );
    const entries = fc.array(fc.tuple(key, value), { maxLength: 8 });
    const ws = fc.constantFrom('', ' ', '\t', ' \r ');
    const render = ([pairs, sp]: [[string, unknown][], string]): string =>
      `${sp}{${sp}${pairs.map(([k, v]) => `${JSON.stringify(k)}${sp}:${sp}${JSON.stringify(v)}`).join(`${sp},${sp}`)}${sp}}${sp}`;
    fc.assert(
      fc.property(fc.array(fc.tuple(entries, ws), { minLength: 1, maxLength: 6 }), (lines) => {
        const scan = createBfclLineScanner({ cacheEntries: 3 });
        for (const l of lines) {
          const line = render(l);
          // repeated values (the memo) and a reused line (the cache) must give the same answer
          expect(scan(line)).toEqual(reference(line));
          expect(scan(line)).toEqual(reference(line));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts a line the full parser rejects, and never disagrees on one it accepts', () => {
    const base = [oracleLike('[{"f":{"x":5}}]'), oracleLike('[]', ',"language":"java"')];
    const edit = fc.tuple(
      fc.nat(),
      fc.nat({ max: 3 }),
      fc.constantFrom('"', '\\', ',', ':', '{', '}', '[', ']', '0', '.', 'e', '-', ' ', 'n', '\u0000', 'x'),
    );
    fc.assert(
      fc.property(fc.constantFrom(...base), fc.array(edit, { minLength: 1, maxLength: 3 }), (line, edits) => {
        let s = line;
        for (const [at, del, ins] of edits) {
          const i = at % (s.length + 1);
          s = s.slice(0, i) + ins + s.slice(i + del);
        }
        // a scanner that has already seen the unedited line (its memo and cache are warm)
        const scan = createBfclLineScanner();
        scan(line);
        const got = scan(s);
        if (got !== undefined) expect(got).toEqual(reference(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('starts the cache afresh when it is full, with the same results', () => {
    const scan = createBfclLineScanner({ cacheEntries: 2 });
    const lines = [1, 2, 3, 1, 2, 3].map(
      (k) => `{"id":${k},"function":[{"name":"f${k}"}],"possible_answer":[{"f${k}":{}}],"model_output":[]}`,
    );
    for (const line of lines) expect(scan(line)).toEqual(reference(line));
  });
});
