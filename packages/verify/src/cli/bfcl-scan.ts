// The fast path of `openfugu-verify bfcl`: one pass over a line that reads only what the checker needs.
//
// A BFCL line is mostly text the checker never reads (the question, metadata, the official verdict) and
// function docs that repeat on every candidate of a question (oracle_dev: 8,719 lines, 816 distinct
// `function` values). So instead of parsing the whole line, the scanner walks its top-level object:
//  - `function` and `possible_answer`: the value's extent is found by a structural skip (strings jumped over
//    with native searches) and its text is looked up in a parse cache; only new texts are parsed. A cache hit
//    is the same text, character for character, as one already parsed and validated, so the result is the
//    same as parsing it again.
//  - `id`, `category`, `model_output`, `language`: cut out the same way and parsed.
//  - every other key: cut out the same way and validated by the native JSON.parse, unless its text is the
//    same as the previous line's (candidates of a question are adjacent and repeat the question). A strict
//    validator in JS that builds nothing was tried: no faster in steady state, and slower while cold.
// Parsing a cut-out value uses the native JSON.parse unless its text holds a number JSON.parse would misread
// (`5.0`, long digit runs), in which case the lossless parser keeps the number's type, as the slow path does.
// Anything unusual (NaN/Infinity, escaped keys, a non-object line, any syntax error) makes the scanner
// give up (`undefined`), and the caller judges the line with the full parser, which also words the error.

import { CONTROL_CHAR, parseJsonLossless } from '../bfcl/lossless-json.js';

/** The parts of a BFCL line the checker reads; absent keys stay absent. */
export interface ScannedBfclLine {
  id?: unknown;
  category?: unknown;
  function?: unknown;
  possible_answer?: unknown;
  model_output?: unknown;
  language?: unknown;
}

// A number token JSON.parse could misread: an integral float (5.0, 1e3, 2.50e1), or ≥ 16 significant
// digits (rounding can make a fraction integral, and integers beyond 2^53 lose digits). Matches inside
// strings only cost a lossless parse.
export const NEEDS_LOSSLESS = /\d\.0+(?![0-9])|\d[eE]|\d[\d.]{15}|NaN|Infinity/;

const MAX_DEPTH = 1000;

/** What {@link parseJsonValue} returns for text that is not JSON (a value no JSON text parses to). */
export const NOT_JSON: unique symbol = Symbol('not JSON');

/** Parse JSON text as the CLI does: natively, or losslessly where a number's text matters; NOT_JSON if invalid. */
export function parseJsonValue(text: string): unknown {
  if (!NEEDS_LOSSLESS.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return NOT_JSON;
    }
  }
  const r = parseJsonLossless(text);
  return r.ok ? r.value : NOT_JSON;
}

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/**
 * End of the string whose opening quote is at `i` (index after the closing quote), found by searching for
 * quotes and counting the backslashes before them; -1 when unterminated. Validates nothing: callers parse
 * the text they cut out.
 */
function skipStringFast(s: string, i: number): number {
  let q = s.indexOf('"', i + 1);
  while (q !== -1) {
    let k = q - 1;
    while (s.charCodeAt(k) === 92) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    q = s.indexOf('"', q + 1);
  }
  return -1;
}

/**
 * End of the JSON value starting at `i`, by bracket counting outside strings; -1 on an obvious mismatch or
 * nesting deeper than 1000. Not a validator: the text it delimits is parsed (or matched against an already
 * parsed text) afterwards, so an invalid value is caught there.
 */
function skipValueFast(s: string, i: number): number {
  const n = s.length;
  let depth = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 34) {
      i = skipStringFast(s, i);
      if (i === -1) return -1;
      if (depth === 0) return i;
      continue;
    }
    if (c === 123 || c === 91) {
      if (++depth > MAX_DEPTH) return -1;
    } else if (c === 125 || c === 93) {
      if (depth === 0) return i; // end of a scalar
      if (--depth === 0) return i + 1;
    } else if (depth === 0 && (c === 44 || isWs(c))) {
      return i; // end of a scalar
    }
    i++;
  }
  return depth === 0 ? i : -1;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// What the scanner does with a top-level key's value.
const SKIP = 0; // validate, build nothing
const PARSE = 1; // parse (model_output, id)
const MEMO = 2; // parse, reuse the last line's value when the text is the same (category, language)
const CACHE = 3; // parse, reuse any earlier line's value with the same text (function, possible_answer)

// A slot per key the scanner knows (the oracle's keys), so that the memo of the last line is an array read;
// other keys are memoised in a Map by name. Slots 0-1 PARSE, 2-3 MEMO, 4-5 CACHE, the rest SKIP.
const SLOT_KINDS = [PARSE, PARSE, MEMO, MEMO, CACHE, CACHE, SKIP, SKIP, SKIP, SKIP, SKIP];

