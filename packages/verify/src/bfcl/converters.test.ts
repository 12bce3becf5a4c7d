import { describe, expect, it } from 'vitest';
import { javaTypeConverter, parseJavaValue } from './java.js';
import { jsTypeConverter, parseJsValue } from './javascript.js';
import { JsonFloat, pyEq, pyFloatParse, pyIntParse, pyStrip, standardizeString } from './python.js';

const f = (x: number) => new JsonFloat(x);

describe('Python helpers', () => {
  it('int() and float() accept what Python accepts', () => {
    expect(pyIntParse(' 42\n')).toBe(42);
    expect(pyIntParse('+1_000')).toBe(1000);
    expect(pyIntParse('٣')).toBe(3); // Arabic-Indic digit three
    expect(pyIntParse('123456789012345678901')).toBe(123456789012345678901n);
    expect(pyIntParse('1.0')).toBeUndefined();
    expect(pyIntParse('- 1')).toBeUndefined();
    expect(pyIntParse('1__0')).toBeUndefined();
    expect(pyFloatParse('3')).toEqual(f(3));
    expect(pyFloatParse(' .5 ')).toBe(0.5);
    expect(pyFloatParse('1e3')).toEqual(f(1000));
    expect(pyFloatParse('-Infinity')).toBe(Number.NEGATIVE_INFINITY);
    expect(pyFloatParse('abc')).toBeUndefined();
  });

  it('strip() uses Python whitespace and standardize removes the official characters', () => {
    expect(pyStrip('\u3000\x1c a \x85')).toBe('a');
    expect(standardizeString("April 1, 2024 - 'x'_y*z^/.")).toBe('april12024"x"yz');
    expect(standardizeString('plain')).toBe('plain');
  });

  it('equality is Python equality', () => {
    expect(pyEq(1, true)).toBe(true);
    expect(pyEq(f(5), 5)).toBe(true);
    expect(pyEq(10n ** 20n, 1e20)).toBe(true);
    expect(pyEq([1, { a: [f(2)] }], [true, { a: [2] }])).toBe(true);
    expect(pyEq({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(pyEq('1', 1)).toBe(false);
    expect(pyEq(null, 0)).toBe(false);
  });
});

describe('Java conversion', () => {
  it('converts typed literals and keeps the raw string when a pattern does not match', () => {
    expect(javaTypeConverter('123', 'integer')).toBe(123);
    expect(javaTypeConverter('12a', 'integer')).toBe('12a');
    expect(javaTypeConverter('3.5f', 'float')).toBe(3.5);
    expect(javaTypeConverter('3f', 'float')).toEqual(f(3));
    expect(javaTypeConverter('3.5', 'float')).toBe('3.5');
    expect(javaTypeConverter('2e2', 'double')).toEqual(f(200));
    expect(javaTypeConverter('7L', 'long')).toBe(7);
    expect(javaTypeConverter('7', 'long')).toBe('7');
    expect(javaTypeConverter('true', 'boolean')).toBe(true);
    expect(javaTypeConverter('True', 'boolean')).toBe('True');
    expect(javaTypeConverter("'c'", 'char')).toBe("'c'");
    expect(javaTypeConverter('"s"', 'String')).toBe('"s"');
  });

  it('parses arrays, array lists and hash maps', () => {
    expect(javaTypeConverter('new int[] { 1, 2, 3 }', 'Array', 'integer')).toEqual([1, 2, 3]);
    expect(javaTypeConverter('new long[]{1L, 2, 3L}', 'Array', 'long')).toEqual([1, '2', 3]);
    expect(javaTypeConverter('new Object[]{1, "abc", true}', 'Array')).toEqual([1, 'abc', true]);
    expect(javaTypeConverter('new ArrayList<>(Arrays.asList("a", "b"))', 'ArrayList', 'String')).toEqual([
      'a',
      'b',
    ]);
    expect(
      javaTypeConverter('new ArrayList<Double>() {{ add(1.0); add(2.5); }}', 'ArrayList', 'double'),
    ).toEqual([f(1), 2.5]);
    expect(javaTypeConverter('new ArrayList<>()', 'ArrayList', 'String')).toEqual([]);
    expect(javaTypeConverter('Arrays.asList(1)', 'ArrayList', 'integer')).toBe('Arrays.asList(1)');
    expect(
      javaTypeConverter(
        'new HashMap<String, Object>() {{ put("k1", 1); put("k2", "v"); put("k3", true); }}',
        'HashMap',
      ),
    ).toEqual({ k1: 1, k2: 'v', k3: true });
    expect(javaTypeConverter('new HashMap<>() {{ }}', 'HashMap')).toEqual({});
    expect(javaTypeConverter('new HashMap<>()', 'HashMap')).toEqual({});
    expect(parseJavaValue('2.5f')).toBe(2.5);
    expect(parseJavaValue('x')).toBe('x');
  });

  it('raises where upstream raises', () => {
    expect(() => javaTypeConverter('x', 'Set')).toThrow();
    expect(() => javaTypeConverter('x', 'Nope')).toThrow();
  });
});

describe('JavaScript conversion', () => {
  it('strips one pair of quotes from strings and parses numbers strictly', () => {
    expect(jsTypeConverter('"abc"', 'String')).toBe('abc');
    expect(jsTypeConverter("'abc'", 'String')).toBe('abc');
    expect(jsTypeConverter('abc', 'String')).toBe('abc');
    expect(jsTypeConverter('-12', 'integer')).toBe(-12);
    expect(jsTypeConverter('1.5', 'integer')).toBe('1.5');
    expect(jsTypeConverter('3', 'float')).toEqual(f(3));
    expect(jsTypeConverter('12n', 'Bigint')).toBe(12);
    expect(jsTypeConverter('false', 'Boolean')).toBe(false);
  });

  it('parses arrays and objects shallowly, as upstream does', () => {
    expect(jsTypeConverter('[1, "two", true]', 'array')).toEqual([1, 'two', true]);
    expect(jsTypeConverter('new Array(4, 5)', 'array', 'integer')).toEqual([4, 5]);
    expect(jsTypeConverter('[]', 'array')).toEqual([]);
    expect(jsTypeConverter(' [ [ 1, 2 ], [ 3,   4]]', 'array', 'array')).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(jsTypeConverter('["a", "b"]', 'array', 'String')).toEqual(['a', 'b']);
    expect(jsTypeConverter('{}', 'dict')).toEqual({});
    expect(
      jsTypeConverter('{"initial": initObj, "mw": ["logger"], "n": 3, "s": \'x\', "b": false}', 'dict'),
    ).toEqual({ initial: 'initObj', mw: ['logger'], n: 3, s: 'x', b: false });
    expect(jsTypeConverter('notAnObject', 'dict')).toBe('notAnObject');
    expect(parseJsValue(' 2.5 ')).toBe(2.5);
  });
});
