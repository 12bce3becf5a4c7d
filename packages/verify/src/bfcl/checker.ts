// The BFCL AST checker, reimplemented from the rules of the official one (gorilla
// `bfcl_eval/eval_checker/ast_eval/ast_checker.py`, commit 6ea57973) and of its evaluation runner (output
// format check, irrelevance/relevance). Decisions, their order and the error_type strings follow the
// official checker, so that verdicts agree line by line; see README "BFCL" for the few deviations.

import { JAVA_TYPES, javaTypeConverter } from './java.js';
import { JS_TYPES, jsTypeConverter } from './javascript.js';
import {
  intToFloat,
  JsonFloat,
  PyCrash,
  type PyTypeName,
  pyContains,
  pyEq,
  pyGetItem,
  pyIndexSeq,
  pyItems,
  pyIter,
  pyLen,
  pyRepr,
  pyType,
  standardizedEqual,
  standardizeString,
} from './python.js';

/** Languages of BFCL's AST categories. */
export type BfclLanguage = 'python' | 'java' | 'javascript';

/** A parameter of a BFCL function doc (BFCL's own type names: dict, float, tuple, any, Java/JS types). */
export interface BfclParameter {
  type: string;
  description?: string;
  items?: { type: string; [key: string]: unknown };
  properties?: Record<string, BfclParameter>;
  [key: string]: unknown;
}

/** A BFCL function doc as offered to the model. */
export interface BfclFunction {
  name: string;
  description?: string;
  parameters: { type: string; properties: Record<string, BfclParameter>; required?: string[] };
}

/** BFCL ground truth: one `{function_name: {param: [acceptable values]}}` per expected call. */
export type BfclPossibleAnswer = Array<Record<string, Record<string, unknown[]>>>;

/** One decoded model call: `{function_name: {param: value}}`. */
export type BfclModelCall = Record<string, Record<string, unknown>>;

/** What `checkBfcl` judges. */
export interface BfclEntry {
  /** BFCL category (`simple_python`, `multiple`, `parallel`, `live_simple`, `irrelevance`, ...): picks the checker by the same substring rules as upstream. */
  category: string;
  /** Function docs offered to the model. */
  function: BfclFunction[];
  /** Ground truth; not needed for irrelevance/relevance categories. */
  possible_answer?: BfclPossibleAnswer;
  /** Decoded model output: a list of `{name: {args}}`. Pass anything else (e.g. null) for "did not decode". */
  model_output: unknown;
  /** Overrides the language the category implies (java / javascript by name, else python). */
  language?: BfclLanguage;
}

/** Options of `checkBfcl`. */
export interface BfclCheckOptions {
  /**
   * Judge as upstream does for models whose config has `underscore_to_dot` (OpenAI-style tool names): the
   * expected function name has `.` replaced by `_` before it is looked up in the model output. Default false.
   */
  underscoreToDot?: boolean;
}

/** Verdict of `checkBfcl`: `error_type` is the official checker's string (null when valid). */
export interface BfclVerdict {
  valid: boolean;
  error_type: string | null;
  errors: string[];
}

interface Fail {
  type: string;
  /**
   * Message template, filled only for the final verdict (greedy parallel matching discards most failures):
   * %a..%d insert the arguments as text, %A..%D as Python reprs.
   */
  template: string;
  a: unknown;
  b: unknown;
  c: unknown;
  d: unknown;
}

function fail(type: string, template: string, a?: unknown, b?: unknown, c?: unknown, d?: unknown): Fail {
  return { type, template, a, b, c, d };
}

function failMessage(f: Fail): string {
  const t = f.template;
  let out = '';
  let from = 0;
  for (let i = t.indexOf('%'); i !== -1 && i + 1 < t.length; i = t.indexOf('%', i + 1)) {
    const k = t.charCodeAt(i + 1);
    const lower = k | 0x20; // 'A'..'D' → 'a'..'d'
    if (lower < 97 || lower > 100) continue;
    const arg = lower === 97 ? f.a : lower === 98 ? f.b : lower === 99 ? f.c : f.d;
    out += t.slice(from, i) + (k === lower ? String(arg) : pyRepr(arg));
    from = i + 2;
    i++;
  }
  return from === 0 ? t : out + t.slice(from);
}

