// Python value semantics the official BFCL checker relies on, over JSON-shaped JS values.
//
// Python's json.loads keeps `5.0` a float and `5` an int, and the checker compares types with
// `type(x) == int`. In JS both are the number 5, so a float whose value is integral is carried as a
// `JsonFloat` box; a non-integral JS number is a float, an integral one an int, a bigint an int that
// does not fit a double exactly. Equality follows Python's `==` (5 == 5.0 == True, lists element-wise,
// dicts by key set) with the identity shortcut Python applies inside containers.

/** A JSON number written as a float (`5.0`, `1e3`, `-0.0`) whose value is integral: Python keeps it a float, distinct from the int 5. */
export class JsonFloat {
  /** The number's value. */
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** The Python type of a JSON-shaped value, as `type(x).__name__` would say ('other' for non-JSON JS values). */
export type PyTypeName = 'str' | 'int' | 'float' | 'bool' | 'NoneType' | 'list' | 'dict' | 'other';

/** Raised where the official (Python) checker would raise; caught at the checker's top level. */
export class PyCrash {
  readonly exception: string;
  readonly message: string;
  constructor(exception: string, message: string) {
    this.exception = exception;
    this.message = message;
  }
}

/** Python type of `v`. */
export function pyType(v: unknown): PyTypeName {
  switch (typeof v) {
    case 'string':
      return 'str';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'object':
      if (v === null) return 'NoneType';
      if (Array.isArray(v)) return 'list';
      if (v instanceof JsonFloat) return 'float';
      return 'dict';
    default:
      return 'other';
  }
}

/** A float value: integral ones are boxed so they stay floats; NaN is boxed so it is never identical to another NaN. */
export function mkFloat(x: number): number | JsonFloat {
  return Number.isInteger(x) || Number.isNaN(x) ? new JsonFloat(x) : x;
}

function numericOf(v: unknown): number | bigint | undefined {
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return v;
    case 'boolean':
      return v ? 1 : 0;
    case 'object':
      return v instanceof JsonFloat ? v.value : undefined;
    default:
      return undefined;
  }
}

function numEq(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a === b;
  const big = (typeof a === 'bigint' ? a : b) as bigint;
  const num = (typeof a === 'number' ? a : b) as number;
  return Number.isInteger(num) && BigInt(num) === big;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Python `a == b` with the identity shortcut (`a is b or a == b`) used by `in` and container equality. */
export function pyEq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'string' || tb === 'string') return false;
  if (ta === 'number' && tb === 'number') {
    // Python's json module parses every NaN to one shared object, so two JSON NaNs are identical.
    return Number.isNaN(a) && Number.isNaN(b);
  }
  const na = numericOf(a);
  if (na !== undefined) {
    const nb = numericOf(b);
    return nb !== undefined && numEq(na, nb);
  }
  if (ta !== 'object' || tb !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!pyEq(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || b instanceof JsonFloat) return false;
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  let count = 0;
  for (const k in oa) {
    if (!hasOwn.call(oa, k)) continue;
    if (!hasOwn.call(ob, k) || !pyEq(oa[k], ob[k])) return false;
    count++;
  }
  for (const k in ob) if (hasOwn.call(ob, k)) count--;
  return count === 0;
}

function unhashable(v: unknown): boolean {
  const t = pyType(v);
  return t === 'list' || t === 'dict';
}

/** Python `item in container`. */
export function pyContains(container: unknown, item: unknown): boolean {
  const t = pyType(container);
  if (t === 'list') {
    const list = container as unknown[];
    for (let i = 0; i < list.length; i++) if (pyEq(list[i], item)) return true;
    return false;
  }
  if (t === 'dict') {
    if (typeof item === 'string') return hasOwn.call(container, item);
    if (unhashable(item)) throw new PyCrash('TypeError', `unhashable type: '${pyType(item)}'`);
    return false;
  }
  if (t === 'str') {
    if (typeof item !== 'string') {
      throw new PyCrash('TypeError', `'in <string>' requires string as left operand, not ${pyType(item)}`);
    }
    return (container as string).includes(item);
  }
  throw new PyCrash('TypeError', `argument of type '${t}' is not iterable`);
}

