/**
 * Python's `str()` / `repr()` of decoded JSON values, so the reference OpenFugu reward (which compares
 * `str(predicted) == str(gold)`) can be reproduced exactly. Numbers keep their kind through
 * `NumberLiteral` (Python's `json.loads` makes `5.0` a float and `5` an int); plain JS numbers are
 * printed as ints when integral.
 */
import { NumberLiteral } from './literal.js';

/** Python `repr(float)` (shortest round-trip digits, scientific outside 1e-4 ≤ |x| < 1e16). */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, exponentText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? '-' : '+';
    return `${sign}${body}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${intPart}.${fraction === '' ? '0' : fraction}`;
}

function intRepr(text: string): string {
  const cleaned = text.replace(/_/g, '');
  try {
    return BigInt(cleaned).toString();
  } catch {
    return cleaned;
  }
}

/** Unicode categories CPython treats as non-printable (Other and Separator, space excepted). */
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** Python `repr(str)`: single quotes unless the text has `'` and no `"`; escapes as CPython. */
export function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === quote || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f || (code > 0x7f && char !== ' ' && NON_PRINTABLE.test(char))) {
      // CPython escapes characters that str.isprintable() rejects: \xhh, \uhhhh or \Uhhhhhhhh
      const hex = code.toString(16);
      out +=
        code < 0x100
          ? `\\x${hex.padStart(2, '0')}`
          : code < 0x10000
            ? `\\u${hex.padStart(4, '0')}`
            : `\\U${hex.padStart(8, '0')}`;
    } else out += char;
  }
  return out + quote;
}

/** Python `repr()` of a decoded JSON value (iterative: deep values cannot overflow the stack). */
export function pythonRepr(value: unknown): string {
  const parts: string[] = [];
  type Item = { value: unknown } | { text: string };
  const stack: Item[] = [{ value }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if ('text' in item) {
      parts.push(item.text);
      continue;
    }
    const current = item.value;
    if (current === null || current === undefined) parts.push('None');
    else if (current === true) parts.push('True');
    else if (current === false) parts.push('False');
    else if (current instanceof NumberLiteral) {
      parts.push(current.isIntegerText ? intRepr(current.text) : pythonFloatRepr(current.value));
    } else if (typeof current === 'number') {
      parts.push(Number.isInteger(current) ? BigInt(current).toString() : pythonFloatRepr(current));
    } else if (typeof current === 'string') parts.push(pythonStringRepr(current));
    else if (Array.isArray(current)) {
      const pending: Item[] = [{ text: '[' }];
      current.forEach((element, index) => {
        if (index > 0) pending.push({ text: ', ' });
        pending.push({ value: element });
      });
      pending.push({ text: ']' });
      for (let i = pending.length - 1; i >= 0; i--) stack.push(pending[i]!);
    } else if (typeof current === 'object') {
      const pending: Item[] = [{ text: '{' }];
      Object.entries(current).forEach(([key, element], index) => {
        pending.push({ text: `${index > 0 ? ', ' : ''}${pythonStringRepr(key)}: ` });
        pending.push({ value: element });
      });
      pending.push({ text: '}' });
      for (let i = pending.length - 1; i >= 0; i--) stack.push(pending[i]!);
    } else parts.push(String(current));
  }
  return parts.join('');
}

/** Python `str()` of a decoded JSON value: strings as they are, everything else as `repr()`. */
export function pythonStr(value: unknown): string {
  return typeof value === 'string' ? value : pythonRepr(value);
}