type PyClass = 'str' | 'int' | 'float' | 'bool' | 'list' | 'dict' | 'set';

const PYTHON_TYPES: Readonly<Record<string, PyClass>> = {
  string: 'str',
  integer: 'int',
  float: 'float',
  boolean: 'bool',
  array: 'list',
  tuple: 'list',
  dict: 'dict',
  any: 'str',
};

const hasOwn = Object.prototype.hasOwnProperty;

// The type tables as Maps: a type name is a parsed (not interned) string, which a Map finds by its cached
// hash, where an own-property test must first look the string up in the engine's string table.
const PYTHON_TYPE_MAP: ReadonlyMap<string, PyClass> = new Map(Object.entries(PYTHON_TYPES));
const JAVA_TYPE_MAP: ReadonlyMap<string, PyClass> = new Map(Object.entries(JAVA_TYPES));
const JS_TYPE_MAP: ReadonlyMap<string, PyClass> = new Map(Object.entries(JS_TYPES));

function lookupType(table: ReadonlyMap<string, PyClass>, name: unknown): PyClass {
  if (typeof name === 'string') {
    const t = table.get(name);
    if (t !== undefined) return t;
  }
  const t = pyType(name);
  if (t === 'list' || t === 'dict') throw new PyCrash('TypeError', `unhashable type: '${t}'`);
  throw new PyCrash('KeyError', pyRepr(name));
}

/** `get_possible_answer_type`: the type of the first acceptable value that is not "". */
function possibleAnswerType(possible: unknown): PyTypeName | null {
  const answers = Array.isArray(possible) ? possible : pyIter(possible);
  for (let i = 0; i < answers.length; i++) {
    const answer = answers[i];
    if (answer !== '') return pyType(answer);
  }
  return null;
}

/** Python `"" in x` (only the string "" equals ""). */
function containsEmpty(x: unknown): boolean {
  if (!Array.isArray(x)) return pyContains(x, '');
  for (let i = 0; i < x.length; i++) if (x[i] === '') return true;
  return false;
}

const TYPE_OK = 0;
const TYPE_OK_VARIABLE = 1;

/** `type_checker`: TYPE_OK, TYPE_OK_VARIABLE (value compared exactly later), or the failure. */
function typeChecker(
  param: string,
  value: unknown,
  possible: unknown,
  typeDescription: unknown,
  expected: PyClass,
  nested: PyClass | null,
): number | Fail {
  const answerType = possibleAnswerType(possible);
  const isVariable = answerType !== null && answerType !== expected;
  const valueType = pyType(value);
  let nestedFailure: Fail | null = null;
  if (valueType === expected) {
    if (nested === null) return isVariable ? TYPE_OK_VARIABLE : TYPE_OK;
    const items = value as unknown[];
    for (const item of pyIter(possible)) {
      let ok = true;
      if (pyType(item) === 'list') {
        for (const element of items) {
          if (typeof typeChecker(param, element, item, nested, nested, null) !== 'number') {
            ok = false;
            break;
          }
        }
      }
      if (ok) return isVariable ? TYPE_OK_VARIABLE : TYPE_OK;
    }
    nestedFailure = fail(
      'type_error:nested',
      "Nested type checking failed for parameter '%a'. Expected outer type %b with inner type %c. Parameter value: %D.",
      param,
      typeDescription,
      nested,
      value,
    );
  }
  // A value of the answer's own type (e.g. a variable name where the schema wants a dict) is a "variable".
  if (answerType !== null && valueType === answerType) {
    return nestedFailure ?? TYPE_OK_VARIABLE;
  }
  return fail(
    'type_error:simple',
    "Incorrect type for parameter '%a'. Expected type %b, got %c. Parameter value: %D.",
    param,
    typeDescription,
    valueType,
    value,
  );
}