/** Python `for x in v` over a JSON value. */
export function pyIter(v: unknown): readonly unknown[] {
  const t = pyType(v);
  if (t === 'list') return v as unknown[];
  if (t === 'str') return Array.from(v as string);
  if (t === 'dict') return Object.keys(v as object);
  throw new PyCrash('TypeError', `'${t}' object is not iterable`);
}

/** Python `[v[i] for i in range(len(v))]`. */
export function pyIndexSeq(v: unknown): readonly unknown[] {
  const t = pyType(v);
  if (t === 'list') return v as unknown[];
  if (t === 'str') return Array.from(v as string);
  if (t === 'dict') {
    for (const k in v as object) if (hasOwn.call(v, k)) throw new PyCrash('KeyError', '0');
    return [];
  }
  throw new PyCrash('TypeError', `object of type '${t}' has no len()`);
}

/** Python `len(v)`. */
export function pyLen(v: unknown): number {
  const t = pyType(v);
  if (t === 'list') return (v as unknown[]).length;
  if (t === 'str') {
    let n = 0;
    for (const _ of v as string) n++;
    return n;
  }
  if (t === 'dict') return Object.keys(v as object).length;
  throw new PyCrash('TypeError', `object of type '${t}' has no len()`);
}

/** Python `container[key]` for a string key. */
export function pyGetItem(container: unknown, key: unknown): unknown {
  const t = pyType(container);
  if (t === 'dict') {
    if (typeof key === 'string' && hasOwn.call(container, key))
      return (container as Record<string, unknown>)[key];
    if (unhashable(key)) throw new PyCrash('TypeError', `unhashable type: '${pyType(key)}'`);
    throw new PyCrash('KeyError', String(key));
  }
  if (t === 'NoneType') throw new PyCrash('TypeError', "'NoneType' object is not subscriptable");
  if (t === 'list' || t === 'str') throw new PyCrash('TypeError', `${t} indices must be integers or slices`);
  throw new PyCrash('TypeError', `'${t}' object is not subscriptable`);
}

/** Own entries of a dict in insertion order (JS objects put integer-like keys first). */
export function pyItems(v: unknown): [string, unknown][] {
  if (pyType(v) !== 'dict')
    throw new PyCrash('AttributeError', `'${pyType(v)}' object has no attribute 'items'`);
  return Object.entries(v as Record<string, unknown>);
}

// --- strings -------------------------------------------------------------------------------------

