/**
 * A tolerant, linear-time reader of the literals planners write: JSON and Python (single quotes, `True`,
 * `None`, tuples, trailing commas, `#` comments), plus the slips real models make (bare words, apostrophes
 * inside single-quoted strings, quotes inside double-quoted strings). Nesting is capped so adversarial input
 * cannot overflow the stack; every character is read a bounded number of times.
 */

/** A decoded literal. Objects are plain records; tuples become arrays. */
export type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal };

/** Why reading failed, or what was read and where it ended (exclusive). */
export type LiteralResult =
  | { ok: true; value: Literal; end: number; lenient: boolean }
  | { ok: false; end: number; message: string };

/** Deepest nesting accepted. Workflows need 3 levels; 32 is generous and keeps recursion shallow. */
export const MAX_LITERAL_DEPTH = 32;

class LiteralError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

const CLOSERS = new Set([',', ']', ')', '}', ':', '#', "'", '"']);

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 0xa0 || code === 0x3000;
}

function isWordChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9]/.test(char);
}

class Reader {
  position: number;
  lenient = false;

  constructor(
    readonly text: string,
    start: number,
  ) {
    this.position = start;
  }

  fail(message: string): never {
    throw new LiteralError(message, this.position);
  }

  skipSpaceAndComments(): void {
    const text = this.text;
    while (this.position < text.length) {
      const code = text.charCodeAt(this.position);
      if (isSpace(code)) {
        this.position++;
      } else if (code === 35 /* # */ || (code === 47 /* / */ && text.charCodeAt(this.position + 1) === 47)) {
        const newline = text.indexOf('\n', this.position);
        this.position = newline === -1 ? text.length : newline + 1;
      } else {
        return;
      }
    }
  }

  value(depth: number): Literal {
    if (depth > MAX_LITERAL_DEPTH) this.fail(`nesting deeper than ${MAX_LITERAL_DEPTH}`);
    this.skipSpaceAndComments();
    const char = this.text[this.position];
    if (char === undefined) this.fail('unexpected end of text');
    if (char === '[' || char === '(') return this.sequence(char === '[' ? ']' : ')', depth);
    if (char === '{') return this.object(depth);
    if (char === '"' || char === "'") return this.string();
    if (char === ']' || char === ')' || char === '}' || char === ',' || char === ':') {
      this.fail(`unexpected '${char}'`);
    }
    return this.bare(false);
  }

  sequence(closer: string, depth: number): Literal[] {
    this.position++;
    const items: Literal[] = [];
    for (;;) {
      this.skipSpaceAndComments();
      const char = this.text[this.position];
      if (char === undefined) this.fail(`unterminated list: missing '${closer}'`);
      if (char === closer) {
        this.position++;
        return items;
      }
      if (char === ']' || char === ')' || char === '}')
        this.fail(`mismatched '${char}', expected '${closer}'`);
      if (char === ',') {
        // `[1,,2]` or a leading comma: skip, but note the repair.
        this.lenient = true;
        this.position++;
        continue;
      }
      items.push(this.value(depth + 1));
      this.skipSpaceAndComments();
      const next = this.text[this.position];
      if (next === ',') this.position++;
      else if (next !== closer && next !== undefined) {
        // Missing comma between items (`["a" "b"]`): accept, noting the repair.
        if (next === ']' || next === ')' || next === '}')
          this.fail(`mismatched '${next}', expected '${closer}'`);
        this.lenient = true;
      }
    }
  }

