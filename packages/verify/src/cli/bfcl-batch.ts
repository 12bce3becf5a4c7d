// `openfugu-verify bfcl` over input that arrives in chunks: cut the bytes into batches of whole lines, judge
// each batch, and merge the batch results in input order with the CLI's rules: one verdict line per input
// line; the first malformed line stops the run (exit 2, its 1-based line number in the message, earlier
// verdicts kept); blank lines are fine only at the very end of the input. A batch is judged without knowing
// what came before it, so batches could be judged anywhere (a thread pool was tried: on 2 cores each thread's
// own JIT warm-up cost more than it saved) and merged here. Free of I/O: src/cli.ts reads and writes.

import type { BfclCheckOptions } from '../bfcl/checker.js';
import {
  type BfclCommandResult,
  type BfclLineChecker,
  checkBfclLine,
  createBfclLineChecker,
} from './bfcl.js';
import type { BfclLineScannerOptions } from './bfcl-scan.js';

// A global in Node and browsers; declared here because this package type-checks without DOM or Node types.
declare const TextDecoder: new (
  label?: string,
  options?: { fatal?: boolean; ignoreBOM?: boolean },
) => { decode(input?: Uint8Array): string };

/** What judging one batch of whole lines gives; merged in input order by {@link createBfclBatchMerger}. */
export interface BfclBatchResult {
  /** Verdict lines of the batch's lines up to the first malformed one. */
  stdout: string;
  /** The first malformed line's message (`line N: ...`), judged as if no blank line came before the batch. */
  error: string | undefined;
  /** Line number of the first of the blank lines that end the batch (only whitespace after it); 0 if none. */
  trailingBlank: number;
  /** Whether every line of the batch is blank or whitespace only (fine after a blank line of an earlier batch). */
  allWhitespace: boolean;
}

const WHITESPACE = /^\s*$/;

/**
 * Judge a batch of whole lines — text, or UTF-8 bytes decoded line by line (each line ended by `\n` except
 * perhaps the input's last one) — the first of which is line `firstLine` of the input. Stops at the first
 * malformed line.
 */
export function judgeBfclBatch(
  check: BfclLineChecker,
  input: string | Uint8Array,
  firstLine: number,
): BfclBatchResult {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const text = typeof input === 'string' ? input : undefined;
  const bytes = typeof input === 'string' ? undefined : input;
  let stdout = '';
  let lineNumber = firstLine - 1;
  let firstBlank = 0;
  let allWhitespace = true;
  for (let start = 0; start < input.length; ) {
    let end = text !== undefined ? text.indexOf('\n', start) : bytes!.indexOf(10, start);
    if (end === -1) end = input.length;
    lineNumber++;
    const first = text !== undefined ? text.charCodeAt(start) : bytes![start];
    const blank = end === start || (end === start + 1 && first === 13);
    // the line's text, decoded once and only when needed: a line that starts with `{` is not whitespace
    let line: string | undefined;
    if (!blank && (first !== 123 || firstBlank === 0)) {
      line = text !== undefined ? text.slice(start, end) : decoder.decode(bytes!.subarray(start, end));
    }
    start = end + 1;
    const whitespace = blank || (first !== 123 && WHITESPACE.test(line!));
    if (!whitespace) allWhitespace = false;
    if (firstBlank !== 0) {
      // blank lines at the very end of the input are fine; anything but whitespace after one makes it malformed
      if (whitespace) continue;
      return { stdout, error: blankLineError(firstBlank), trailingBlank: 0, allWhitespace };
    }
    if (blank) {
      firstBlank = lineNumber;
      continue;
    }
    const r = check(line!, lineNumber);
    if (!r.ok) return { stdout, error: r.message, trailingBlank: 0, allWhitespace };
    stdout += `${r.output}\n`;
  }
  return { stdout, error: undefined, trailingBlank: firstBlank, allWhitespace };
}

function blankLineError(lineNumber: number): string {
  const r = checkBfclLine('', lineNumber);
  return r.ok ? `line ${lineNumber}: blank line` : r.message;
}

/** Merges batch results in input order: `add` returns what to write; `result` the end state. */
export interface BfclBatchMerger {
  add(batch: BfclBatchResult): string;
  /** Whether a malformed line has been met (later batches are ignored). */
  readonly failed: boolean;
  result(): BfclCommandResult;
}

