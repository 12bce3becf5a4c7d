// A JSON parser that keeps what `JSON.parse` loses and BFCL's verdicts depend on: a number written as a
// float stays a float (`5.0` → JsonFloat(5), distinct from the int 5), integers beyond 2^53 stay exact
// (bigint). It accepts what Python's `json.loads` accepts (including NaN / Infinity / -Infinity), never
// throws, runs in linear time and uses an explicit stack, so deep nesting cannot overflow the call stack.

import { intFromDigits, JsonFloat } from './python.js';

/** A JSON value as parsed by `parseJsonLossless`. */
export type LosslessJson =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonFloat
  | LosslessJson[]
  | { [key: string]: LosslessJson };

/** Result of `parseJsonLossless`: the value, or where and why the text is not JSON. */
export type LosslessJsonResult =
  | { ok: true; value: LosslessJson }
  | { ok: false; error: { message: string; offset: number } };

/** Options of `parseJsonLossless`. */
export interface LosslessJsonOptions {
  /** Deepest array/object nesting accepted (Python's json.loads stops near 1000 too). Default 1000. */
  maxDepth?: number;
}

interface Frame {
  container: LosslessJson[] | Record<string, LosslessJson>;
  key: string | undefined; // pending key of an object frame
  isArray: boolean;
}

class ParseError {
  readonly message: string;
  readonly offset: number;
  constructor(message: string, offset: number) {
    this.message = message;
    this.offset = offset;
  }
}

function setKey(obj: Record<string, LosslessJson>, key: string, value: LosslessJson): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/**
 * Parse JSON text without losing number types: `5.0` stays a float (`JsonFloat`), `5` an int, big integers
 * exact (`bigint`). Never throws; linear time; nesting deeper than `maxDepth` (default 1000) is an error.
 *
 * @example
 * const r = parseJsonLossless('{"x": 5.0, "y": 5}');
 * // r.ok && r.value.x instanceof JsonFloat; r.value.y === 5
 */
export function parseJsonLossless(text: string, options: LosslessJsonOptions = {}): LosslessJsonResult {
  try {
    return { ok: true, value: parse(String(text), options.maxDepth ?? 1000) };
  } catch (error) {
    if (error instanceof ParseError)
      return { ok: false, error: { message: error.message, offset: error.offset } };
    return {
      ok: false,
      error: { message: error instanceof Error ? error.message : String(error), offset: 0 },
    };
  }
}

