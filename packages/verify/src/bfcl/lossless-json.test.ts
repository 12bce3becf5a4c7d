import { expectNotQuadratic } from '@openfugu/vitest-config/linear-time';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonLossless, stringifyJsonLossless } from './lossless-json.js';
import { JsonFloat, pyEq } from './python.js';

/** What JSON.parse would have made of a lossless value (floats unboxed, big integers rounded). */
function lossy(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof JsonFloat) return v.value;
  if (Array.isArray(v)) return v.map(lossy);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, lossy(x)]));
  }
  return v;
}

function ok(text: string): unknown {
  const r = parseJsonLossless(text);
  if (!r.ok) throw new Error(`unexpected error: ${r.error.message}`);
  return r.value;
}

describe('parseJsonLossless', () => {
  it('keeps float-ness and exact big integers', () => {
    expect(ok('5')).toBe(5);
    expect(ok('5.0')).toEqual(new JsonFloat(5));
    expect(ok('1e3')).toEqual(new JsonFloat(1000));
    expect(ok('-0.0')).toEqual(new JsonFloat(-0));
    expect(ok('2.5')).toBe(2.5);
    expect(ok('12345678901234567890')).toBe(12345678901234567890n);
    expect(ok('9007199254740991')).toBe(9007199254740991);
    expect(ok('{"a": [1, 1.0, true, null, "x"]}')).toEqual({ a: [1, new JsonFloat(1), true, null, 'x'] });
  });

  it("accepts what Python's json.loads accepts beyond JSON.parse", () => {
    expect(Number.isNaN(ok('NaN'))).toBe(true);
    expect(ok('[Infinity, -Infinity]')).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  });

  it('decodes escapes and keeps __proto__ as an ordinary key', () => {
    expect(ok('"a\\n\\u00e9\\ud83d\\ude00\\"\\\\\\/"')).toBe('a\né😀"\\/');
    const o = ok('{"__proto__": {"x": 1}, "b": 2, "b": 3}') as Record<string, unknown>;
    expect(Object.keys(o)).toEqual(['__proto__', 'b']);
    expect(o.b).toBe(3);
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
  });

  it('returns errors as values with an offset', () => {
    for (const bad of [
      '',
      '{',
      '[1,]',
      '{"a" 1}',
      '01',
      '1.',
      '"\u0001"',
      '"abc',
      'tru',
      '[1] x',
      "{'a': 1}",
      '-',
    ]) {
      const r = parseJsonLossless(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.error.offset).toBeGreaterThanOrEqual(0);
    }
  });

  it('rejects nesting deeper than maxDepth instead of overflowing the stack', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const r = parseJsonLossless(deep);
    expect(r.ok).toBe(false);
    expect(parseJsonLossless('[[[[1]]]]', { maxDepth: 3 }).ok).toBe(false);
    expect(parseJsonLossless('[[[1]]]', { maxDepth: 3 }).ok).toBe(true);
  });

  it('agrees with JSON.parse on any JSON text (property), once number types are dropped', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const r = parseJsonLossless(text);
        expect(r.ok).toBe(true);
        if (r.ok) expect(lossy(r.value)).toEqual(JSON.parse(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips through stringifyJsonLossless (property)', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const once = ok(text);
        const again = ok(stringifyJsonLossless(once));
        expect(pyEq(again, once)).toBe(true);
        expect(stringifyJsonLossless(again)).toBe(stringifyJsonLossless(once));
      }),
      { numRuns: 1000 },
    );
    expect(stringifyJsonLossless(ok('[5.0, 5, 1e400, 12345678901234567890]'))).toBe(
      '[5.0,5,Infinity,12345678901234567890]',
    );
  });

  it('never throws on arbitrary strings (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const r = parseJsonLossless(text);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('[', ']', '{', '}', '"', ':', ',', '1', '.', 'e', '-', '\\', ' ', 'n')),
        (parts) => {
          expect(typeof parseJsonLossless(parts.join('')).ok).toBe('boolean');
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('accepts and rejects exactly what JSON.parse does on string-heavy token soup (property)', () => {
    // Exercises both string paths: the searched fast path (no raw control character in the text) and the
    // character loop (a raw tab or U+0001 anywhere), with escapes, \u sequences and unterminated strings.
    const tokens = ['[', ']', '{', '}', '"', '"', ':', ',', '\\', '\\"', ' ', 'n', 'u', 't', 'a', '0', '/'];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...tokens, 'true', 'null', '\t', '\u0001', '"x"', '"\\u00a0"'), {
          maxLength: 40,
        }),
        (parts) => {
          const text = parts.join('');
          let expected: { ok: true; value: unknown } | { ok: false };
          try {
            expected = { ok: true, value: JSON.parse(text) };
          } catch {
            expected = { ok: false };
          }
          const r = parseJsonLossless(text);
          expect(r.ok).toBe(expected.ok);
          if (r.ok && expected.ok) expect(r.value).toEqual(expected.value);
        },
      ),
      { numRuns: 5000 },
    );
    expect(parseJsonLossless('["a\\"b", "c\\\\", "d"]')).toEqual({ ok: true, value: ['a"b', 'c\\', 'd'] });
    expect(parseJsonLossless('["a", "b\tc"]').ok).toBe(false);
    expect(parseJsonLossless('{"k": "v\u0001"}').ok).toBe(false);
  });

  it('is linear-time on 1 MB adversarial inputs', () => {
    const inputs: ((n: number) => string)[] = [
      (n) => '['.repeat(n),
      (n) => '{"a":'.repeat(Math.floor(n / 5)),
      (n) => `"${'\\u00e9'.repeat(Math.floor(n / 6))}"`,
      (n) => `"${'\\'.repeat(n - 1)}`,
      (n) => `[${'1,'.repeat(n / 2)}`,
      (n) => `${'9'.repeat(n)}.0`,
      (n) => `"${'a'.repeat(n)}`,
      (n) => `[${'"x",'.repeat(n / 4)}"x"]`,
      (n) => ' '.repeat(n),
    ];
    // A quadratic parser takes minutes on a megabyte; the guard is far above a loaded machine's linear time.
    for (const build of inputs) {
      expect(typeof expectNotQuadratic(build(1 << 20), parseJsonLossless).ok).toBe('boolean');
    }
  });
});
