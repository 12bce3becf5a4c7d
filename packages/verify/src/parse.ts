/**
 * Model output → tool calls. One entry point, {@link parseToolCalls}, detects the format; the
 * per-format parsers are exported too. All are total (never throw), linear-time, and report every
 * repair they made to the text (`repaired`) and every problem (`issues`).
 */
import type { ToolCall, ValidationIssue } from '@openfugu/schema';
import { parseJsonTolerant, stripCodeFence } from './json.js';
import { NumberLiteral, type RepairKind, scanLiteral } from './literal.js';
import { parsePythonicCalls } from './pythonic.js';
import { indexOfTag } from './tags.js';

/** The output formats the parser understands. */
export type ToolCallFormat = 'think_answer' | 'hermes' | 'openai' | 'json' | 'pythonic';

/** All formats, in detection order. */
export const TOOL_CALL_FORMATS: readonly ToolCallFormat[] = [
  'think_answer',
  'hermes',
  'openai',
  'json',
  'pythonic',
];

/** Result of parsing model output into calls. */
export interface ParsedToolCalls {
  /** True when the output was read in some format without any error (it may still hold zero calls). */
  ok: boolean;
  /** The calls read (on partial failure, those that could be read). */
  calls: ToolCall[];
  /** The format detected, `null` when none fitted. */
  format: ToolCallFormat | null;
  /** Problems found, each with a stable `code` and a path. */
  issues: ValidationIssue[];
  /** Deviations from the format that were accepted (empty for clean output). */
  repaired: RepairKind[];
}

/** Number handling shared by the parsers. */
export interface NumberOptions {
  /**
   * Numbers as `NumberLiteral` (text kept, so `5.0` and `5` differ, big integers stay exact), for
   * checkers whose verdict depends on it (BFCL). Default false: plain JS numbers.
   */
  readonly lossless?: boolean;
}

/** Options of {@link parseToolCalls}. */
export interface ParseToolCallsOptions extends NumberOptions {
  /** Formats to try, in order. Default: all of {@link TOOL_CALL_FORMATS}. */
  readonly formats?: readonly ToolCallFormat[];
}

interface Collector {
  lossless: boolean;
  calls: ToolCall[];
  issues: ValidationIssue[];
  repairs: Set<RepairKind>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof NumberLiteral);

function addRepairs(into: Set<RepairKind>, from: readonly RepairKind[]): void {
  for (const kind of from) into.add(kind);
}

/** Decodes `arguments` (object, JSON string, null/absent) into a record, or reports why not. */
function decodeArguments(raw: unknown, path: string, out: Collector): Record<string, unknown> | undefined {
  if (raw === undefined || raw === null) return {};
  if (typeof raw === 'string') {
    if (raw.trim() === '') return {};
    const parsed = parseJsonTolerant(raw, { lossless: out.lossless });
    addRepairs(out.repairs, parsed.repaired);
    if (!parsed.ok) {
      out.issues.push({
        code: 'invalid_arguments',
        path,
        message: `arguments string: ${parsed.issues[0]!.message}`,
      });
      return undefined;
    }
    raw = parsed.value;
  }
  if (isRecord(raw)) return raw;
  out.issues.push({ code: 'invalid_arguments', path, message: 'arguments must be an object' });
  return undefined;
}

/**
 * Reads one call object: `{name, arguments|parameters}` (Llama/Hermes/our answer format) or
 * `{id?, type?, function: {name, arguments}}` (OpenAI). Returns false when it is not call-shaped.
 */
function readCallObject(value: unknown, path: string, out: Collector): void {
  if (!isRecord(value)) {
    out.issues.push({ code: 'invalid_call', path, message: 'a call must be an object' });
    return;
  }
  const fn = isRecord(value.function) ? value.function : undefined;
  const name = fn ? fn.name : value.name;
  if (typeof name !== 'string' || name === '') {
    out.issues.push({ code: 'missing_name', path: `${path}/name`, message: 'call has no function name' });
    return;
  }
  const rawArgs = fn
    ? fn.arguments
    : 'arguments' in value
      ? value.arguments
      : 'parameters' in value
        ? value.parameters
        : value.args;
  const args = decodeArguments(rawArgs, `${path}/arguments`, out);
  if (args === undefined) return;
  const call: ToolCall = { name, arguments: args };
  if (typeof value.id === 'string') call.id = value.id;
  out.calls.push(call);
}

