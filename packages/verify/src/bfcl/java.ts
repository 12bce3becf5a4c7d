// BFCL's Java argument conversion: the model passes every Java argument as a string holding a Java literal
// or expression; the official checker turns it into a Python value with a handful of regular expressions,
// and falls back to the raw string when a pattern does not match. Same rules here (our implementation).

import { pyRegExp } from './pyre.js';
import { PyCrash, pyDropLast, pyFloatParse, pyInner, pyIntParse, pyStrip } from './python.js';

/** Java type names the official checker knows, with the Python type each converts to. */
export const JAVA_TYPES: Readonly<
  Record<string, 'int' | 'float' | 'bool' | 'str' | 'list' | 'dict' | 'set'>
> = {
  byte: 'int',
  short: 'int',
  integer: 'int',
  float: 'float',
  double: 'float',
  long: 'int',
  boolean: 'bool',
  char: 'str',
  Array: 'list',
  ArrayList: 'list',
  Set: 'set',
  HashMap: 'dict',
  Hashtable: 'dict',
  Queue: 'list',
  Stack: 'list',
  String: 'str',
  any: 'str',
};

const INT_RE = pyRegExp('^-?\\d+$');
const FLOAT_RE = pyRegExp('^-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?[fF]$');
const DOUBLE_RE = pyRegExp('^-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?$');
const LONG_RE = pyRegExp('^-?\\d+[lL]$');
const F_SUFFIX = pyRegExp('[fF]$');
const L_SUFFIX = pyRegExp('[lL]$');
const ARRAYLIST_ASLIST = pyRegExp('new\\s+ArrayList<\\w*>\\(Arrays\\.asList\\((.+?)\\)\\)');
const ARRAYLIST_ADD = pyRegExp('new\\s+ArrayList<\\w*>\\(\\)\\s*\\{\\{\\s*(.+?)\\s*\\}\\}', { dotAll: true });
const ADD_CALL = pyRegExp('add\\((.+?)\\)', { global: true });
const ARRAYLIST_EMPTY = pyRegExp('new\\s+ArrayList<\\w*>\\(\\)');
const ARRAY = pyRegExp('new\\s+\\w+\\[\\]\\s*\\{(.*?)\\}');
const HASHMAP = pyRegExp('new\\s+HashMap<.*?>\\s*\\(\\)\\s*\\{\\s*\\{?\\s*(.*?)\\s*\\}?\\s*\\}', {
  dotAll: true,
});
const PUT_CALL = pyRegExp('put\\(\\"(.*?)\\",\\s*(.*?)\\)', { global: true });
const HASHMAP_EMPTY = pyRegExp('new\\s+HashMap<.*?>\\s*\\(\\)');

function mustInt(text: string): number | bigint {
  const v = pyIntParse(text);
  if (v === undefined) throw new PyCrash('ValueError', `invalid literal for int() with base 10: '${text}'`);
  return v;
}

function mustFloat(text: string): unknown {
  const v = pyFloatParse(text);
  if (v === undefined) throw new PyCrash('ValueError', `could not convert string to float: '${text}'`);
  return v;
}

/** The official `java_type_converter(value, expected_type, nested_type)`. */
export function javaTypeConverter(value: string, expectedType: string, nestedType?: string): unknown {
  if (!Object.hasOwn(JAVA_TYPES, expectedType))
    throw new PyCrash('ValueError', `Unsupported type: ${expectedType}`);
  switch (expectedType) {
    case 'byte':
    case 'short':
    case 'integer':
      return INT_RE.test(value) ? mustInt(value) : value;
    case 'float':
      return FLOAT_RE.test(value) ? mustFloat(value.replace(F_SUFFIX, '')) : value;
    case 'double':
      return DOUBLE_RE.test(value) ? mustFloat(value) : value;
    case 'long':
      return LONG_RE.test(value) ? mustInt(value.replace(L_SUFFIX, '')) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'char':
      // The official pattern `^\'.$\'` can never match, so a char always stays the raw string.
      return value;
    case 'Array':
      return parseArray(value, nestedType);
    case 'ArrayList':
      return parseArrayList(value, nestedType);
    case 'HashMap':
      return parseHashMap(value);
    case 'String':
    case 'any':
      return value;
    default:
      throw new PyCrash('NotImplementedError', `${expectedType} conversion is not implemented`);
  }
}

function convertElement(text: string, nestedType: string | undefined): unknown {
  if (nestedType === 'char' || nestedType === 'String') return pyInner(text);
  return nestedType ? javaTypeConverter(text, nestedType) : parseJavaValue(text);
}

function parseArrayList(input: string, nestedType: string | undefined): unknown {
  const asList = ARRAYLIST_ASLIST.exec(input);
  if (asList !== null) return asList[1]!.split(',').map((e) => convertElement(pyStrip(e), nestedType));
  const add = ARRAYLIST_ADD.exec(input);
  if (add !== null) {
    const out: unknown[] = [];
    for (const m of add[1]!.matchAll(ADD_CALL)) out.push(convertElement(pyStrip(m[1]!), nestedType));
    return out;
  }
  if (ARRAYLIST_EMPTY.test(input)) return [];
  return input;
}

function parseArray(input: string, nestedType: string | undefined): unknown {
  const m = ARRAY.exec(input);
  if (m === null) return input;
  const out: unknown[] = [];
  for (const part of m[1]!.split(',')) {
    const x = pyStrip(part);
    if (x === '') continue;
    out.push(nestedType ? javaTypeConverter(x, nestedType) : parseJavaValue(x));
  }
  return out;
}

function parseHashMap(input: string): unknown {
  const m = HASHMAP.exec(input);
  if (m !== null) {
    const out: Record<string, unknown> = {};
    const puts = m[1]!;
    if (pyStrip(puts) !== '') {
      for (const p of puts.matchAll(PUT_CALL)) {
        const key = p[1]!;
        const value = parseJavaValue(pyStrip(p[2]!));
        if (key === '__proto__') {
          Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        } else out[key] = value;
      }
    }
    return out;
  }
  if (HASHMAP_EMPTY.test(input)) return {};
  return input;
}

/** The official `parse_java_value`: a Java literal without a declared type. */
export function parseJavaValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text.startsWith('"') && text.endsWith('"')) return pyInner(text);
  if (LONG_RE.test(text)) return mustInt(pyDropLast(text));
  if (FLOAT_RE.test(text)) return mustFloat(text.replace(F_SUFFIX, ''));
  const asInt = pyIntParse(text);
  if (asInt !== undefined) return asInt;
  const asFloat = pyFloatParse(text);
  if (asFloat !== undefined) return asFloat;
  return text;
}
