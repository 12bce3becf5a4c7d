/**
 * One iterative scanner for JSON values and Python literals (the two notations models write tool
 * arguments in). It never recurses (an explicit stack holds open containers), so a megabyte of `[`
 * cannot overflow the call stack, and each character is looked at a bounded number of times, so the
 * cost is linear in the input.
 *
 * In `json` mode every deviation from RFC 8259 that it accepts is recorded as a repair; in `python`
 * mode Python's own literal syntax (single quotes, `True`/`None`, tuples, trailing commas) is normal,
 * and bare dotted names (`math.pi`) are read as strings, as the BFCL AST decoder does.
 */

/** A deviation from strict JSON that the tolerant parser accepted (never silent: always reported). */
export type RepairKind =
  | 'code_fence'
  | 'single_quotes'
  | 'trailing_commas'
  | 'python_literals'
  | 'unquoted_keys'
  | 'non_json_numbers'
  | 'nan_infinity'
  | 'control_characters'
  | 'invalid_escapes'
  | 'smart_quotes'
  | 'surrounding_text';

/** A number whose source text is kept (so `5.0` stays distinguishable from `5`). */
export class NumberLiteral {
  /** The number's text as written, e.g. `5.0`, `-1e3`, `Infinity`. */
  readonly text: string;
  /** The parsed value. */
  readonly value: number;
  /** True when the text is written as an integer (no `.`, exponent, `inf` or `nan`). */
  readonly isIntegerText: boolean;
  constructor(text: string, value: number, isIntegerText: boolean) {
    this.text = text;
    this.value = value;
    this.isIntegerText = isIntegerText;
  }
}

/** Scanner configuration. */
export interface ScanOptions {
  /** `json`: strict JSON plus recorded repairs; `python`: Python literal syntax. */
  readonly mode: 'json' | 'python';
  /** When false (json mode), any deviation is an error instead of a repair. Default true. */
  readonly repairs?: boolean;
  /** Return numbers as `NumberLiteral` (text kept). Default false. */
  readonly lossless?: boolean;
  /** Deepest nesting of arrays/objects accepted (deeper input is an error, found fast). Default 10,000. */
  readonly maxDepth?: number;
}

/** Result of one scan: the value and where it ended, or an error with the offset. */
export type ScanResult =
  | { ok: true; value: unknown; end: number }
  | { ok: false; message: string; index: number };

interface Frame {
  readonly kind: 'array' | 'object' | 'tuple' | 'call';
  readonly value: unknown[] | Record<string, unknown>;
  /** Pending key (object), or keyword (call; '' = positional argument). */
  key: string;
  /** call: the (dotted) function name, where its text starts, whether it has keyword arguments. */
  name?: string;
  start?: number;
  keywords?: boolean;
}

const WS = new Uint8Array(128);
for (const c of [' ', '\t', '\n', '\r', '\f', '\v']) WS[c.charCodeAt(0)] = 1;