function stringChecker(param: string, value: string, possible: unknown): Fail | null {
  for (const answer of pyIndexSeq(possible)) {
    if (typeof answer === 'string' && standardizedEqual(answer, value)) return null;
  }
  return fail(
    'value_error:string',
    "Invalid value for parameter '%a': %B. Expected one of %C. Case insensitive.",
    param,
    value,
    possible,
  );
}

function missingOptional(param: unknown): Fail {
  return fail(
    'simple_function_checker:missing_optional',
    'Optional parameter %A not provided and not marked as optional.',
    param,
  );
}

function normalizeList(list: readonly unknown[]): unknown[] {
  const out = new Array<unknown>(list.length);
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    out[i] = typeof x === 'string' ? standardizeString(x) : x;
  }
  return out;
}

/** Python `==` of two lists after upstream's element-wise string normalisation of both. */
function normalizedListEqual(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (typeof x === 'string' || typeof y === 'string') {
      if (typeof x !== 'string' || typeof y !== 'string' || !standardizedEqual(x, y)) return false;
    } else if (!pyEq(x, y)) return false;
  }
  return true;
}

function listChecker(param: string, value: unknown[], possible: unknown): Fail | null {
  // Every alternative is sequenced first (a malformed one fails even after a match, as upstream);
  // an optional "" becomes [] here, exactly as upstream's element-wise normalisation does.
  const alternatives = pyIndexSeq(possible).map(pyIndexSeq);
  for (const alternative of alternatives) if (normalizedListEqual(alternative, value)) return null;
  return fail(
    'value_error:list/tuple',
    "Invalid value for parameter '%a': %B. Expected one of %C.",
    param,
    value,
    possible,
  );
}

function dictChecker(_param: string, value: unknown, possibleAnswers: unknown): Fail | null {
  let result = fail('dict_checker:unclear', '');
  for (const answer of pyIndexSeq(possibleAnswers)) {
    if (answer === '') continue;
    result = fail('dict_checker:unclear', '');
    let ok = true;
    for (const [key, v] of pyItems(value)) {
      if (!pyContains(answer, key)) {
        result = fail('value_error:dict_key', "Unexpected dict key parameter: '%a'.", key);
        ok = false;
        break;
      }
      const accepted = pyIndexSeq(pyGetItem(answer, key));
      let found = false;
      for (const a of accepted) {
        if (typeof a === 'string' || typeof v === 'string') {
          found = typeof a === 'string' && typeof v === 'string' && standardizedEqual(a, v);
        } else found = pyEq(a, v);
        if (found) break;
      }
      if (!found) {
        result = fail(
          'value_error:dict_value',
          "Invalid value for parameter '%a': %B. Expected one of %C.",
          key,
          v,
          normalizeList(accepted),
        );
        ok = false;
        break;
      }
    }
    for (const [key, accepted] of pyItems(answer)) {
      if (!pyContains(value, key) && !pyContains(accepted, '')) {
        result = fail('value_error:dict_key', "Missing dict key parameter: '%a'.", key);
        ok = false;
        break;
      }
    }
    if (ok) return null;
  }
  return result;
}

function listDictChecker(param: string, value: unknown[], possibleAnswers: unknown): Fail | null {
  let result: Fail | null = fail('list_dict_checker:unclear', '');
  for (const answer of pyIndexSeq(possibleAnswers)) {
    if (value.length !== pyLen(answer)) {
      result = fail('value_error:list_dict_count', 'Wrong number of dictionaries in the list.');
      continue;
    }
    const expected = pyIndexSeq(answer);
    let ok = true;
    for (let i = 0; i < value.length; i++) {
      result = dictChecker(param, value[i], [expected[i]]);
      if (result !== null) {
        ok = false;
        break;
      }
    }
    if (ok) return null;
  }
  return result;
}

/** What `simple_function_checker` reads from the doc and the expected call before looking at the output. */
interface PreparedCall {
  answers: unknown;
  name: unknown;
  details: unknown;
  required: unknown;
}

