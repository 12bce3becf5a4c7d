/**
 * BFCL 0/1 reward on raw completions: the completion is decoded into calls (any format
 * {@link parseToolCalls} reads, numbers kept lossless so `5.0` stays a float) and judged by the BFCL
 * AST checker (`checkBfcl`, which mirrors the official one). Output that does not decode counts as "no
 * call", as upstream's decoder failure does: wrong for most categories, right for `irrelevance`.
 */
import { type BfclEntry, type BfclVerdict, checkBfcl, JsonFloat } from './bfcl/index.js';
import { NumberLiteral } from './literal.js';
import { type ParsedToolCalls, parseToolCalls } from './parse.js';
import { defineReward, type Reward } from './reward.js';

/** What the BFCL reward compares with: a BFCL entry without `model_output` (`{category, function, possible_answer}`). */
export type BfclReference = Omit<BfclEntry, 'model_output'>;

/** Details of {@link bfclCompletionReward}. */
export interface BfclRewardDetails {
  /** Format the completion was decoded from (`null`: it did not decode). */
  format: ParsedToolCalls['format'];
  /** The decoded output handed to the checker (`null` when it did not decode). */
  modelOutput: Array<Record<string, Record<string, unknown>>> | null;
  valid: boolean;
  error_type: BfclVerdict['error_type'];
  errors: string[];
}

/** Converts scanner numbers to the BFCL checker's Python-typed values (int, float box, bigint). */
function toBfclValue(value: unknown): unknown {
  if (value instanceof NumberLiteral) {
    if (value.isIntegerText) {
      if (Number.isSafeInteger(value.value)) return value.value;
      try {
        return BigInt(value.text.replace(/_/g, ''));
      } catch {
        return value.value;
      }
    }
    return Number.isInteger(value.value) || Number.isNaN(value.value)
      ? new JsonFloat(value.value)
      : value.value;
  }
  if (Array.isArray(value)) return value.map(toBfclValue);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, element] of Object.entries(value)) {
      if (key === '__proto__')
        Object.defineProperty(out, key, {
          value: toBfclValue(element),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else out[key] = toBfclValue(element);
    }
    return out;
  }
  return value;
}

/**
 * Decodes a completion into BFCL's model-output form (`[{name: {args}}]`), or `null` when it does not
 * decode (no calls readable, or any parse error).
 *
 * @example
 * ```ts
 * decodeBfclOutput('[calc(x=5.0)]'); // [{ calc: { x: JsonFloat(5) } }]
 * ```
 */
export function decodeBfclOutput(completion: string): {
  format: ParsedToolCalls['format'];
  output: BfclRewardDetails['modelOutput'];
} {
  const parsed = parseToolCalls(completion, { lossless: true });
  if (!parsed.ok) return { format: parsed.format, output: null };
  return {
    format: parsed.format,
    output: parsed.calls.map((call) => ({
      [call.name]: toBfclValue(call.arguments) as Record<string, unknown>,
    })),
  };
}

/**
 * BFCL 0/1 reward of a raw completion against a BFCL question (`{category, function, possible_answer}`).
 *
 * @example
 * ```ts
 * bfclCompletionReward('[math.factorial(number=5)]', { category: 'simple_python', function: [fn], possible_answer: [{ 'math.factorial': { number: [5] } }] }); // 1
 * ```
 */
export const bfclCompletionReward: Reward<BfclReference, Partial<BfclRewardDetails>> = defineReward<
  BfclReference,
  BfclRewardDetails
>('bfcl', { min: 0, max: 1 }, (completion, reference) => {
  const decoded = decodeBfclOutput(completion);
  const verdict = checkBfcl({ ...reference, model_output: decoded.output });
  return {
    reward: verdict.valid ? 1 : 0,
    details: {
      format: decoded.format,
      modelOutput: decoded.output,
      valid: verdict.valid,
      error_type: verdict.error_type,
      errors: verdict.errors,
    },
  };
});
