// BFCL's JavaScript argument conversion: arguments arrive as strings in JavaScript syntax and the official
// checker turns them into Python values with simple patterns (one pair of quotes stripped from strings,
// arrays and objects parsed shallowly), keeping the raw string when nothing matches. Same rules here.

import { pyRegExp } from './pyre.js';
import { PyCrash, pyDropLast, pyFloatParse, pyInner, pyIntParse, pyStrip, pyStripChars } from './python.js';

/** JavaScript type names the official checker knows, with the Python type each converts to. */
export const JS_TYPES: Readonly<Record<string, 'int' | 'float' | 'bool' | 'str' | 'list' | 'dict'>> = {
  String: 'str',
  integer: 'int',
  float: 'float',
  Bigint: 'int',
  Boolean: 'bool',
  dict: 'dict',
  array: 'list',
  any: 'str',
};

const INT_RE = pyRegExp('^-?\\d+$');
const FLOAT_RE = pyRegExp('^-?\\d+(\\.\\d+)?$');
const BIGINT_RE = pyRegExp('^-?\\d+n$');
const ARRAY_2D = pyRegExp(
  '\\[\\s*\\[.*?\\]\\s*(,\\s*\\[.*?\\]\\s*)*\\]|new\\s+Array\\(\\s*\\[.*?\\]\\s*(,\\s*\\[.*?\\]\\s*)*\\)',
  { anchored: true },
);
const ARRAY_1D = pyRegExp('\\[(.*?)\\]|new\\s+Array\\((.*?)\\)', { anchored: true });
const INNER_ARRAY = pyRegExp('\\[(.*?)\\]', { global: true });
const DICT = pyRegExp('\\{(.*?)\\}', { anchored: true });
const PAIR = pyRegExp('([^:]+):\\s*(.*?)(?:,\\s*(?=[^,]+:)|$)', { global: true });

function mustInt(text: string): number | bigint {
  const v = pyIntParse(text);
  if (v === undefined) throw new PyCrash('ValueError', `invalid literal for int() with base 10: '${text}'`);
  return v;
}

/** The official `js_type_converter(value, expected_type, nested_type)`. */
export function jsTypeConverter(value: string, expectedType: string, nestedType?: string): unknown {
  if (!Object.hasOwn(JS_TYPES, expectedType))
    throw new PyCrash('ValueError', `Unsupported type: ${expectedType}`);
  switch (expectedType) {
    case 'String':
      if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
        return pyInner(value);
      }
      return value;
    case 'integer':
      return INT_RE.test(value) ? mustInt(value) : value;
    case 'float': {
      if (!FLOAT_RE.test(value)) return value;
      return pyFloatParse(value);
    }
    case 'Bigint':
      return BIGINT_RE.test(value) ? mustInt(pyDropLast(value)) : value;
    case 'Boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'dict':
      return parseJsCollection(value, 'dict', nestedType);
    case 'array':
      return parseJsCollection(value, 'array', nestedType);
    default:
      return value;
  }
}

/** The official `parse_js_collection(code, type_str, nested_type)`. */
export function parseJsCollection(code: string, typeStr: 'array' | 'dict', nestedType?: string): unknown {
  code = pyStrip(code);
  if (typeStr === 'array') {
    try {
      const m2 = ARRAY_2D.exec(code);
      if (m2 !== null) {
        const out: unknown[][] = [];
        let idx = 0;
        for (const m of m2[0].matchAll(INNER_ARRAY)) {
          let inner = pyStrip(m[1]!);
          if (idx === 0 && inner.startsWith('[')) inner = inner.slice(1);
          out.push(inner.split(',').map((e) => parseJsValue(pyStrip(e))));
          idx++;
        }
        return out;
      }
      const m1 = ARRAY_1D.exec(code);
      if (m1 === null) return code;
      const body = m1[1] ?? m1[2];
      let elements: string[] = [];
      if (body !== undefined) {
        const trimmed = pyStrip(body);
        if (trimmed !== '') elements = trimmed.split(',');
      }
      if (nestedType) {
        return elements.map((e) => {
          const x = pyStrip(e);
          return x.startsWith("'") || x.startsWith('"')
            ? jsTypeConverter(x, nestedType, 'String')
            : jsTypeConverter(x, nestedType);
        });
      }
      return elements.map((e) => parseJsValue(pyStrip(e)));
    } catch {
      return code;
    }
  }
  if (code === '{}') return {};
  const m = DICT.exec(code);
  if (m === null) return code;
  try {
    const out: Record<string, unknown> = {};
    for (const p of m[1]!.matchAll(PAIR)) {
      const key = pyStripChars(pyStrip(p[1]!), '\'"');
      const raw = pyStrip(p[2]!);
      let value: unknown;
      if (raw.startsWith('[') && raw.endsWith(']')) value = parseJsCollection(raw, 'array');
      else if (raw.startsWith('{') && raw.endsWith('}')) value = parseJsCollection(raw, 'dict');
      else value = parseJsValue(pyStripChars(raw, '\'"'));
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      } else out[key] = value;
    }
    return out;
  } catch {
    return code;
  }
}

/** The official `parse_js_value`: a JavaScript literal without a declared type. */
export function parseJsValue(text: string): unknown {
  text = pyStrip(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  if ((text.startsWith('"') && text.endsWith('"')) || (text.startsWith("'") && text.endsWith("'"))) {
    return pyInner(text);
  }
  const asInt = pyIntParse(text);
  if (asInt !== undefined) return asInt;
  const asFloat = pyFloatParse(text);
  if (asFloat !== undefined) return asFloat;
  return text;
}