/**
 * The output-independent first half of `simple_function_checker` (same lookups, same crash points), done once
 * per expected call: parallel matching then tries it against each unmatched output call.
 */
function prepareExpected(
  description: unknown,
  expectedCall: unknown,
  underscoreToDot: boolean,
): PreparedCall {
  const answers = pyGetItem(expectedCall, firstKey(expectedCall));
  let name = pyGetItem(description, 'name');
  const parameters = pyGetItem(description, 'parameters');
  const details = pyGetItem(parameters, 'properties');
  const required = pyGetItem(parameters, 'required');
  if (underscoreToDot && pyContains(name, '.')) {
    if (typeof name !== 'string') throw new PyCrash('TypeError', 'expected string or bytes-like object');
    name = name.replaceAll('.', '_');
  }
  return { answers, name, details, required };
}

/** `simple_function_checker`: one model call against one expected call. */
function simpleFunctionChecker(
  description: unknown,
  call: unknown,
  expectedCall: unknown,
  language: BfclLanguage,
  underscoreToDot: boolean,
): Fail | null {
  return checkPreparedCall(prepareExpected(description, expectedCall, underscoreToDot), call, language);
}

function checkPreparedCall(prepared: PreparedCall, call: unknown, language: BfclLanguage): Fail | null {
  const { answers, name, details, required } = prepared;
  if (!pyContains(call, name)) {
    return fail(
      'simple_function_checker:wrong_func_name',
      'Function name %A not found in model output.',
      name,
    );
  }
  const args = (call as Record<string, unknown>)[name as string] as Record<string, unknown>;

  const requiredList = Array.isArray(required) ? required : pyIter(required);
  for (let i = 0; i < requiredList.length; i++) {
    const param = requiredList[i];
    if (typeof param === 'string' ? !hasOwn.call(args, param) : !pyContains(args, param)) {
      return fail('simple_function_checker:missing_required', 'Missing required parameter: %A.', param);
    }
  }

  const detailsIsDict = pyType(details) === 'dict';
  const answersIsDict = pyType(answers) === 'dict';
  for (const param in args) {
    if (!hasOwn.call(args, param)) continue;
    let value = args[param];
    if (
      !(detailsIsDict ? hasOwn.call(details, param) : pyContains(details, param)) ||
      !(answersIsDict ? hasOwn.call(answers, param) : pyContains(answers, param))
    ) {
      return fail('simple_function_checker:unexpected_param', "Unexpected parameter: '%a'.", param);
    }
    const paramDetails = detailsIsDict
      ? (details as Record<string, unknown>)[param]
      : pyGetItem(details, param);
    const typeDescription = pyGetItem(paramDetails, 'type');
    let expected: PyClass;
    let nested: PyClass | null = null;
    if (language === 'python') {
      expected = lookupType(PYTHON_TYPE_MAP, typeDescription);
      if (typeDescription === 'array' || typeDescription === 'tuple') {
        nested = lookupType(PYTHON_TYPE_MAP, pyGetItem(pyGetItem(paramDetails, 'items'), 'type'));
      }
    } else {
      const table = language === 'java' ? JAVA_TYPE_MAP : JS_TYPE_MAP;
      expected = lookupType(table, typeDescription);
      if (typeof value !== 'string') {
        return fail(
          language === 'java' ? 'type_error:java' : 'type_error:js',
          "Incorrect type for parameter '%a'. Expected type String, got %b. Parameter value: %C.",
          param,
          pyType(value),
          value,
        );
      }
      const convert = language === 'java' ? javaTypeConverter : jsTypeConverter;
      if (typeDescription === 'Array' || typeDescription === 'ArrayList' || typeDescription === 'array') {
        const nestedType = pyGetItem(pyGetItem(paramDetails, 'items'), 'type');
        nested = lookupType(table, nestedType);
        value = convert(value, typeDescription, nestedType as string);
      } else {
        value = convert(value, typeDescription as string);
      }
    }

    // Python accepts an int where a float is expected (top level only).
    if (language === 'python' && typeDescription === 'float' && pyType(value) === 'int') {
      value = intToFloat(value as number | bigint);
    }

    const possible = answersIsDict ? (answers as Record<string, unknown>)[param] : pyGetItem(answers, param);
    const typeCheck = typeChecker(param, value, possible, typeDescription, expected, nested);
    if (typeof typeCheck !== 'number') return typeCheck;

    if (typeCheck === TYPE_OK) {
      if (expected === 'dict') {
        const r = dictChecker(param, value, possible);
        if (r !== null) return r;
        continue;
      }
      if (expected === 'list' && nested === 'dict') {
        const r = listDictChecker(param, value as unknown[], possible);
        if (r !== null) return r;
        continue;
      }
      if (expected === 'str') {
        const r = stringChecker(param, value as string, possible);
        if (r !== null) return r;
        continue;
      }
      if (expected === 'list') {
        const r = listChecker(param, value as unknown[], possible);
        if (r !== null) return r;
        continue;
      }
    }

    if (!pyContains(possible, value)) {
      return fail(
        'value_error:others',
        "Invalid value for parameter '%a': %B. Expected one of %C.",
        param,
        value,
        possible,
      );
    }
  }

  if (answersIsDict) {
    for (const param in answers as object) {
      if (!hasOwn.call(answers, param)) continue;
      if (!hasOwn.call(args, param) && !containsEmpty((answers as Record<string, unknown>)[param])) {
        return missingOptional(param);
      }
    }
  } else {
    for (const param of pyIter(answers)) {
      if (!pyContains(args, param) && !containsEmpty(pyGetItem(answers, param)))
        return missingOptional(param);
    }
  }
  return null;
}