function readCallList(value: unknown, path: string, out: Collector): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      readCallObject(item, `${path}/${index}`, out);
    });
  } else readCallObject(value, `${path}/0`, out);
}

function result(format: ToolCallFormat | null, out: Collector, extraOk = true): ParsedToolCalls {
  const blocking = out.issues.filter((issue) => issue.code !== 'positional_argument');
  return {
    ok: extraOk && format !== null && blocking.length === 0,
    calls: out.calls,
    format,
    issues: out.issues,
    repaired: [...out.repairs],
  };
}

const newCollector = (options: NumberOptions = {}): Collector => ({
  lossless: options.lossless ?? false,
  calls: [],
  issues: [],
  repairs: new Set(),
});

/** Markers some chat templates put before JSON tool calls: Llama 3.1 `<|python_tag|>`, Mistral `[TOOL_CALLS]`. */
const CALL_PREFIXES = ['<|python_tag|>', '[TOOL_CALLS]'];

/** Drops one leading call marker (after optional whitespace); linear, no copy when there is none. */
function stripCallPrefix(text: string): string {
  let start = 0;
  while (start < text.length && text.charCodeAt(start) <= 32) start++;
  for (const prefix of CALL_PREFIXES)
    if (text.startsWith(prefix, start)) return text.slice(start + prefix.length);
  return text;
}

/**
 * Reads JSON call(s) (`{"name", "arguments"|"parameters"}` or a list of them) or, failing that, a
 * pythonic call list, from a text body. Used for `<answer>` and `<tool_call>` contents too.
 */
function readBody(
  body: string,
  path: string,
  out: Collector,
  allowPythonic: boolean,
): 'json' | 'pythonic' | null {
  const text = stripCallPrefix(body);
  const parsed = parseJsonTolerant(text, { lossless: out.lossless });
  if (parsed.ok) {
    addRepairs(out.repairs, parsed.repaired);
    readCallList(parsed.value, path, out);
    return 'json';
  }
  if (allowPythonic) {
    const fence = stripCodeFence(text);
    const inner = text.slice(fence.start, fence.end);
    const pythonic = parsePythonicCalls(inner, { lossless: out.lossless });
    if (pythonic.ok || pythonic.calls.length > 0) {
      if (fence.fenced) out.repairs.add('code_fence');
      out.calls.push(...pythonic.calls);
      out.issues.push(...pythonic.issues);
      return 'pythonic';
    }
  }
  out.issues.push(...parsed.issues.map((issue) => ({ ...issue, path })));
  return null;
}

/** Parsed `<think>…</think><answer>…</answer>` output. */
export interface ThinkAnswerParse extends ParsedToolCalls {
  /** The reasoning text, when a think block was found. */
  think: string | undefined;
  /** The raw answer text, when an answer block was found. */
  answer: string | undefined;
  /** True when the output is exactly `<think>…</think>` then `<answer>…</answer>` (whitespace aside). */
  wellFormed: boolean;
}

/**
 * Parses the `<think>…</think><answer>[json]</answer>` format (the answer holds a JSON list of
 * `{name, arguments}`; a pythonic list is also read and reported as a repair).
 *
 * @example
 * ```ts
 * parseThinkAnswer('<think>look up</think><answer>[{"name":"get_user","arguments":{"id":"1"}}]</answer>').calls;
 * ```
 */