/** A merger of {@link BfclBatchResult}s that applies the CLI's rules across batch boundaries. */
export function createBfclBatchMerger(): BfclBatchMerger {
  let pendingBlank = 0;
  let error: string | undefined;
  return {
    add(batch) {
      if (error !== undefined) return '';
      if (pendingBlank !== 0) {
        if (batch.allWhitespace) return '';
        error = blankLineError(pendingBlank);
        return '';
      }
      if (batch.error !== undefined) {
        error = batch.error;
        return batch.stdout;
      }
      pendingBlank = batch.trailingBlank;
      return batch.stdout;
    },
    get failed() {
      return error !== undefined;
    },
    result() {
      return error === undefined
        ? { stdout: '', stderr: '', exitCode: 0 }
        : { stdout: '', stderr: `openfugu-verify bfcl: ${error}\n`, exitCode: 2 };
    },
  };
}

/** A batch of whole lines cut from the input. */
export interface BfclBatch {
  bytes: Uint8Array;
  firstLine: number;
}

/**
 * Cuts chunks of input into batches of whole lines: `push` returns the batch the chunk completes (or
 * undefined while a line is still open), `end` the rest. Each batch is a fresh copy (it can be transferred
 * to another thread; the caller may reuse its chunk buffers).
 */
export function createBfclBatcher(): {
  push(chunk: Uint8Array): BfclBatch | undefined;
  end(): BfclBatch | undefined;
} {
  let tail: Uint8Array = new Uint8Array(0);
  let nextLine = 1;
  const cut = (bytes: Uint8Array): BfclBatch => {
    const batch = { bytes, firstLine: nextLine };
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) nextLine++;
    return batch;
  };
  return {
    push(chunk) {
      const last = chunk.lastIndexOf(10);
      if (last === -1) {
        const grown = new Uint8Array(tail.length + chunk.length);
        grown.set(tail);
        grown.set(chunk, tail.length);
        tail = grown;
        return undefined;
      }
      const bytes = new Uint8Array(tail.length + last + 1);
      bytes.set(tail);
      bytes.set(chunk.subarray(0, last + 1), tail.length);
      tail = chunk.slice(last + 1);
      return cut(bytes);
    },
    end() {
      if (tail.length === 0) return undefined;
      const bytes = tail;
      tail = new Uint8Array(0);
      return cut(bytes);
    },
  };
}

/** See {@link createBfclCommandStream}. */
export interface BfclCommandStream {
  /** Judge the lines these bytes complete; returns their verdict lines ('' after a malformed line). */
  push(chunk: Uint8Array): string;
  /** End of input: the verdict of a last line without a newline, and the exit code / error message. */
  end(): BfclCommandResult;
  /** Whether a malformed line has been met (the rest of the input need not be read). */
  readonly failed: boolean;
}

/**
 * `openfugu-verify bfcl` over input that arrives in pieces (stdin): `push` each chunk of UTF-8 bytes as it is
 * read and write out what it returns; `end` at the end of input. Same output, messages and exit codes as
 * {@link runBfclCommand} on the whole input, without ever holding the whole input. After a malformed line,
 * `push` returns '' and ignores the rest; `end` then reports the error.
 *
 * @example
 * const stream = createBfclCommandStream();
 * for await (const chunk of process.stdin) process.stdout.write(stream.push(chunk));
 * const { stdout, stderr, exitCode } = stream.end();
 */
export function createBfclCommandStream(
  options: BfclCheckOptions & BfclLineScannerOptions = {},
): BfclCommandStream {
  const check = createBfclLineChecker(options);
  const batcher = createBfclBatcher();
  const merger = createBfclBatchMerger();
  const judge = (batch: BfclBatch | undefined): string =>
    batch === undefined || merger.failed
      ? ''
      : merger.add(judgeBfclBatch(check, batch.bytes, batch.firstLine));
  return {
    push: (chunk) => (merger.failed ? '' : judge(batcher.push(chunk))),
    get failed() {
      return merger.failed;
    },
    end() {
      const out = merger.failed ? '' : judge(batcher.end());
      return { ...merger.result(), stdout: out };
    },
  };
}