function findDescription(descriptions: unknown, name: unknown): unknown {
  if (pyType(descriptions) !== 'list') return descriptions;
  for (const d of descriptions as unknown[]) if (pyEq(pyGetItem(d, 'name'), name)) return d;
  return null;
}

/** `list(d.keys())[0]` (also what `list(d.values())[0]` reads). */
function firstKey(expectedCall: unknown): string {
  if (pyType(expectedCall) !== 'dict') {
    throw new PyCrash('AttributeError', `'${pyType(expectedCall)}' object has no attribute 'keys'`);
  }
  for (const k in expectedCall as object) if (hasOwn.call(expectedCall, k)) return k;
  throw new PyCrash('IndexError', 'list index out of range');
}

function pyIndex(list: readonly unknown[], i: number): unknown {
  if (i >= list.length) throw new PyCrash('IndexError', 'list index out of range');
  return list[i];
}

type CategoryKind = 'unsupported' | 'irrelevance' | 'relevance' | 'parallel' | 'multiple' | 'simple';

interface CategoryInfo {
  kind: CategoryKind;
  language: BfclLanguage;
}

const categoryCache = new Map<string, CategoryInfo>();
let lastCategory = '';
let lastInfo: CategoryInfo = { kind: 'simple', language: 'python' };

/** How upstream routes a category: by substrings of its name. */
function classifyCategory(category: string): CategoryInfo {
  if (category === lastCategory) return lastInfo;
  const info = classifyUncached(category);
  lastCategory = category;
  lastInfo = info;
  return info;
}

function classifyUncached(category: string): CategoryInfo {
  const cached = categoryCache.get(category);
  if (cached !== undefined) return cached;
  let kind: CategoryKind;
  if (
    category.includes('multi_turn') ||
    category.includes('agentic') ||
    category.includes('memory') ||
    category.includes('web_search') ||
    category.startsWith('exec') ||
    category === 'rest' ||
    category.includes('sql') ||
    category.includes('chatable')
  ) {
    kind = 'unsupported';
  } else if (category.includes('irrelevance')) kind = 'irrelevance';
  else if (category.includes('relevance')) kind = 'relevance';
  else if (category.includes('parallel')) kind = 'parallel';
  else if (category.includes('multiple')) kind = 'multiple';
  else kind = 'simple';
  const info: CategoryInfo = { kind, language: bfclLanguageOf(category) };
  if (categoryCache.size < 1024) categoryCache.set(category, info);
  return info;
}