export function parseThinkAnswer(text: string, options: NumberOptions = {}): ThinkAnswerParse {
  const out = newCollector(options);
  const answerOpen = indexOfTag(text, '<answer>', 0);
  const answerClose = answerOpen === -1 ? -1 : indexOfTag(text, '</answer>', answerOpen + 8);
  const thinkOpen = indexOfTag(text, '<think>', 0);
  const thinkClose = indexOfTag(text, '</think>', 0);
  const think =
    thinkOpen !== -1 && thinkClose > thinkOpen && (answerOpen === -1 || thinkClose < answerOpen)
      ? text.slice(thinkOpen + 7, thinkClose)
      : undefined;
  if (answerOpen === -1) {
    out.issues.push({ code: 'missing_answer', path: '', message: 'no <answer> block' });
    return { ...result(null, out, false), think, answer: undefined, wellFormed: false };
  }
  let answer: string;
  if (answerClose === -1) {
    out.issues.push({ code: 'unterminated_tag', path: '', message: '<answer> is not closed' });
    answer = text.slice(answerOpen + 8);
  } else answer = text.slice(answerOpen + 8, answerClose);
  const before = text.slice(0, answerOpen).trim();
  const after = answerClose === -1 ? '' : text.slice(answerClose + 9).trim();
  const wellFormed =
    answerClose !== -1 &&
    think !== undefined &&
    thinkOpen === text.length - text.trimStart().length &&
    before.endsWith('</think>') &&
    indexOfTag(before, '<think>', 1) === -1 &&
    indexOfTag(text, '<answer>', answerOpen + 1) === -1 &&
    after === '';
  const kind = readBody(answer, '/calls', out, true);
  if (kind === 'pythonic') out.repairs.add('python_literals');
  return { ...result('think_answer', out, answerClose !== -1 && kind !== null), think, answer, wellFormed };
}

/**
 * Parses Hermes/Qwen `<tool_call>{"name": …, "arguments": …}</tool_call>` blocks (one or many).
 * An unclosed last block (generation cut off) is still read, with an `unterminated_tag` issue.
 */
export function parseHermesToolCalls(text: string, options: NumberOptions = {}): ParsedToolCalls {
  const out = newCollector(options);
  let from = 0;
  let blocks = 0;
  let complete = true;
  for (;;) {
    const open = indexOfTag(text, '<tool_call>', from);
    if (open === -1) break;
    const close = indexOfTag(text, '</tool_call>', open + 11);
    const body = text.slice(open + 11, close === -1 ? text.length : close);
    if (close === -1) {
      out.issues.push({
        code: 'unterminated_tag',
        path: `/calls/${blocks}`,
        message: '<tool_call> is not closed',
      });
      complete = false;
    }
    if (readBody(body, `/calls/${blocks}`, out, true) === null) complete = false;
    blocks++;
    if (close === -1) break;
    from = close + 12;
  }
  if (blocks === 0) {
    out.issues.push({ code: 'no_tool_calls', path: '', message: 'no <tool_call> block' });
    return result(null, out, false);
  }
  return result('hermes', out, complete);
}

/**
 * Reads OpenAI tool calls from a decoded value: an assistant message (`{tool_calls}`), a chat
 * completion (`{choices: [{message}]}`) or the `tool_calls` array itself. `function.arguments` is the
 * JSON string of the wire format (an object is accepted too).
 */
export function toolCallsFromOpenAI(value: unknown, options: NumberOptions = {}): ParsedToolCalls {
  const out = newCollector(options);
  let list: unknown = value;
  if (isRecord(list) && Array.isArray(list.choices)) {
    const choice = list.choices[0];
    list = isRecord(choice) && isRecord(choice.message) ? choice.message : undefined;
  }
  if (isRecord(list)) list = list.tool_calls ?? [];
  if (!Array.isArray(list)) {
    out.issues.push({ code: 'no_tool_calls', path: '', message: 'no tool_calls array' });
    return result(null, out, false);
  }
  list.forEach((item, index) => {
    if (!isRecord(item) || !isRecord(item.function)) {
      out.issues.push({
        code: 'invalid_call',
        path: `/calls/${index}`,
        message: 'expected {function: {name, arguments}}',
      });
      return;
    }
    readCallObject(item, `/calls/${index}`, out);
  });
  return result('openai', out);
}

function looksOpenAI(value: unknown): boolean {
  if (isRecord(value)) return 'tool_calls' in value || Array.isArray(value.choices);
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => isRecord(item) && isRecord(item.function))
  );
}

/**
 * Parses model output into tool calls, detecting the format: `<answer>` blocks, `<tool_call>` blocks,
 * OpenAI `tool_calls` JSON, Llama-style JSON `{"name", "parameters"|"arguments"}` (one, a list, or
 * `;`-separated; after `<|python_tag|>` or Mistral's `[TOOL_CALLS]`), pythonic `[f(a=1)]`. Tolerant JSON repairs are listed in `repaired`, never silent.
 *
 * Default: all formats in {@link TOOL_CALL_FORMATS} order.
 *
 * @example
 * ```ts
 * const { calls, format, repaired } = parseToolCalls("<tool_call>{'name': 'f', 'arguments': {}}</tool_call>");
 * // calls = [{ name: 'f', arguments: {} }], format = 'hermes', repaired = ['single_quotes']
 * ```
 */
