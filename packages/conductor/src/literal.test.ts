import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LITERAL_DEPTH, readLiteral } from './literal.js';

const read = (text: string) => readLiteral(text, 0);

describe('readLiteral', () => {
  it('reads JSON and Python literals', () => {
    expect(read('[1, -2.5, "a", \'b\', True, False, None, null, [], ()]')).toMatchObject({
      ok: true,
      value: [1, -2.5, 'a', 'b', true, false, null, null, [], []],
      lenient: false,
    });
    expect(read('{"a": [1], \'b\': {"c": "d"}}')).toMatchObject({
      ok: true,
      value: { a: [1], b: { c: 'd' } },
    });
    expect(read('"\\u00e9\\n\\"x\\""')).toMatchObject({ ok: true, value: 'é\n"x"' });
  });

  it('reports where reading ended', () => {
    const result = read('[1, 2] tail');
    expect(result).toMatchObject({ ok: true, end: 6 });
  });

  it('reads model slips leniently and says so', () => {
    expect(read('[\'the user\'s id\', "a "quoted" word"]')).toMatchObject({
      ok: true,
      value: ["the user's id", 'a "quoted" word'],
      lenient: true,
    });
    expect(read('[gpt-4o, claude 3.5 sonnet]')).toMatchObject({
      ok: true,
      value: ['gpt-4o', 'claude 3.5 sonnet'],
      lenient: true,
    });
    expect(read("['a' 'b']")).toMatchObject({ ok: true, value: ['a', 'b'], lenient: true });
  });

  it('fails on unbalanced input without throwing', () => {
    expect(read('[1, 2')).toMatchObject({ ok: false });
    expect(read('[1, 2}')).toMatchObject({ ok: false });
    expect(read("['abc")).toMatchObject({ ok: false });
    expect(read('')).toMatchObject({ ok: false });
  });

  it(`caps nesting at ${MAX_LITERAL_DEPTH}`, () => {
    expect(read(`${'['.repeat(MAX_LITERAL_DEPTH)}${']'.repeat(MAX_LITERAL_DEPTH)}`).ok).toBe(true);
    expect(read(`${'['.repeat(MAX_LITERAL_DEPTH + 2)}${']'.repeat(MAX_LITERAL_DEPTH + 2)}`)).toMatchObject({
      ok: false,
      message: expect.stringContaining('nesting'),
    });
  });

  it('agrees with JSON.parse on JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const result = read(JSON.stringify(value));
        expect(result.ok).toBe(true);
        // -0 prints as 0 in JSON, so compare through JSON.
        if (result.ok) expect(JSON.stringify(result.value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.nat({ max: 200 }), (text, start) => {
        const result = readLiteral(text, start);
        expect(result.end).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });
});