function keySlot(key: string): number {
  switch (key) {
    case 'model_output':
      return 0;
    case 'id':
      return 1;
    case 'category':
      return 2;
    case 'language':
      return 3;
    case 'function':
      return 4;
    case 'possible_answer':
      return 5;
    case 'question':
      return 6;
    case 'meta':
      return 7;
    case 'official':
      return 8;
    case 'variant':
      return 9;
    case 'cand':
      return 10;
    default:
      return -1;
  }
}

/** What the last line held under a key: its value's text and, for parsed keys, the value. */
interface Last {
  text: string;
  value: unknown;
}

/** Settings of {@link createBfclLineScanner}. */
export interface BfclLineScannerOptions {
  /** Most distinct `function` / `possible_answer` texts kept parsed (the cache starts afresh when full). Default 4096. */
  cacheEntries?: number;
}

/**
 * A scanner for lines of `openfugu-verify bfcl` input: `scan(line)` returns the fields the checker reads, or
 * `undefined` when the line needs the full parser (invalid JSON, NaN/Infinity, escaped keys, not an object).
 * Parsed `function` / `possible_answer` values are shared between lines with the same text: callers must not
 * mutate them (the checker does not).
 */
export function createBfclLineScanner(
  options: BfclLineScannerOptions = {},
): (line: string) => ScannedBfclLine | undefined {
  const limit = options.cacheEntries ?? 4096;
  let cache = new Map<string, unknown>();
  // Per key, the previous line's value text: candidates of one question are usually adjacent and repeat the
  // question, function docs and answers, so one in-place comparison often replaces skipping and hashing.
  const last: (Last | undefined)[] = SLOT_KINDS.map(() => undefined);
  const lastOther = new Map<string, Last>();
  return (s) => {
    const out: ScannedBfclLine = {};
    let i = skipWs(s, 0);
    if (s.charCodeAt(i) !== 123) return undefined;
    i = skipWs(s, i + 1);
    if (s.charCodeAt(i) === 125) return skipWs(s, i + 1) === s.length ? out : undefined;
    for (;;) {
      if (s.charCodeAt(i) !== 34) return undefined;
      const keyEnd = s.indexOf('"', i + 1);
      if (keyEnd === -1) return undefined;
      const key = s.slice(i + 1, keyEnd);
      i = skipWs(s, keyEnd + 1);
      if (s.charCodeAt(i) !== 58) return undefined;
      i = skipWs(s, i + 1);
      const slot = keySlot(key);
      const kind = slot === -1 ? SKIP : SLOT_KINDS[slot]!;
      const prev = kind === PARSE ? undefined : slot === -1 ? lastOther.get(key) : last[slot];
      // (slice + === compares with memcmp; startsWith walks characters, ten times slower here)
      if (prev !== undefined && s.slice(i, i + prev.text.length) === prev.text) {
        // The same text as an earlier, validated value (a complete JSON container or string cannot be the
        // prefix of a longer one; a number can, and the check after the value catches that).
        if (kind !== SKIP) (out as Record<string, unknown>)[key] = prev.value;
        i += prev.text.length;
      } else if (kind === SKIP) {
        // an escaped or control character in a key: leave the line to the full parser
        if (key.includes('\\') || CONTROL_CHAR.test(key)) return undefined;
        const end = skipValueFast(s, i);
        if (end === -1) return undefined;
        // validated by the native parser (no JS character loop to warm up); the value is dropped
        const text = s.slice(i, end);
        if (!isJson(text)) return undefined;
        const memo = { text, value: undefined };
        if (slot === -1) lastOther.set(key, memo);
        else last[slot] = memo;
        i = end;
      } else {
        const c = s.charCodeAt(i);
        let end: number;
        let value: unknown;
        if (c === 34) {
          // a string: cut out directly when it has no escapes
          end = skipStringFast(s, i);
          if (end === -1) return undefined;
          const inner = s.slice(i + 1, end - 1);
          if (inner.includes('\\') || CONTROL_CHAR.test(inner)) {
            value = parseJsonValue(s.slice(i, end));
            if (value === NOT_JSON) return undefined;
          } else {
            value = inner;
          }
        } else {
          end = skipValueFast(s, i);
          if (end === -1) return undefined;
          const text = s.slice(i, end);
          value = kind === CACHE ? cache.get(text) : undefined;
          if (value === undefined) {
            value = parseJsonValue(text);
            if (value === NOT_JSON) return undefined;
            if (kind === CACHE) {
              if (cache.size >= limit) cache = new Map();
              cache.set(text, value);
            }
          }
        }
        if (kind !== PARSE) last[slot] = { text: s.slice(i, end), value };
        (out as Record<string, unknown>)[key] = value;
        i = end;
      }
      i = skipWs(s, i);
      const c = s.charCodeAt(i);
      if (c === 44) {
        i = skipWs(s, i + 1);
        continue;
      }
      if (c !== 125) return undefined;
      return skipWs(s, i + 1) === s.length ? out : undefined;
    }
  };
}