export function parseToolCalls(text: string, options: ParseToolCallsOptions = {}): ParsedToolCalls {
  if (typeof text !== 'string') {
    return {
      ok: false,
      calls: [],
      format: null,
      issues: [{ code: 'invalid_input', path: '', message: 'not a string' }],
      repaired: [],
    };
  }
  const formats = options.formats ?? TOOL_CALL_FORMATS;
  const numbers: NumberOptions = { lossless: options.lossless ?? false };
  const allowed = (format: ToolCallFormat): boolean => formats.includes(format);
  const contains = (tag: string): boolean => indexOfTag(text, tag) !== -1;
  if (allowed('think_answer') && contains('<answer>')) {
    const {
      think: _think,
      answer: _answer,
      wellFormed: _wellFormed,
      ...parsed
    } = parseThinkAnswer(text, numbers);
    return parsed;
  }
  if (allowed('hermes') && contains('<tool_call>')) return parseHermesToolCalls(text, numbers);

  const jsonWanted = allowed('openai') || allowed('json');
  let firstIssues: ValidationIssue[] = [];
  if (jsonWanted) {
    const body = stripCallPrefix(text);
    const parsed = parseJsonTolerant(body, { lossless: numbers.lossless ?? false });
    if (parsed.ok) {
      const out = newCollector(numbers);
      addRepairs(out.repairs, parsed.repaired);
      if (looksOpenAI(parsed.value) && allowed('openai')) {
        const openai = toolCallsFromOpenAI(parsed.value, numbers);
        addRepairs(out.repairs, openai.repaired);
        return { ...openai, repaired: [...out.repairs] };
      }
      if (allowed('json')) {
        readCallList(parsed.value, '/calls', out);
        return result('json', out);
      }
    } else firstIssues = parsed.issues;
  }
  if (allowed('pythonic')) {
    const fence = stripCodeFence(text);
    const pythonic = parsePythonicCalls(text.slice(fence.start, fence.end), numbers);
    if (pythonic.ok) {
      return {
        ok: true,
        calls: pythonic.calls,
        format: 'pythonic',
        issues: pythonic.issues,
        repaired: fence.fenced ? ['code_fence'] : [],
      };
    }
    if (firstIssues.length === 0) firstIssues = pythonic.issues;
  }
  if (allowed('json')) {
    // several JSON objects separated by ';' or newlines (Llama 3.x), or prose around one JSON value;
    // tried last so that a dict literal inside a pythonic call is never taken for a call
    const sequence = readJsonSequence(stripCallPrefix(text), numbers);
    if (sequence) return sequence;
  }
  const issues: ValidationIssue[] = [
    { code: 'no_tool_calls', path: '', message: 'no tool calls found in any format' },
  ];
  issues.push(...firstIssues);
  return { ok: false, calls: [], format: null, issues, repaired: [] };
}

/**
 * `{"name":…}; {"name":…}` or `text {"name":…} text`: tries the first `{` and the first `[` only (so
 * the cost stays linear), then further objects separated by `;`, `,` or whitespace.
 */
function readJsonSequence(text: string, numbers: NumberOptions): ParsedToolCalls | undefined {
  const brace = text.indexOf('{');
  const bracket = text.indexOf('[');
  const starts = [brace, bracket].filter((index) => index !== -1).sort((a, b) => a - b);
  for (const start of starts) {
    const out = newCollector(numbers);
    let pos = start;
    let count = 0;
    while (pos < text.length) {
      const scanned = scanLiteral(text, pos, { mode: 'json', lossless: out.lossless }, out.repairs);
      if (!scanned.ok) break;
      readCallList(scanned.value, '/calls', out);
      count++;
      pos = scanned.end;
      while (pos < text.length && /[\s;,]/.test(text[pos]!)) pos++;
      if (text[pos] !== '{') break;
    }
    if (count === 0 || out.calls.length === 0) continue;
    if (text.slice(0, start).trim() !== '' || text.slice(pos).trim() !== '')
      out.repairs.add('surrounding_text');
    return result('json', out);
  }
  return undefined;
}