// A raw control character, which JSON forbids inside strings (internal; shared with the CLI line scanner). A text
// without one lets strings be cut out by searching.
export const CONTROL_CHAR = /[\u0000-\u001f]/;

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function parse(s: string, maxDepth: number): LosslessJson {
  const n = s.length;
  let i = 0;
  const stack: Frame[] = [];
  let result: LosslessJson = null;
  let haveResult = false;

  const skipWs = (): void => {
    while (i < n && isWs(s.charCodeAt(i))) i++;
  };

  // Fast path for strings: when the text has no raw control character, a string with no backslash before
  // its closing quote is the slice up to that quote, found by a native search (`nextBackslash` is the first
  // backslash at or after the current string's start, or n).
  const noControl = !CONTROL_CHAR.test(s);
  let nextBackslash = -1;

  const parseString = (): string => {
    // s[i] is the opening quote
    const start = ++i;
    if (noControl) {
      const quote = s.indexOf('"', start);
      if (quote !== -1) {
        if (nextBackslash < start) {
          nextBackslash = s.indexOf('\\', start);
          if (nextBackslash === -1) nextBackslash = n;
        }
        if (quote < nextBackslash) {
          i = quote + 1;
          return s.slice(start, quote);
        }
      }
    }
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 34) return s.slice(start, i++);
      if (c === 92 || c < 32) break;
      i++;
    }
    let out = s.slice(start, i);
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 34) {
        i++;
        return out;
      }
      if (c < 32) throw new ParseError('Invalid control character in string', i);
      if (c === 92) {
        const e = s.charCodeAt(i + 1);
        i += 2;
        switch (e) {
          case 34:
            out += '"';
            break;
          case 92:
            out += '\\';
            break;
          case 47:
            out += '/';
            break;
          case 98:
            out += '\b';
            break;
          case 102:
            out += '\f';
            break;
          case 110:
            out += '\n';
            break;
          case 114:
            out += '\r';
            break;
          case 116:
            out += '\t';
            break;
          case 117: {
            const hex = s.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ParseError('Invalid \\uXXXX escape', i - 2);
            out += String.fromCharCode(Number.parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            throw new ParseError('Invalid \\escape', i - 2);
        }
        continue;
      }
      const from = i;
      while (i < n) {
        const d = s.charCodeAt(i);
        if (d === 34 || d === 92 || d < 32) break;
        i++;
      }
      out += s.slice(from, i);
    }
    throw new ParseError('Unterminated string', start - 1);
  };

  const parseNumber = (): LosslessJson => {
    const start = i;
    if (s.charCodeAt(i) === 45) i++;
    if (s.startsWith('Infinity', i)) {
      i += 8;
      return Number.NEGATIVE_INFINITY;
    }
    const intStart = i;
    if (s.charCodeAt(i) === 48) i++;
    else {
      while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    }
    if (i === intStart) throw new ParseError('Expecting value', start);
    let isFloat = false;
    if (s.charCodeAt(i) === 46) {
      const f = i + 1;
      let j = f;
      while (j < n && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
      if (j > f) {
        isFloat = true;
        i = j;
      }
    }
    const e = s.charCodeAt(i);
    if (e === 101 || e === 69) {
      let j = i + 1;
      const sign = s.charCodeAt(j);
      if (sign === 43 || sign === 45) j++;
      const d0 = j;
      while (j < n && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
      if (j > d0) {
        isFloat = true;
        i = j;
      }
    }
    const text = s.slice(start, i);
    if (!isFloat) return intFromDigits(text);
    const x = Number(text);
    return Number.isInteger(x) ? new JsonFloat(x) : x;
  };

  const push = (value: LosslessJson): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      result = value;
      haveResult = true;
    } else if (top.isArray) {
      (top.container as LosslessJson[]).push(value);
    } else {
      setKey(top.container as Record<string, LosslessJson>, top.key!, value);
      top.key = undefined;
    }
  };

  // expecting: 0 value, 1 after value (comma / close), 2 object key (or close right after '{')
  for (;;) {
    skipWs();
    // read a value
    let value: LosslessJson | undefined;
    let opened = false;
    if (i >= n) throw new ParseError('Expecting value', i);
    const c = s.charCodeAt(i);
    if (c === 123 || c === 91) {
      if (stack.length >= maxDepth) throw new ParseError(`Nesting deeper than ${maxDepth}`, i);
      const isArray = c === 91;
      const container: LosslessJson[] | Record<string, LosslessJson> = isArray ? [] : {};
      i++;
      skipWs();
      const close = isArray ? 93 : 125;
      if (s.charCodeAt(i) === close) {
        i++;
        value = container;
      } else {
        stack.push({ container, key: undefined, isArray });
        opened = true;
        if (!isArray) {
          if (s.charCodeAt(i) !== 34)
            throw new ParseError('Expecting property name enclosed in double quotes', i);
          stack[stack.length - 1]!.key = parseString();
          skipWs();
          if (s.charCodeAt(i) !== 58) throw new ParseError("Expecting ':' delimiter", i);
          i++;
        }
      }
    } else if (c === 34) {
      value = parseString();
    } else if (c === 116 && s.startsWith('true', i)) {
      i += 4;
      value = true;
    } else if (c === 102 && s.startsWith('false', i)) {
      i += 5;
      value = false;
    } else if (c === 110 && s.startsWith('null', i)) {
      i += 4;
      value = null;
    } else if (c === 78 && s.startsWith('NaN', i)) {
      i += 3;
      value = Number.NaN;
    } else if (c === 73 && s.startsWith('Infinity', i)) {
      i += 8;
      value = Number.POSITIVE_INFINITY;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      value = parseNumber();
    } else {
      throw new ParseError('Expecting value', i);
    }
    if (opened) continue;
    push(value!);
    // close containers / move to the next element
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        skipWs();
        if (i < n) throw new ParseError('Extra data', i);
        if (!haveResult) throw new ParseError('Expecting value', i);
        return result;
      }
      skipWs();
      const d = s.charCodeAt(i);
      if (d === 44) {
        i++;
        if (!top.isArray) {
          skipWs();
          if (s.charCodeAt(i) !== 34)
            throw new ParseError('Expecting property name enclosed in double quotes', i);
          top.key = parseString();
          skipWs();
          if (s.charCodeAt(i) !== 58) throw new ParseError("Expecting ':' delimiter", i);
          i++;
        }
        break;
      }
      if (d === (top.isArray ? 93 : 125)) {
        i++;
        stack.pop();
        push(top.container);
        continue;
      }
      throw new ParseError(top.isArray ? "Expecting ',' delimiter" : "Expecting ',' delimiter", i);
    }
  }
}

/**
 * Serialise a lossless JSON value back to JSON text: `JsonFloat(5)` → `5.0`, bigints exact, NaN/Infinity as
 * Python's json.dumps writes them. Iterative; values nested deeper than 1000 levels come out as `null`.
 */
export function stringifyJsonLossless(value: unknown): string {
  return write(value, 0);
}

function write(v: unknown, depth: number): string {
  if (depth > 1000) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (v instanceof JsonFloat) {
        const x = v.value;
        if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
        const t = String(x);
        return /[.e]/.test(t) ? t : `${t}.0`;
      }
      if (Array.isArray(v)) return `[${v.map((x) => write(x, depth + 1)).join(',')}]`;
      const parts: string[] = [];
      for (const [k, x] of Object.entries(v)) parts.push(`${JSON.stringify(k)}:${write(x, depth + 1)}`);
      return `{${parts.join(',')}}`;
    }
    default:
      return 'null';
  }
}