function astChecker(
  functions: unknown,
  output: unknown[],
  answers: unknown,
  language: BfclLanguage,
  kind: CategoryKind,
  underscoreToDot: boolean,
): Fail | null {
  if (kind === 'parallel') {
    if (output.length !== pyLen(answers)) {
      return fail('parallel_function_checker_no_order:wrong_count', 'Wrong number of functions.');
    }
    const matched = new Array<boolean>(output.length).fill(false);
    const expectedCalls = pyIndexSeq(answers);
    for (let i = 0; i < expectedCalls.length; i++) {
      const expectedCall = expectedCalls[i];
      const description = findDescription(functions, firstKey(expectedCall));
      const prepared = prepareExpected(description, expectedCall, underscoreToDot);
      const name = prepared.name;
      let found = false;
      for (let j = 0; j < output.length; j++) {
        if (matched[j]) continue;
        // A call of another function fails the name check (output calls are dicts here: isBfclCallList).
        if (typeof name === 'string' && !hasOwn.call(output[j], name)) continue;
        if (checkPreparedCall(prepared, output[j], language) === null) {
          matched[j] = true;
          found = true;
          break;
        }
      }
      if (!found) {
        return fail(
          'parallel_function_checker_no_order:cannot_find_match',
          'Could not find a matching function among the unmatched model outputs for index %a of possible answers.',
          i,
        );
      }
    }
    return null;
  }
  if (kind === 'multiple') {
    if (output.length !== pyLen(answers)) {
      return fail('multiple_function_checker:wrong_count', 'Wrong number of functions.');
    }
    const expectedCall = pyIndex(pyIndexSeq(answers), 0);
    const description = findDescription(functions, firstKey(expectedCall));
    return simpleFunctionChecker(description, output[0], expectedCall, language, underscoreToDot);
  }
  if (output.length !== 1) return fail('simple_function_checker:wrong_count', 'Wrong number of functions.');
  return simpleFunctionChecker(
    pyIndex(pyIndexSeq(functions), 0),
    output[0],
    pyIndex(pyIndexSeq(answers), 0),
    language,
    underscoreToDot,
  );
}

/** The runner's `is_function_calling_format_output`: a list of single-key dicts whose value is a dict. */
export function isBfclCallList(output: unknown): output is BfclModelCall[] {
  if (!Array.isArray(output)) return false;
  for (let i = 0; i < output.length; i++) {
    const item: unknown = output[i];
    if (typeof item !== 'object' || item === null || Array.isArray(item) || item instanceof JsonFloat)
      return false;
    // Exactly one own enumerable key (as `Object.keys(item).length === 1`, without allocating the array).
    let count = 0;
    let only: unknown;
    for (const k in item) {
      if (!hasOwn.call(item, k)) continue;
      if (++count > 1) return false;
      only = (item as Record<string, unknown>)[k];
    }
    if (count !== 1) return false;
    if (typeof only !== 'object' || only === null || Array.isArray(only) || only instanceof JsonFloat)
      return false;
  }
  return true;
}

function isEmptyOutput(output: unknown): boolean {
  if (!isBfclCallList(output) || output.length === 0) return true;
  return output.length === 1 && Object.keys(output[0]!).length === 0;
}

/** The language a category implies, by upstream's substring rules. */
export function bfclLanguageOf(category: string): BfclLanguage {
  if (category.includes('javascript')) return 'javascript';
  if (category.includes('java')) return 'java';
  return 'python';
}

function verdict(f: Fail, messages: boolean): BfclVerdict {
  if (!messages) return { valid: false, error_type: f.type, errors: [] };
  const message = failMessage(f);
  return { valid: false, error_type: f.type, errors: message === '' ? [] : [message] };
}

