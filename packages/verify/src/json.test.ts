import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonish } from './__fixtures__/arbitraries.js';
import { NumberLiteral, parseJsonTolerant } from './json.js';

const MB = 1_000_000;

describe('parseJsonTolerant', () => {
  it('agrees with JSON.parse on strict JSON and reports no repair', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const result = parseJsonTolerant(text);
        expect(result).toEqual({ ok: true, value: JSON.parse(text), repaired: [] });
      }),
      { numRuns: 300 },
    );
  });

  it('rejects what JSON.parse rejects when repairs are off', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        let strict = true;
        try {
          JSON.parse(text);
        } catch {
          strict = false;
        }
        const result = parseJsonTolerant(text, { repair: false });
        // JSON.parse also accepts \f-free whitespace only; our scanner is at least as strict
        if (!strict) expect(result.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    [`{'a': 'b'}`, { a: 'b' }, ['single_quotes']],
    ['[1, 2,]', [1, 2], ['trailing_commas']],
    ['{"a": True, "b": None, "c": False}', { a: true, b: null, c: false }, ['python_literals']],
    ['```json\n{"a": 1}\n```', { a: 1 }, ['code_fence']],
    ['{a: 1}', { a: 1 }, ['unquoted_keys']],
    ['[NaN, -Infinity]', [Number.NaN, Number.NEGATIVE_INFINITY], ['nan_infinity']],
    ['[+1, .5, 0x10]', [1, 0.5, 16], ['non_json_numbers']],
    ['["a\nb"]', ['a\nb'], ['control_characters']],
    ['{"t": (1, 2)}', { t: [1, 2] }, ['python_literals']],
    ['{\u201ca\u201d: 1}', { a: 1 }, ['smart_quotes']],
  ])('repairs %j and says so', (text, value, repaired) => {
    const result = parseJsonTolerant(text);
    expect(result).toEqual({ ok: true, value, repaired });
    expect(parseJsonTolerant(text, { repair: false }).ok).toBe(false);
  });

  it('reports an issue with an offset for broken input', () => {
    const result = parseJsonTolerant('{"a": [1, 2}');
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues[0]).toMatchObject({
        code: 'invalid_json',
        message: expect.stringContaining('offset 11'),
      });
    expect(parseJsonTolerant('{"a": 1} trailing').ok).toBe(false);
    expect(parseJsonTolerant('{"a": 1} trailing', { allowTrailingText: true })).toEqual({
      ok: true,
      value: { a: 1 },
      repaired: ['surrounding_text'],
    });
  });

  it('keeps number text in lossless mode', () => {
    const result = parseJsonTolerant('[5.0, 5, 1e2, 12345678901234567890]', { lossless: true });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [a, b, c, d] = result.value as NumberLiteral[];
    expect(a).toBeInstanceOf(NumberLiteral);
    expect([a!.text, a!.isIntegerText, b!.isIntegerText, c!.isIntegerText, d!.text]).toEqual([
      '5.0',
      false,
      true,
      false,
      '12345678901234567890',
    ]);
  });

  it('does not let "__proto__" keys change the prototype', () => {
    const result = parseJsonTolerant('{"__proto__": {"polluted": 1}}');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const value = result.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('is total: any string gives a result, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), jsonish()), (text) => {
        const result = parseJsonTolerant(text);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it.each(['[', '{', '"', "'", '[{', '{"a":', '(', '\\', '[1,'])(
    'handles 1 MB of %j without overflow',
    (unit) => {
      const text = unit.repeat(Math.ceil(MB / unit.length));
      const result = parseJsonTolerant(text);
      expect(result.ok).toBe(false);
    },
  );

  it('parses 1 MB of deep nesting when allowed (no recursion), and stops fast past maxDepth by default', () => {
    const depth = 500_000;
    const text = '['.repeat(depth) + ']'.repeat(depth);
    expect(parseJsonTolerant(text, { maxDepth: depth }).ok).toBe(true);
    const limited = parseJsonTolerant(text);
    expect(limited.ok).toBe(false);
    if (!limited.ok) expect(limited.issues[0]!.message).toMatch(/nesting deeper than 10000 at offset 10000/);
    expect(parseJsonTolerant('['.repeat(10_000) + ']'.repeat(10_000)).ok).toBe(true);
  });
});
