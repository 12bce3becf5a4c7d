/**
 * Pythonic tool calls as BFCL prompt-mode models write them: `[f(a=1, b='x'), math.factorial(n=5)]`.
 * Values are Python literals (nested lists/dicts/tuples, True/False/None, negative numbers, escaped
 * strings); bare names (`math.pi`) are read as their text, like BFCL's AST decoder. Total and linear.
 */
import type { ToolCall, ValidationIssue } from '@openfugu/schema';
import { scanLiteral, skipWhitespace } from './literal.js';

/** Result of {@link parsePythonicCalls}. */
export interface PythonicParseResult {
  /** True when the whole input was a well-formed call list. */
  ok: boolean;
  /** Calls read before the first error (all of them when `ok`). */
  calls: ToolCall[];
  issues: ValidationIssue[];
}

function isIdentStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code > 127;
}
function isIdentPart(code: number): boolean {
  return isIdentStart(code) || (code >= 48 && code <= 57);
}

function readDottedName(text: string, pos: number): { name: string; end: number } | undefined {
  if (!isIdentStart(text.charCodeAt(pos))) return undefined;
  let end = pos;
  for (;;) {
    while (end < text.length && isIdentPart(text.charCodeAt(end))) end++;
    if (text[end] === '.' && isIdentStart(text.charCodeAt(end + 1))) {
      end++;
      continue;
    }
    break;
  }
  return { name: text.slice(pos, end), end };
}

/**
 * Parses a list of Python call expressions, with or without the surrounding brackets.
 * `lossless: true` returns numbers as `NumberLiteral` (text kept). Default false.
 *
 * @example
 * ```ts
 * parsePythonicCalls("[get_weather(city='Paris', days=-1), math.factorial(n=5)]").calls;
 * // [{ name: 'get_weather', arguments: { city: 'Paris', days: -1 } }, { name: 'math.factorial', arguments: { n: 5 } }]
 * ```
 */
export function parsePythonicCalls(
  text: string,
  options: { readonly lossless?: boolean } = {},
): PythonicParseResult {
  const calls: ToolCall[] = [];
  const issues: ValidationIssue[] = [];
  const fail = (message: string, at: number): PythonicParseResult => {
    issues.push({
      code: 'invalid_call',
      path: `/calls/${calls.length}`,
      message: `${message} at offset ${at}`,
    });
    return { ok: false, calls, issues };
  };
  let pos = skipWhitespace(text, 0, true);
  const bracketed = text[pos] === '[';
  if (bracketed) pos = skipWhitespace(text, pos + 1, true);
  for (;;) {
    if (bracketed && text[pos] === ']') {
      pos = skipWhitespace(text, pos + 1, true);
      break;
    }
    if (!bracketed && pos >= text.length) break;
    const name = readDottedName(text, pos);
    if (!name) return fail('expected a function name', pos);
    pos = skipWhitespace(text, name.end, true);
    if (text[pos] !== '(') return fail(`expected '(' after '${name.name.slice(0, 60)}'`, pos);
    pos = skipWhitespace(text, pos + 1, true);
    const args: Record<string, unknown> = {};
    let positional = 0;
    for (;;) {
      if (text[pos] === ')') {
        pos++;
        break;
      }
      // keyword argument?
      const keyword = readDottedName(text, pos);
      let valueStart = pos;
      let key: string | undefined;
      if (keyword && !keyword.name.includes('.')) {
        const afterKey = skipWhitespace(text, keyword.end, true);
        if (text[afterKey] === '=' && text[afterKey + 1] !== '=') {
          key = keyword.name;
          valueStart = afterKey + 1;
        }
      }
      const scanned = scanLiteral(text, valueStart, { mode: 'python', lossless: options.lossless ?? false });
      if (!scanned.ok) return fail(scanned.message, scanned.index);
      if (key === undefined) {
        issues.push({
          code: 'positional_argument',
          path: `/calls/${calls.length}/arguments`,
          message: `positional argument #${positional} of '${name.name.slice(0, 60)}' has no name; ignored`,
        });
        positional++;
      } else if (key === '__proto__') {
        Object.defineProperty(args, key, {
          value: scanned.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else args[key] = scanned.value;
      pos = skipWhitespace(text, scanned.end, true);
      if (text[pos] === ',') pos = skipWhitespace(text, pos + 1, true);
      else if (text[pos] !== ')') return fail(`expected ',' or ')'`, pos);
    }
    calls.push({ name: name.name, arguments: args });
    pos = skipWhitespace(text, pos, true);
    if (text[pos] === ',' || (!bracketed && text[pos] === ';')) pos = skipWhitespace(text, pos + 1, true);
    else if (bracketed && text[pos] !== ']') return fail(`expected ',' or ']'`, pos);
    else if (!bracketed && pos < text.length && !isIdentStart(text.charCodeAt(pos))) {
      return fail('unexpected text after call', pos);
    }
  }
  if (pos < text.length) return fail('unexpected text after the call list', pos);
  return { ok: issues.every((issue) => issue.code === 'positional_argument'), calls, issues };
}
