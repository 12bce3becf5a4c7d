// `openfugu-verify bfcl`: JSON Lines in (each line shaped like a line of BFCL's oracle_dev.jsonl), one
// `{"id","valid","error_type"}` line out per input line, in order. A malformed line stops the run with
// exit code 2 and a message naming its 1-based line number; verdicts of the lines before it are kept.
//
// Speed: many lines go through `createBfclLineChecker`, which scans each line once for the fields the checker
// reads (bfcl-scan.ts); a line it cannot take, and `checkBfclLine`, use the full parse below: the native
// JSON.parse, or the lossless parser where the text holds a number JSON.parse would misread (`5.0`, very
// long digit runs, NaN/Infinity), so `5.0` stays a float wherever the verdict could depend on it.
// Input that arrives in chunks: bfcl-batch.ts.

import { type BfclCheckOptions, type BfclEntry, checkBfclVerdictOnly } from '../bfcl/checker.js';
import { parseJsonLossless, stringifyJsonLossless } from '../bfcl/lossless-json.js';
import { createBfclBatchMerger, judgeBfclBatch } from './bfcl-batch.js';
import { type BfclLineScannerOptions, createBfclLineScanner, NOT_JSON, parseJsonValue } from './bfcl-scan.js';

/** Result of judging one input line. */
export type BfclLineResult = { ok: true; output: string } | { ok: false; message: string };

/** Result of `runBfclCommand`: what the CLI writes and the exit code it returns. */
export interface BfclCommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function parseLine(line: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const value = parseJsonValue(line);
  if (value !== NOT_JSON) return { ok: true, value };
  // the lossless parser accepts what Python's json.loads accepts, or says where the text is wrong
  const r = parseJsonLossless(line);
  if (r.ok) return { ok: true, value: r.value };
  return { ok: false, message: `invalid JSON (${r.error.message} at column ${r.error.offset + 1})` };
}

function shapeProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a JSON object';
  const o = v as Record<string, unknown>;
  if (!('id' in o)) return 'missing "id"';
  if (typeof o.category !== 'string') return '"category" must be a string';
  if (!Array.isArray(o.function)) return '"function" must be a list of function docs';
  if (!('model_output' in o)) return 'missing "model_output"';
  if (!o.category.includes('relevance') && !Array.isArray(o.possible_answer)) {
    return '"possible_answer" must be a list';
  }
  return null;
}

/**
 * Judge one input line (1-based `lineNumber` for messages): the output line without its newline, or why
 * the line is malformed. Lets callers stream large inputs line by line.
 *
 * @example
 * checkBfclLine('{"id":"x","category":"irrelevance","function":[],"model_output":[]}', 1);
 * // { ok: true, output: '{"id":"x","valid":true,"error_type":null}' }
 */
export function checkBfclLine(
  line: string,
  lineNumber: number,
  options: BfclCheckOptions = {},
): BfclLineResult {
  return judgeLine(line, lineNumber, options, undefined);
}

/** A line checker with state: see {@link createBfclLineChecker}. */
export type BfclLineChecker = (line: string, lineNumber: number) => BfclLineResult;

/**
 * `checkBfclLine` for many lines: the same results, faster. Each line is scanned once for the fields the
 * checker reads (the question, metadata and other keys are validated but not built), and the parsed
 * `function` / `possible_answer` values are cached by their text, since every candidate of a question
 * repeats them. Lines the scanner cannot take (syntax errors, NaN, escaped keys) go through the full parser.
 *
 * @example
 * const check = createBfclLineChecker();
 * lines.map((line, i) => check(line, i + 1));
 */
export function createBfclLineChecker(
  options: BfclCheckOptions & BfclLineScannerOptions = {},
): BfclLineChecker {
  const scan = createBfclLineScanner(options);
  return (line, lineNumber) => judgeLine(line, lineNumber, options, scan);
}

function judgeLine(
  line: string,
  lineNumber: number,
  options: BfclCheckOptions,
  scan: ((line: string) => object | undefined) | undefined,
): BfclLineResult {
  if (line.endsWith('\r')) line = line.slice(0, -1);
  let value = scan?.(line);
  if (value === undefined) {
    const parsed = parseLine(line);
    if (!parsed.ok) return { ok: false, message: `line ${lineNumber}: ${parsed.message}` };
    value = parsed.value as object;
  }
  const problem = shapeProblem(value);
  if (problem !== null) return { ok: false, message: `line ${lineNumber}: ${problem}` };
  const entry = value as BfclEntry & { id: unknown };
  const verdict = checkBfclVerdictOnly(entry, options);
  const id = typeof entry.id === 'string' ? JSON.stringify(entry.id) : stringifyJsonLossless(entry.id);
  const errorType = verdict.error_type === null ? 'null' : JSON.stringify(verdict.error_type);
  return { ok: true, output: `{"id":${id},"valid":${verdict.valid},"error_type":${errorType}}` };
}

/**
 * Run `openfugu-verify bfcl` on the whole input: one verdict line per input line, in order. Blank lines at
 * the very end are fine; any other malformed line (blank lines in the middle included) stops the run with
 * exit code 2 and a stderr message naming its 1-based line number (earlier verdicts stay in stdout).
 *
 * The input is text, or the raw UTF-8 bytes (faster on big inputs: each line is decoded on its own, so the
 * many pure-ASCII lines become compact one-byte strings, and no copy of the whole input as text is made;
 * invalid UTF-8 becomes U+FFFD either way, a byte-order mark is kept either way).
 *
 * @example
 * const { stdout, exitCode } = runBfclCommand(readFileSync(0)); // or readFileSync(0, 'utf8')
 */
export function runBfclCommand(
  input: string | Uint8Array,
  options: BfclCheckOptions = {},
): BfclCommandResult {
  const merger = createBfclBatchMerger();
  const stdout = merger.add(judgeBfclBatch(createBfclLineChecker(options), input, 1));
  return { ...merger.result(), stdout };
}
