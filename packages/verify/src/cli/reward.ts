// `openfugu-verify reward --kind action|format|bfcl`: JSON Lines `{completion, reference}` in, one
// `{reward, details}` line out per input line, in order. A malformed line stops the run with exit code 2
// and a message naming its 1-based line number; the lines before it are kept in stdout.

import { parseJsonLossless, stringifyJsonLossless } from '../bfcl/index.js';
import { type BfclReference, bfclCompletionReward } from '../bfcl-reward.js';
import { parseJsonTolerant } from '../json.js';
import type { Reward } from '../reward.js';
import {
  type ActionReference,
  actionReward,
  formatReward,
  openfuguActionReward,
  openfuguFormatReward,
} from '../rewards.js';
import type { CommandResult, RewardKind } from './main.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function referenceProblem(kind: RewardKind, reference: unknown): string | null {
  switch (kind) {
    case 'action':
    case 'openfugu-action': {
      const actions = Array.isArray(reference)
        ? reference
        : isRecord(reference)
          ? (reference.actions ??
            (isRecord(reference.evaluation_criteria) ? reference.evaluation_criteria.actions : undefined))
          : undefined;
      if (!Array.isArray(actions))
        return '"reference" must be a list of gold actions or {actions: [...], tools?: [...]}';
      if (
        !actions.every(
          (action) => isRecord(action) && typeof action.name === 'string' && isRecord(action.arguments),
        )
      ) {
        return 'every gold action needs a string "name" and an object "arguments"';
      }
      return null;
    }
    case 'bfcl':
      if (!isRecord(reference)) return '"reference" must be {category, function, possible_answer}';
      if (typeof reference.category !== 'string') return '"reference.category" must be a string';
      if (!Array.isArray(reference.function)) return '"reference.function" must be a list of function docs';
      if (!reference.category.includes('relevance') && !Array.isArray(reference.possible_answer)) {
        return '"reference.possible_answer" must be a list';
      }
      return null;
    default:
      return null;
  }
}

function rewardFor(kind: RewardKind): Reward<never, object> {
  switch (kind) {
    case 'action':
      return actionReward as Reward<ActionReference, object> as Reward<never, object>;
    case 'openfugu-action':
      return openfuguActionReward as Reward<ActionReference, object> as Reward<never, object>;
    case 'format':
      return formatReward as Reward<never, object>;
    case 'openfugu-format':
      return openfuguFormatReward as Reward<never, object>;
    case 'bfcl':
      return bfclCompletionReward as Reward<BfclReference, object> as Reward<never, object>;
  }
}

function parseLine(
  line: string,
  mode: 'bfcl' | 'python' | 'plain',
): { ok: true; value: unknown } | { ok: false; message: string } {
  if (mode === 'python') {
    // the reference formula compares Python str() of values: keep 5.0 a float in the gold as well
    const parsed = parseJsonTolerant(line, { repair: false, lossless: true });
    return parsed.ok ? { ok: true, value: parsed.value } : { ok: false, message: parsed.issues[0]!.message };
  }
  if (mode === 'bfcl') {
    const parsed = parseJsonLossless(line);
    return parsed.ok
      ? { ok: true, value: parsed.value }
      : { ok: false, message: `invalid JSON (${parsed.error.message} at column ${parsed.error.offset + 1})` };
  }
  try {
    return { ok: true, value: JSON.parse(line) };
  } catch (error) {
    return { ok: false, message: `invalid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
}

/**
 * Runs `reward --kind <kind>` on the whole input text. For `bfcl`, lines are parsed losslessly (a `5.0` in
 * a possible answer stays a float) and written the same way.
 *
 * @example
 * ```ts
 * runRewardCommand('{"completion": "<think>a</think><answer>[]</answer>", "reference": null}\n', 'format');
 * // { stdout: '{"reward":1,"details":{...}}\n', stderr: '', exitCode: 0 }
 * ```
 */
export function runRewardCommand(input: string, kind: RewardKind): CommandResult {
  const reward = rewardFor(kind);
  const lossless = kind === 'bfcl';
  const mode = lossless ? 'bfcl' : kind === 'openfugu-action' ? 'python' : 'plain';
  const lines = input.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const out: string[] = [];
  const flush = (): string => (out.length === 0 ? '' : `${out.join('\n')}\n`);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const fail = (message: string): CommandResult => ({
      stdout: flush(),
      stderr: `openfugu-verify reward: line ${i + 1}: ${message}\n`,
      exitCode: 2,
    });
    const parsed = parseLine(line, mode);
    if (!parsed.ok) return fail(parsed.message);
    const row = parsed.value;
    if (!isRecord(row)) return fail('expected a JSON object {completion, reference}');
    if (typeof row.completion !== 'string') return fail('"completion" must be a string');
    const problem = referenceProblem(kind, row.reference);
    if (problem !== null) return fail(problem);
    const result = reward.details(row.completion, row.reference as never);
    out.push(
      lossless
        ? stringifyJsonLossless({ reward: result.reward, details: result.details })
        : JSON.stringify({ reward: result.reward, details: result.details }),
    );
  }
  return { stdout: flush(), stderr: '', exitCode: 0 };
}