/** Characters Python's `str.isspace()` (and `\s`, `str.strip()`) treat as whitespace. */
export const PY_WS =
  '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_SET = new Set<number>([
  9, 10, 11, 12, 13, 0x1c, 0x1d, 0x1e, 0x1f, 32, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
  0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** Python `s.strip()`. */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && WS_SET.has(s.charCodeAt(start))) start++;
  while (end > start && WS_SET.has(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Python `s.strip(chars)`. */
export function pyStripChars(s: string, chars: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start]!)) start++;
  while (end > start && chars.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

function cpLen(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
}

function cpLenBack(s: string, end: number): number {
  const c = s.charCodeAt(end - 1);
  return c >= 0xdc00 &&
    c <= 0xdfff &&
    end >= 2 &&
    s.charCodeAt(end - 2) >= 0xd800 &&
    s.charCodeAt(end - 2) <= 0xdbff
    ? 2
    : 1;
}

/** Python `s[1:-1]` (code points, not UTF-16 units). */
export function pyInner(s: string): string {
  if (s.length === 0) return '';
  const a = cpLen(s, 0);
  const b = s.length - cpLenBack(s, s.length);
  return b > a ? s.slice(a, b) : '';
}

/** Python `s[:-1]`. */
export function pyDropLast(s: string): string {
  return s.length === 0 ? '' : s.slice(0, s.length - cpLenBack(s, s.length));
}

const ND = /\p{Nd}/u;

// Unicode encodes each set of decimal digits as a contiguous run 0..9, so a digit's value is its distance
// from the start of its run, mod 10.
function digitValue(cp: number): number {
  let start = cp;
  while (start > 0 && ND.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}

function asciiDigits(s: string): string {
  if (/^[0-9._eE+-]*$/.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    out += cp >= 48 && cp <= 57 ? ch : ND.test(ch) ? String(digitValue(cp)) : ch;
  }
  return out;
}

const INT_RE = /^[+-]?\p{Nd}(?:_?\p{Nd})*$/u;
const FLOAT_RE =
  /^[+-]?(?:\p{Nd}(?:_?\p{Nd})*(?:\.(?:\p{Nd}(?:_?\p{Nd})*)?)?|\.\p{Nd}(?:_?\p{Nd})*)(?:[eE][+-]?\p{Nd}(?:_?\p{Nd})*)?$/u;
const SPECIAL_FLOAT_RE = /^([+-]?)(?:inf|infinity|nan)$/i;

/** A Python int from decimal digits: a JS number when exact, else a bigint. */
export function intFromDigits(text: string): number | bigint {
  if (text.length <= 15) return Number(text);
  const big = BigInt(text);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big;
}

/** Python `int(s)` for a str: the int, or undefined where Python raises ValueError. */
export function pyIntParse(s: string): number | bigint | undefined {
  const t = pyStrip(s);
  if (!INT_RE.test(t)) return undefined;
  const clean = asciiDigits(t.includes('_') ? t.replaceAll('_', '') : t);
  return intFromDigits(clean[0] === '+' ? clean.slice(1) : clean);
}

/** Python `float(s)` for a str: the float, or undefined where Python raises ValueError. */
export function pyFloatParse(s: string): number | JsonFloat | undefined {
  const t = pyStrip(s);
  if (FLOAT_RE.test(t)) return mkFloat(Number(asciiDigits(t.includes('_') ? t.replaceAll('_', '') : t)));
  const m = SPECIAL_FLOAT_RE.exec(t);
  if (m === null) return undefined;
  const neg = m[1] === '-';
  if (/nan$/i.test(t)) return mkFloat(Number.NaN);
  return neg ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

/** Python `float(x)` for an int. */
export function intToFloat(v: number | bigint): number | JsonFloat {
  if (typeof v === 'number') return mkFloat(v);
  const x = Number(v);
  if (!Number.isFinite(x)) throw new PyCrash('OverflowError', 'int too large to convert to float');
  return mkFloat(x);
}

const STD_RE = /[ ,./\-_*^]/g;

/**
 * BFCL's string normalisation: remove spaces and `,./-_*^`, lower-case, turn `'` into `"`.
 * Fast path: a string that has none of those and no upper-case or non-ASCII character is returned as is.
 */
export function standardizeString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (
      c === 32 ||
      c === 44 ||
      c === 46 ||
      c === 47 ||
      c === 45 ||
      c === 95 ||
      c === 42 ||
      c === 94 ||
      c === 39 ||
      (c >= 65 && c <= 90) ||
      c > 127
    ) {
      return s.replace(STD_RE, '').toLowerCase().replaceAll("'", '"');
    }
  }
  return s;
}

function isRemovable(c: number): boolean {
  return c === 32 || c === 44 || c === 46 || c === 47 || c === 45 || c === 95 || c === 42 || c === 94;
}

/**
 * `standardizeString(a) === standardizeString(b)` without building either string (ASCII fast path;
 * the first non-ASCII character met falls back to building both).
 */
export function standardizedEqual(a: string, b: string): boolean {
  if (a === b) return true; // equal strings normalise equally (a native comparison, the common case)
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < n && isRemovable(a.charCodeAt(i))) i++;
    while (j < m && isRemovable(b.charCodeAt(j))) j++;
    if (i === n || j === m) return i === n && j === m;
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(j);
    if (ca > 127 || cb > 127) return standardizeString(a) === standardizeString(b);
    if (ca >= 65 && ca <= 90) ca += 32;
    else if (ca === 39) ca = 34;
    if (cb >= 65 && cb <= 90) cb += 32;
    else if (cb === 39) cb = 34;
    if (ca !== cb) return false;
    i++;
    j++;
  }
}

/** A short Python-like repr for error messages. */
export function pyRepr(v: unknown): string {
  try {
    if (typeof v === 'string') return `'${v}'`;
    if (v === null) return 'None';
    if (typeof v === 'boolean') return v ? 'True' : 'False';
    if (v instanceof JsonFloat) return Number.isFinite(v.value) ? v.value.toFixed(1) : String(v.value);
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
    if (typeof v === 'object') {
      return `{${Object.entries(v)
        .map(([k, x]) => `'${k}': ${pyRepr(x)}`)
        .join(', ')}}`;
    }
    return String(v);
  } catch {
    return '<unrepresentable>';
  }
}
