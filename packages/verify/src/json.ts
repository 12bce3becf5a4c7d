/**
 * Tolerant JSON: strict JSON when the input is strict, and the usual model mistakes (single quotes,
 * trailing commas, Python literals, code fences, unquoted keys...) accepted but always reported in
 * `repaired`. Total: any string in, a value or issues out; linear time; no recursion.
 */
import type { ValidationIssue } from '@openfugu/schema';
import { type RepairKind, scanLiteral } from './literal.js';

export type { RepairKind } from './literal.js';
export { NumberLiteral } from './literal.js';

/** Result of {@link parseJsonTolerant}. `repaired` is empty exactly when the input was strict JSON. */
export type JsonParseResult =
  | { ok: true; value: unknown; repaired: RepairKind[] }
  | { ok: false; issues: ValidationIssue[]; repaired: RepairKind[] };

/** Options of {@link parseJsonTolerant}. */
export interface JsonParseOptions {
  /** Accept (and report) non-strict input. Default true; false = strict JSON only. */
  readonly repair?: boolean;
  /** Numbers as `NumberLiteral` keeping their text (`5.0` vs `5`). Default false. */
  readonly lossless?: boolean;
  /** Allow text after the value (reported as repair `surrounding_text`). Default false. */
  readonly allowTrailingText?: boolean;
  /** Deepest nesting accepted. Default 10,000. */
  readonly maxDepth?: number;
}

/**
 * Removes one surrounding Markdown code fence (```` ```json … ``` ````) if present.
 * Returns the inner range; linear time.
 */
export function stripCodeFence(text: string): { start: number; end: number; fenced: boolean } {
  let start = 0;
  while (start < text.length && /\s/.test(text[start]!)) start++;
  let end = text.length;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  if (!text.startsWith('```', start)) return { start, end, fenced: false };
  const newline = text.indexOf('\n', start);
  if (newline === -1 || newline >= end) return { start, end, fenced: false };
  const info = text.slice(start + 3, newline).trim();
  if (!/^[\w+-]*$/.test(info)) return { start, end, fenced: false };
  let innerEnd = end;
  if (end - 3 > newline && text.startsWith('```', end - 3)) innerEnd = end - 3;
  return { start: newline + 1, end: innerEnd, fenced: true };
}

/**
 * Parses JSON, repairing what models commonly get wrong, and says what it repaired.
 *
 * Default: repairs on, numbers as JS numbers, no text allowed after the value.
 *
 * @example
 * ```ts
 * parseJsonTolerant("{'a': 1,}");
 * // { ok: true, value: { a: 1 }, repaired: ['single_quotes', 'trailing_commas'] }
 * ```
 */
export function parseJsonTolerant(text: string, options: JsonParseOptions = {}): JsonParseResult {
  const repairs = new Set<RepairKind>();
  const repair = options.repair ?? true;
  if (typeof text !== 'string') {
    return {
      ok: false,
      issues: [{ code: 'invalid_json', path: '', message: 'input is not a string' }],
      repaired: [],
    };
  }
  let { start, end, fenced } = repair ? stripCodeFence(text) : { start: 0, end: text.length, fenced: false };
  if (fenced) repairs.add('code_fence');
  const body = fenced || start > 0 || end < text.length ? text.slice(start, end) : text;
  start = 0;
  end = body.length;
  const result = scanLiteral(
    body,
    0,
    {
      mode: 'json',
      repairs: repair,
      lossless: options.lossless ?? false,
      maxDepth: options.maxDepth ?? 10_000,
    },
    repairs,
  );
  if (!result.ok) {
    return {
      ok: false,
      issues: [{ code: 'invalid_json', path: '', message: `${result.message} at offset ${result.index}` }],
      repaired: [...repairs],
    };
  }
  let tail = result.end;
  while (tail < body.length && /\s/.test(body[tail]!)) tail++;
  if (tail < body.length) {
    if (!(repair && options.allowTrailingText)) {
      return {
        ok: false,
        issues: [
          { code: 'invalid_json', path: '', message: `unexpected text after the value at offset ${tail}` },
        ],
        repaired: [...repairs],
      };
    }
    repairs.add('surrounding_text');
  }
  return { ok: true, value: result.value, repaired: [...repairs] };
}