  object(depth: number): { [key: string]: Literal } {
    this.position++;
    const record: { [key: string]: Literal } = {};
    for (;;) {
      this.skipSpaceAndComments();
      const char = this.text[this.position];
      if (char === undefined) this.fail("unterminated object: missing '}'");
      if (char === '}') {
        this.position++;
        return record;
      }
      if (char === ',') {
        this.lenient = true;
        this.position++;
        continue;
      }
      const key = char === '"' || char === "'" ? this.string() : this.bare(true);
      this.skipSpaceAndComments();
      if (this.text[this.position] !== ':' && this.text[this.position] !== '=')
        this.fail("expected ':' after key");
      this.position++;
      const value = this.value(depth + 1);
      // A later duplicate key wins, as in JSON.parse; `__proto__` stays an own property.
      Object.defineProperty(record, String(key), {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipSpaceAndComments();
      const next = this.text[this.position];
      if (next === ',') this.position++;
      else if (next !== '}' && next !== undefined) {
        if (next === ']' || next === ')') this.fail(`mismatched '${next}', expected '}'`);
        this.lenient = true;
      }
    }
  }

  /** Quoted string: JSON escapes, Python triple quotes, and stray inner quotes read as text. */
  string(): string {
    const text = this.text;
    const quote = text[this.position]!;
    const triple = text[this.position + 1] === quote && text[this.position + 2] === quote;
    if (triple) {
      const close = text.indexOf(quote.repeat(3), this.position + 3);
      if (close === -1) this.fail('unterminated triple-quoted string');
      const value = text.slice(this.position + 3, close);
      this.position = close + 3;
      return value;
    }
    this.position++;
    let out = '';
    let chunkStart = this.position;
    while (this.position < text.length) {
      const char = text[this.position]!;
      if (char === '\\') {
        out += text.slice(chunkStart, this.position);
        const escaped = text[this.position + 1];
        if (escaped === undefined) this.fail('unterminated string');
        this.position += 2;
        switch (escaped) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'u': {
            const hex = text.slice(this.position, this.position + 4);
            if (/^[0-9a-fA-F]{4}$/.test(hex)) {
              out += String.fromCharCode(Number.parseInt(hex, 16));
              this.position += 4;
            } else out += 'u';
            break;
          }
          case '\n':
            break;
          default:
            out += escaped;
        }
        chunkStart = this.position;
        continue;
      }
      if (char === quote) {
        // A quote followed by a letter or digit is an apostrophe or an inner quote (`'the user's id'`),
        // not the end of the string. Peeking stops at the first non-space, so each character is seen twice at most.
        let peek = this.position + 1;
        while (peek < text.length && (text[peek] === ' ' || text[peek] === '\t')) peek++;
        const after = text[peek];
        if (
          after === undefined ||
          after === '\n' ||
          after === '\r' ||
          CLOSERS.has(after) ||
          !isWordChar(after)
        ) {
          out += text.slice(chunkStart, this.position);
          this.position++;
          return out;
        }
        this.lenient = true;
      }
      this.position++;
    }
    this.fail('unterminated string');
  }

  /** Unquoted token: numbers, keywords (`True`, `None`, `null`...), or a bare word read as a string. */
  bare(isKey: boolean): Literal {
    const text = this.text;
    const start = this.position;
    while (this.position < text.length) {
      const char = text[this.position]!;
      if (char === ',' || char === ']' || char === ')' || char === '}' || char === '\n' || char === '\r')
        break;
      if (char === '[' || char === '{' || char === '(' || char === '"') break;
      if (isKey && (char === ':' || char === '=')) break;
      this.position++;
    }
    const token = text.slice(start, this.position).trim();
    if (token === '') this.fail('expected a value');
    if (isKey) {
      this.lenient = true;
      return token;
    }
    switch (token) {
      case 'True':
      case 'true':
        return true;
      case 'False':
      case 'false':
        return false;
      case 'None':
      case 'null':
      case 'undefined':
        return null;
    }
    if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(token)) {
      const number = Number(token);
      if (Number.isFinite(number)) return number;
    }
    this.lenient = true;
    return token;
  }
}

/**
 * Reads one literal starting at `start` (which should hold `[`, `(`, `{`, a quote or a bare token).
 * Never throws; runs in time linear in the characters it reads.
 *
 * @example
 * ```ts
 * readLiteral("x = ['a', None, True]", 4) // { ok: true, value: ['a', null, true], end: 21, lenient: false }
 * ```
 */
export function readLiteral(text: string, start: number): LiteralResult {
  const reader = new Reader(text, start);
  try {
    const value = reader.value(0);
    return { ok: true, value, end: reader.position, lenient: reader.lenient };
  } catch (error) {
    if (error instanceof LiteralError) return { ok: false, end: error.position, message: error.message };
    // RangeError (stack) cannot happen with the depth cap; anything else is a bug we still do not throw for.
    return {
      ok: false,
      end: reader.position,
      message: error instanceof Error ? error.message : 'unreadable',
    };
  }
}