function isIdentStart(code: number): boolean {
  return (
    (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 36 || code > 127
  );
}
function isIdentPart(code: number): boolean {
  return isIdentStart(code) || (code >= 48 && code <= 57);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const PY_ONLY_ESCAPES: Record<string, string> = { a: '\x07', v: '\v', '\n': '' };

class Scanner {
  pos = 0;
  readonly text: string;
  readonly python: boolean;
  readonly allowRepairs: boolean;
  readonly lossless: boolean;
  readonly maxDepth: number;
  readonly repairs: Set<RepairKind>;
  error: { message: string; index: number } | undefined;

  constructor(text: string, start: number, options: ScanOptions, repairs: Set<RepairKind>) {
    this.text = text;
    this.pos = start;
    this.python = options.mode === 'python';
    this.allowRepairs = options.repairs ?? true;
    this.lossless = options.lossless ?? false;
    this.maxDepth = options.maxDepth ?? 10_000;
    this.repairs = repairs;
  }

  fail(message: string, index = this.pos): undefined {
    if (this.error === undefined) this.error = { message, index };
    return undefined;
  }

  /** Records a json-mode repair; returns false (and sets the error) when repairs are off. */
  repair(kind: RepairKind): boolean {
    if (this.python) return true;
    if (!this.allowRepairs) {
      this.fail(`not valid JSON (${kind.replace(/_/g, ' ')})`);
      return false;
    }
    this.repairs.add(kind);
    return true;
  }

  skipWs(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const code = text.charCodeAt(pos);
      if (code < 128 && WS[code] === 1) {
        pos++;
        continue;
      }
      if (this.python && code === 35 /* # */) {
        const nl = text.indexOf('\n', pos);
        pos = nl === -1 ? text.length : nl + 1;
        continue;
      }
      break;
    }
    this.pos = pos;
  }

  /** Reads a quoted string starting at `this.pos` (which holds the quote). */
  readString(raw = false): string | undefined {
    const text = this.text;
    const open = text[this.pos]!;
    let quote = open;
    if (open === '\u201c' || open === '\u201d') {
      if (!this.repair('smart_quotes')) return undefined;
      quote = '\u201d';
    } else if (open === "'" && !this.repair('single_quotes')) return undefined;
    let triple = false;
    if (this.python && (quote === '"' || quote === "'") && text.startsWith(quote.repeat(3), this.pos)) {
      triple = true;
      this.pos += 3;
    } else this.pos++;
    let out = '';
    let pos = this.pos;
    let chunkStart = pos;
    const length = text.length;
    const quoteCode = quote.charCodeAt(0);
    const smart = quote === '\u201d';
    while (pos < length) {
      const code = text.charCodeAt(pos);
      if (code === quoteCode || (smart && code === 0x201c)) {
        if (!triple) {
          this.pos = pos + 1;
          return out + text.slice(chunkStart, pos);
        }
        if (text.charCodeAt(pos + 1) === quoteCode && text.charCodeAt(pos + 2) === quoteCode) {
          this.pos = pos + 3;
          return out + text.slice(chunkStart, pos);
        }
        pos++;
        continue;
      }
      if (code === 92 /* \\ */) {
        out += text.slice(chunkStart, pos);
        this.pos = pos;
        const escaped = this.readEscape(raw);
        if (escaped === undefined) return undefined;
        out += escaped;
        pos = this.pos;
        chunkStart = pos;
        continue;
      }
      if (code < 0x20) {
        this.pos = pos;
        if (!this.python && !this.repair('control_characters')) return undefined;
        if (this.python && !triple && code === 10) return this.fail('unterminated string (newline)');
      }
      pos++;
    }
    this.pos = pos;
    return this.fail('unterminated string');
  }

  readEscape(raw: boolean): string | undefined {
    const text = this.text;
    const next = text[this.pos + 1];
    if (next === undefined) return this.fail('unterminated string');
    if (raw) {
      this.pos += 2;
      return `\\${next}`;
    }
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      if (next === "'" && !this.python && !this.repair('invalid_escapes')) return undefined;
      this.pos += 2;
      return simple;
    }
    if (next === 'u' || (this.python && (next === 'U' || next === 'x'))) {
      const digits = next === 'u' ? 4 : next === 'U' ? 8 : 2;
      const hex = text.slice(this.pos + 2, this.pos + 2 + digits);
      if (hex.length !== digits || !/^[0-9a-fA-F]+$/.test(hex)) return this.fail('bad \\u escape');
      this.pos += 2 + digits;
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) return this.fail('escape out of range');
      return String.fromCodePoint(code);
    }
    if (this.python) {
      const pyOnly = PY_ONLY_ESCAPES[next];
      if (pyOnly !== undefined) {
        this.pos += 2;
        return pyOnly;
      }
      const octal = /^[0-7]{1,3}/.exec(text.slice(this.pos + 1, this.pos + 4));
      if (octal) {
        this.pos += 1 + octal[0].length;
        return String.fromCharCode(Number.parseInt(octal[0], 8));
      }
      // Python keeps unknown escapes verbatim.
      this.pos += 2;
      return `\\${next}`;
    }
    if (!this.repair('invalid_escapes')) return undefined;
    this.pos += 2;
    return next;
  }

  readNumber(): unknown {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    let code = text.charCodeAt(pos);
    if (code === 45 /* - */ || code === 43 /* + */) pos++;
    // inf / nan spellings after a sign
    const word = /^(Infinity|inf|NaN|nan)\b/.exec(text.slice(pos, pos + 9));
    if (word) {
      const sign = text[start];
      const pythonJson = (word[1] === 'Infinity' && sign !== '+') || (word[1] === 'NaN' && pos === start);
      if (!this.repair(pythonJson ? 'nan_infinity' : 'non_json_numbers')) return undefined;
      pos += word[1]!.length;
      this.pos = pos;
      const negative = text.charCodeAt(start) === 45;
      const value = word[1]!.toLowerCase().startsWith('inf') ? (negative ? -Infinity : Infinity) : Number.NaN;
      return this.lossless ? new NumberLiteral(text.slice(start, pos), value, false) : value;
    }
    const bodyStart = pos;
    let integerText = true;
    for (;;) {
      code = text.charCodeAt(pos);
      if ((code >= 48 && code <= 57) || code === 95 /* _ */) pos++;
      else if (code === 46 /* . */) {
        integerText = false;
        pos++;
      } else if (code === 101 || code === 69 /* e E */) {
        integerText = false;
        pos++;
        const sign = text.charCodeAt(pos);
        if (sign === 43 || sign === 45) pos++;
      } else if ((code === 120 || code === 88 || code === 111 || code === 98) && pos === bodyStart + 1) {
        pos++; // 0x / 0o / 0b
      } else if (this.python && (code === 97 || code === 65 || (code >= 98 && code <= 102))) {
        pos++; // hex digits; validated below
      } else break;
    }
    const raw = text.slice(start, pos);
    this.pos = pos;
    if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) {
      const value = Number(raw);
      return this.lossless ? new NumberLiteral(raw, value, integerText) : value;
    }
    const cleaned = raw.replace(/_/g, '');
    let value: number;
    if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(cleaned) || /^[+-]?0[oObB][0-7]+$/.test(cleaned)) {
      const negative = cleaned.startsWith('-');
      const body = cleaned.replace(/^[+-]/, '');
      value = Number(body) * (negative ? -1 : 1);
      integerText = true;
    } else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(cleaned)) {
      value = Number(cleaned);
    } else return this.fail(`bad number '${raw.slice(0, 40)}'`, start);
    if (!this.repair('non_json_numbers')) return undefined;
    return this.lossless ? new NumberLiteral(raw, value, integerText) : value;
  }

  /** Reads an identifier-like token; keywords become literals, others (python mode) dotted-name strings. */
  readWord(): { value: unknown } | undefined {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    while (pos < text.length && isIdentPart(text.charCodeAt(pos))) pos++;
    const word = text.slice(start, pos);
    // string prefixes: r'..', u'..', b'..' (python)
    const quote = text[pos];
    if (this.python && (quote === '"' || quote === "'") && /^[rRuUbB]{1,2}$/.test(word)) {
      this.pos = pos;
      const value = this.readString(/[rR]/.test(word));
      return value === undefined ? undefined : { value };
    }
    this.pos = pos;
    switch (word) {
      case 'true':
      case 'false':
      case 'null':
        return { value: word === 'null' ? null : word === 'true' };
      case 'True':
      case 'False':
      case 'None':
        if (!this.repair('python_literals')) return undefined;
        return { value: word === 'None' ? null : word === 'True' };
      case 'Infinity':
      case 'NaN':
        this.pos = start;
        return { value: this.readNumber() };
    }
    if (!this.python) return this.fail(`unexpected word '${word.slice(0, 40)}'`, start);
    // python: a bare (dotted) name is read as its text, as BFCL's AST decoder does
    let end = pos;
    while (text[end] === '.' && end + 1 < text.length && isIdentStart(text.charCodeAt(end + 1))) {
      end++;
      while (end < text.length && isIdentPart(text.charCodeAt(end))) end++;
    }
    this.pos = end;
    return { value: text.slice(start, end) };
  }

  /** Scans one value from `this.pos`. */
  scan(): unknown {
    const text = this.text;
    const stack: Frame[] = [];
    let state: 'value' | 'after' | 'key' | 'callarg' = 'value';
    let value: unknown;
    for (;;) {
      this.skipWs();
      if (this.error) return undefined;
      const c = text[this.pos];
      if (state === 'value') {
        if (c === undefined) return this.fail('unexpected end of input');
        if (c === '[' || c === '{' || c === '(') {
          if (c === '(' && !this.repair('python_literals')) return undefined;
          if (stack.length >= this.maxDepth) return this.fail(`nesting deeper than ${this.maxDepth}`);
          const kind = c === '[' ? 'array' : c === '{' ? 'object' : 'tuple';
          stack.push({ kind, value: kind === 'object' ? {} : [], key: '' });
          this.pos++;
          this.skipWs();
          const close = c === '[' ? ']' : c === '{' ? '}' : ')';
          if (text[this.pos] === close) {
            this.pos++;
            value = stack.pop()!.value;
            state = 'after';
          } else state = kind === 'object' ? 'key' : 'value';
          if (state === 'after') {
            if (stack.length === 0) return value;
            this.deliver(stack[stack.length - 1]!, value);
          }
          continue;
        }
        if (c === '"' || c === "'" || c === '\u201c') value = this.readString();
        else {
          const code = c.charCodeAt(0);
          if ((code >= 48 && code <= 57) || c === '-' || c === '+' || c === '.') value = this.readNumber();
          else if (isIdentStart(code)) {
            const wordStart = this.pos;
            const word = this.readWord();
            value = word?.value;
            if (this.python && typeof value === 'string' && text.slice(wordStart, this.pos) === value) {
              const afterName = this.pos;
              this.skipWs();
              if (text[this.pos] === '(') {
                // a nested call, decoded as BFCL's AST decoder does: {name: {keyword args}}, or its source
                // text when it has no keyword arguments
                if (stack.length >= this.maxDepth) return this.fail(`nesting deeper than ${this.maxDepth}`);
                stack.push({
                  kind: 'call',
                  value: {},
                  key: '',
                  name: value,
                  start: wordStart,
                  keywords: false,
                });
                this.pos++;
                state = 'callarg';
                continue;
              }
              this.pos = afterName;
            }
          } else return this.fail(`unexpected character '${c}'`);
        }
        if (this.error) return undefined;
        if (stack.length === 0) return value;
        this.deliver(stack[stack.length - 1]!, value);
        state = 'after';
        continue;
      }
      const top = stack[stack.length - 1]!;
      const close = top.kind === 'array' ? ']' : top.kind === 'object' ? '}' : ')';
      if (state === 'callarg') {
        if (c === ')') {
          state = 'after';
          continue;
        }
        top.key = '';
        if (c !== undefined && isIdentStart(c.charCodeAt(0))) {
          let end = this.pos;
          while (end < text.length && isIdentPart(text.charCodeAt(end))) end++;
          let eq = end;
          while (eq < text.length && (text[eq] === ' ' || text[eq] === '\t')) eq++;
          if (text[eq] === '=' && text[eq + 1] !== '=') {
            top.key = text.slice(this.pos, end);
            top.keywords = true;
            this.pos = eq + 1;
          }
        }
        state = 'value';
        continue;
      }
      if (state === 'key') {
        let key: string | undefined;
        if (c === '"' || c === "'" || c === '\u201c') key = this.readString();
        else if (c !== undefined && isIdentStart(c.charCodeAt(0)) && !this.python) {
          if (!this.repair('unquoted_keys')) return undefined;
          const start = this.pos;
          while (this.pos < text.length && isIdentPart(text.charCodeAt(this.pos))) this.pos++;
          key = text.slice(start, this.pos);
        } else if (c !== undefined && this.python && /[-+.0-9]/.test(c)) {
          const number = this.readNumber();
          key = number instanceof NumberLiteral ? number.text : String(number);
        } else if (c !== undefined && this.python && isIdentStart(c.charCodeAt(0))) {
          const word = this.readWord();
          key = word === undefined ? undefined : String(word.value);
        } else return this.fail(c === undefined ? 'unexpected end of input' : `expected a key, got '${c}'`);
        if (this.error || key === undefined) return undefined;
        this.skipWs();
        if (text[this.pos] !== ':') return this.fail(`expected ':' after key`);
        this.pos++;
        top.key = key;
        state = 'value';
        continue;
      }
      // state === 'after'
      if (c === ',') {
        this.pos++;
        this.skipWs();
        if (text[this.pos] === close) {
          if (!(this.python || this.repair('trailing_commas'))) return undefined;
          continue; // the closer is handled on the next turn
        }
        state = top.kind === 'object' ? 'key' : top.kind === 'call' ? 'callarg' : 'value';
        continue;
      }
      if (c === close) {
        this.pos++;
        stack.pop();
        value = top.value;
        if (top.kind === 'call') {
          value = top.keywords ? { [top.name!]: top.value } : text.slice(top.start, this.pos);
        }
        if (stack.length === 0) return value;
        this.deliver(stack[stack.length - 1]!, value);
        continue;
      }
      return this.fail(
        c === undefined ? `unexpected end of input (missing '${close}')` : `expected ',' or '${close}'`,
      );
    }
  }

  deliver(frame: Frame, value: unknown): void {
    if (frame.kind === 'call' && frame.key === '') return; // positional arguments are dropped, as BFCL does
    if (frame.kind === 'object' || frame.kind === 'call') {
      const object = frame.value as Record<string, unknown>;
      if (frame.key === '__proto__') {
        Object.defineProperty(object, '__proto__', {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else object[frame.key] = value;
    } else (frame.value as unknown[]).push(value);
  }
}

/**
 * Scans one JSON value or Python literal starting at `start` (leading whitespace skipped).
 * Repairs accepted in json mode are added to `repairs`. Never throws; linear time; no recursion.
 */
export function scanLiteral(
  text: string,
  start: number,
  options: ScanOptions,
  repairs: Set<RepairKind> = new Set(),
): ScanResult {
  const scanner = new Scanner(text, start, options, repairs);
  const value = scanner.scan();
  if (scanner.error) return { ok: false, ...scanner.error };
  return { ok: true, value, end: scanner.pos };
}

/** @internal Exposed for the pythonic call parser: skip whitespace and comments from `start`. */
export function skipWhitespace(text: string, start: number, python: boolean): number {
  const scanner = new Scanner(text, start, { mode: python ? 'python' : 'json' }, new Set());
  scanner.skipWs();
  return scanner.pos;
}