/**
 * Judge one decoded model output against BFCL's possible answers, as the official AST checker does
 * (same verdict, same `error_type`). Never throws: where the official checker itself would raise, the
 * verdict is invalid with error_type `checker_crash:<PythonException>`.
 *
 * Categories are recognised by upstream's substring rules: `irrelevance` (valid iff no call),
 * `relevance` (valid iff some call), `parallel` (order-free, greedy), `multiple`, anything else simple;
 * `java` / `javascript` in the name pick the language. Categories upstream does not AST-check (multi_turn,
 * agentic, memory, web_search, exec*, rest, sql, chatable) give error_type `unsupported_category`.
 *
 * @example
 * checkBfcl({ category: 'simple_python', function: [fn], possible_answer: [{ f: { x: [1, ''] } }],
 *             model_output: [{ f: { x: 1 } }] }); // { valid: true, error_type: null, errors: [] }
 */
export function checkBfcl(entry: BfclEntry, options: BfclCheckOptions = {}): BfclVerdict {
  return judge(entry, options, true);
}

/**
 * `checkBfcl` without building the human-readable messages of failed checks (`errors` is `[]` where
 * `checkBfcl` would explain a failed check; `valid` and `error_type` are the same). For callers that only
 * report the verdict and its type, such as the `openfugu-verify bfcl` CLI. Internal (not re-exported).
 *
 * @example
 * checkBfclVerdictOnly(entry).error_type; // same as checkBfcl(entry).error_type
 */
export function checkBfclVerdictOnly(entry: BfclEntry, options: BfclCheckOptions = {}): BfclVerdict {
  return judge(entry, options, false);
}

function judge(entry: BfclEntry, options: BfclCheckOptions, messages: boolean): BfclVerdict {
  try {
    const category = typeof entry?.category === 'string' ? entry.category : String(entry?.category);
    const output = entry?.model_output;
    const info = classifyCategory(category);
    if (info.kind === 'unsupported') {
      return {
        valid: false,
        error_type: 'unsupported_category',
        errors: [`Category '${category}' is not checked by the AST checker.`],
      };
    }
    if (info.kind === 'irrelevance') {
      return isEmptyOutput(output)
        ? { valid: true, error_type: null, errors: [] }
        : {
            valid: false,
            error_type: 'irrelevance_error:decoder_success',
            errors: ['Valid syntax. Successfully decode AST when it should not.'],
          };
    }
    if (info.kind === 'relevance') {
      return isEmptyOutput(output)
        ? {
            valid: false,
            error_type: 'relevance_error:decoder_failed',
            errors: ['Invalid syntax. Failed to decode AST when it should have.'],
          }
        : { valid: true, error_type: null, errors: [] };
    }
    if (!isBfclCallList(output)) {
      return {
        valid: false,
        error_type: 'ast_decoder:decoder_wrong_output_format',
        errors: ['Did not output in the specified format.'],
      };
    }
    const language =
      entry.language === 'python' || entry.language === 'java' || entry.language === 'javascript'
        ? entry.language
        : info.language;
    const f = astChecker(
      entry.function,
      output,
      entry.possible_answer,
      language,
      info.kind,
      options.underscoreToDot === true,
    );
    return f === null ? { valid: true, error_type: null, errors: [] } : verdict(f, messages);
  } catch (error) {
    if (error instanceof PyCrash) {
      return {
        valid: false,
        error_type: `checker_crash:${error.exception}`,
        errors: [`The official checker raises ${error.exception} here: ${error.message}`],
      };
    }
    return {
      valid: false,
      error_type: 'checker_crash:internal',
      errors: [error instanceof Error ? `${error.name}: ${error.message}` : String(error)],
    };
  }
}

/**
 * BFCL 0/1 reward for RL: 1 when `checkBfcl` accepts the output, else 0. Total (never throws).
 *
 * @example
 * bfclReward([{ f: { x: 1 } }], entry); // 1 or 0
 */
export function bfclReward(modelOutput: unknown, entry: Omit<BfclEntry, 'model_output'>): 0 | 1 {
  return judge({ ...entry, model_output: modelOutput }, {}, false).valid ? 1 : 0;
}
