/**
 * Rewards for RL on tool-calling outputs: the `<think>…</think><answer>[json]</answer>` format reward,
 * the reference OpenFugu action reward (kept bit-for-bit for comparability) and our default action
 * reward, which also penalises extra, hallucinated and unparseable calls.
 */
import type { GoldAction, ToolCall } from '@openfugu/schema';
import { NumberLiteral, type RepairKind, scanLiteral } from './literal.js';
import { type ActionMatch, matchActions } from './match.js';
import { type ParsedToolCalls, parseThinkAnswer, parseToolCalls } from './parse.js';
import { pythonStr } from './python-repr.js';
import { defineReward, type Reward } from './reward.js';
import { firstAnswerBlock } from './tags.js';
import type { ToolDefinition } from './validate.js';

/**
 * What an action reward is compared with: the gold action list, or an object holding it (and, for
 * hallucination checks, the task's tools). A tau2 task (`{ evaluation_criteria: { actions } }`) works too.
 */
export type ActionReference =
  | readonly GoldAction[]
  | {
      readonly actions?: readonly GoldAction[] | null;
      readonly evaluation_criteria?: { readonly actions?: readonly GoldAction[] | null } | null;
      /** The task's tool set (names or specs). A call to any other tool is hallucinated. */
      readonly tools?: ReadonlyArray<string | ToolDefinition>;
    };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof NumberLiteral);

function goldOf(reference: ActionReference): readonly GoldAction[] {
  if (Array.isArray(reference)) return reference as readonly GoldAction[];
  if (!isRecord(reference)) return [];
  const ref = reference as Exclude<ActionReference, readonly GoldAction[]>;
  return ref.actions ?? ref.evaluation_criteria?.actions ?? [];
}

function toolNamesOf(reference: ActionReference): string[] | undefined {
  if (Array.isArray(reference) || !isRecord(reference)) return undefined;
  const tools = (reference as { tools?: ReadonlyArray<string | ToolDefinition> }).tools;
  if (!Array.isArray(tools)) return undefined;
  const names: string[] = [];
  for (const tool of tools as unknown[]) {
    if (typeof tool === 'string') names.push(tool);
    else if (isRecord(tool)) {
      const fn = isRecord(tool.function) ? tool.function : tool;
      if (typeof fn.name === 'string') names.push(fn.name);
    }
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// format

/** Options of {@link createFormatReward}. */
export interface FormatRewardOptions {
  /**
   * The prompt already ends with `<think>` (the model continues inside it), so the completion starts in
   * the middle of the think block. Default false.
   */
  readonly prefilledThink?: boolean;
  /** Reward for an output that has a readable answer but is not exactly in the format. Default 0.5. */
  readonly partialCredit?: number;
}

/** Details of the format reward. */
export interface FormatDetails {
  /** `exact`, `partial` (answer readable, format not exact) or `none`. */
  level: 'exact' | 'partial' | 'none';
  wellFormed: boolean;
  repaired: RepairKind[];
  issues: string[];
}

/**
 * Creates a format reward for `<think>…</think><answer>[json]</answer>`: 1 when the output is exactly a
 * think block then an answer block holding a strict JSON list of `{"name": string, "arguments": object}`;
 * `partialCredit` when an answer with calls can be read but only after repairs or with text around the
 * blocks; 0 otherwise.
 */
export function createFormatReward(
  options: FormatRewardOptions = {},
): Reward<unknown, Partial<FormatDetails>> {
  const partial = options.partialCredit ?? 0.5;
  return defineReward<unknown, FormatDetails>('format', { min: 0, max: 1 }, (completion) => {
    const text = options.prefilledThink ? `<think>${completion}` : completion;
    const parsed = parseThinkAnswer(text);
    const issues = parsed.issues.map((issue) => issue.code);
    let exactList = false;
    if (parsed.answer !== undefined && parsed.repaired.length === 0) {
      const answer = parsed.answer.trim();
      const scanned = scanLiteral(answer, 0, { mode: 'json', repairs: false });
      exactList =
        scanned.ok &&
        scanned.end === answer.length &&
        Array.isArray(scanned.value) &&
        scanned.value.every(
          (item) =>
            isRecord(item) && typeof item.name === 'string' && item.name !== '' && isRecord(item.arguments),
        );
    }
    const details = { wellFormed: parsed.wellFormed, repaired: parsed.repaired, issues };
    if (parsed.wellFormed && exactList && parsed.ok)
      return { reward: 1, details: { level: 'exact', ...details } };
    if (parsed.ok) return { reward: partial, details: { level: 'partial', ...details } };
    return { reward: 0, details: { level: 'none', ...details } };
  });
}

/**
 * Format reward with the defaults of {@link createFormatReward} (no prefilled `<think>`, partial credit 0.5).
 *
 * @example
 * ```ts
 * formatReward('<think>plan</think><answer>[{"name":"f","arguments":{}}]</answer>', null); // 1
 * formatReward("<think>plan</think><answer>[{'name':'f','arguments':{}}]</answer>", null); // 0.5
 * ```
 */
export const formatReward: Reward<unknown, Partial<FormatDetails>> = createFormatReward();

// ---------------------------------------------------------------------------------------------
// the reference OpenFugu rewards (trotsky1997/OpenFugu train/toolscale_data.py)

/** Details of {@link openfuguActionReward}. */
export interface OpenfuguActionDetails {
  /** The plan could not be read (no `<answer>`, not JSON, not a list): reward 0. */
  unparsed: boolean;
  nameRecall: number;
  orderedPrefix: number;
  argumentMatch: number;
  predictedCount: number;
  goldCount: number;
}

/** Python's `json.loads`: strict JSON plus `NaN`/`Infinity`; numbers keep their int/float kind. */
function pythonJsonLoads(text: string): { ok: true; value: unknown } | { ok: false } {
  const repairs = new Set<RepairKind>();
  let start = 0;
  while (start < text.length && ' \t\n\r'.includes(text[start]!)) start++;
  const scanned = scanLiteral(text, start, { mode: 'json', lossless: true }, repairs);
  if (!scanned.ok) return { ok: false };
  for (const kind of repairs) if (kind !== 'nan_infinity') return { ok: false };
  let end = scanned.end;
  while (end < text.length && ' \t\n\r'.includes(text[end]!)) end++;
  return end === text.length ? { ok: true, value: scanned.value } : { ok: false };
}

/** Python truthiness of a decoded JSON value. */
function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === '') return false;
  if (value instanceof NumberLiteral) return value.value !== 0;
  if (typeof value === 'number') return value !== 0;
  if (Array.isArray(value)) return value.length > 0;
  if (isRecord(value)) return Object.keys(value).length > 0;
  return true;
}

/** Python `==` between a predicted name (any JSON value) and a gold name (string or None). */
function pyEqualName(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return (a === null || a === undefined) && (b === null || b === undefined);
}

/**
 * The reference OpenFugu action reward, exactly (trotsky1997/OpenFugu `train/toolscale_data.py`,
 * `_parse_plan` + `_score`): `0.7·(0.6·name recall + 0.4·ordered prefix) + 0.3·argument match`.
 *
 * - the plan is the first `<answer>…</answer>` (case-insensitive), parsed as JSON, or — on failure —
 *   with every `'` replaced by `"`; anything else (or a non-list) scores 0;
 * - items are the dicts with a `name` key; `arguments` defaults to `{}` when falsy;
 * - name recall: fraction of gold names present anywhere in the plan; ordered prefix: length of the
 *   common prefix of names / gold count;
 * - argument match: each gold action takes the first unused predicted call of the same name and scores
 *   the fraction of its non-null gold arguments whose Python `str()` is equal (`1` for no arguments); the
 *   sum is divided by the gold count; a non-dict `arguments` there makes Python raise, and the reward 0;
 * - `compare_args` is ignored and an empty gold list scores 0, as in the reference;
 * - extra calls are not penalised: a plan padded with any number of calls after the gold ones scores 1.
 *
 * Gold numbers that are integral print as Python ints (the gold JSON's `5.0` vs `5` is not known here).
 */
export const openfuguActionReward: Reward<ActionReference, Partial<OpenfuguActionDetails>> = defineReward<
  ActionReference,
  OpenfuguActionDetails
>('openfugu_action', { min: 0, max: 1 }, (completion, reference) => {
  const gold = goldOf(reference).map((action) => {
    const args: Record<string, unknown> = {};
    if (isRecord(action.arguments)) {
      for (const [key, value] of Object.entries(action.arguments))
        if (value !== null && value !== undefined) args[key] = value;
    }
    return { name: action.name as unknown, arguments: args };
  });
  const empty = {
    nameRecall: 0,
    orderedPrefix: 0,
    argumentMatch: 0,
    predictedCount: 0,
    goldCount: gold.length,
  };
  const body = firstAnswerBlock(`<think>${completion}`);
  if (body === undefined) return { reward: 0, details: { unparsed: true, ...empty } };
  let decoded = pythonJsonLoads(body);
  if (!decoded.ok) decoded = pythonJsonLoads(body.replace(/'/g, '"'));
  if (!decoded.ok || !Array.isArray(decoded.value))
    return { reward: 0, details: { unparsed: true, ...empty } };
  const predicted = decoded.value
    .filter((item): item is Record<string, unknown> => isRecord(item) && Object.hasOwn(item, 'name'))
    .map((item) => ({ name: item.name, arguments: truthy(item.arguments) ? item.arguments : {} }));
  const details = { ...empty, predictedCount: predicted.length };
  if (gold.length === 0) return { reward: 0, details: { unparsed: false, ...details } };
  const nameHit = gold.filter((g) => predicted.some((p) => pyEqualName(p.name, g.name))).length / gold.length;
  let order = 0;
  while (
    order < Math.min(gold.length, predicted.length) &&
    pyEqualName(predicted[order]!.name, gold[order]!.name)
  )
    order++;
  const orderFraction = order / gold.length;
  const used = new Set<number>();
  let argumentSum = 0;
  for (const g of gold) {
    const index = predicted.findIndex((p, i) => !used.has(i) && pyEqualName(p.name, g.name));
    if (index === -1) continue;
    used.add(index);
    const keys = Object.keys(g.arguments);
    if (keys.length === 0) {
      argumentSum += 1;
      continue;
    }
    const args = predicted[index]!.arguments;
    if (!isRecord(args)) {
      // Python: `pa.get(k)` on a list/str/number raises AttributeError, caught → reward 0.0
      return { reward: 0, details: { unparsed: false, ...details } };
    }
    const hit = keys.filter(
      (key) => pythonStr(Object.hasOwn(args, key) ? args[key] : null) === pythonStr(g.arguments[key]),
    ).length;
    argumentSum += hit / keys.length;
  }
  const argumentMatch = argumentSum / gold.length;
  const reward = 0.7 * (0.6 * nameHit + 0.4 * orderFraction) + 0.3 * argumentMatch;
  return {
    reward,
    details: {
      unparsed: false,
      ...details,
      nameRecall: nameHit,
      orderedPrefix: orderFraction,
      argumentMatch,
    },
  };
});

/**
 * The reference OpenFugu format reward, exactly: 1 when `"<think>" + completion` contains an
 * `<answer>…</answer>` block and a `</think>`, else 0 (the reference prompt ends with `<think>`).
 */
export const openfuguFormatReward: Reward<unknown, Partial<{ matched: boolean }>> = defineReward<
  unknown,
  { matched: boolean }
>('openfugu_format', { min: 0, max: 1 }, (completion) => {
  const text = `<think>${completion}`;
  const matched = firstAnswerBlock(text) !== undefined && text.includes('</think>');
  return { reward: matched ? 1 : 0, details: { matched } };
});

// ---------------------------------------------------------------------------------------------
// our default action reward

/** Options of {@link createActionReward}. */
export interface ActionRewardOptions {
  /** Share of a matched pair's credit given for the right tool name; the rest scales with arguments. Default 0.5. */
  readonly nameWeight?: number;
  /** Weight of the order term (fraction of matched pairs in gold order). Default 0.2. */
  readonly orderWeight?: number;
  /** A hallucinated call (tool not in the task's set) counts as this many extra calls. Default 2. */
  readonly hallucinationPenalty?: number;
  /** Numbers within this absolute tolerance are equal. Default 0. */
  readonly numericTolerance?: number;
  /** Honour gold `compare_args`. Default true. */
  readonly respectCompareArgs?: boolean;
}

/** Details of {@link actionReward}. */
export interface ActionRewardDetails {
  /** Output format read, `null` when nothing could be read. */
  format: ParsedToolCalls['format'];
  /** The output could not be read at all: reward 0. */
  unparsed: boolean;
  /** Parts of the output that could not be read as calls (each counts as an extra call). */
  invalidCalls: number;
  repaired: RepairKind[];
  precision: number;
  recall: number;
  orderScore: number;
  match: Pick<ActionMatch, 'pairs' | 'missing' | 'extra' | 'hallucinated' | 'exactMatch'>;
}

/** Issues that stand for one unreadable call (e.g. a `<tool_call>` block that is not JSON). */
const INVALID_CALL_CODES = new Set(['invalid_call', 'missing_name', 'invalid_arguments', 'invalid_json']);

/**
 * Creates our default action reward: an F1 score over one-to-one matched calls in which each pair earns
 * `nameWeight + (1 − nameWeight)·argumentScore`, precision counts extra calls (hallucinated ones
 * `hallucinationPenalty` times, unreadable ones once), and the order of the matched pairs scales it by
 * `1 − orderWeight·(1 − orderScore)`. Unparseable output scores 0; empty gold scores 1 only for an
 * empty answer. The value is 1 exactly when the answer is the gold list, in order.
 *
 * The completion is read with {@link parseToolCalls} (an `<answer>` block when there is one, else
 * Hermes, OpenAI, JSON or pythonic calls); format faults are the format reward's business.
 */
export function createActionReward(
  options: ActionRewardOptions = {},
): Reward<ActionReference, Partial<ActionRewardDetails>> {
  const nameWeight = clamp01(options.nameWeight ?? 0.5);
  const orderWeight = clamp01(options.orderWeight ?? 0.2);
  const hallucinationPenalty = Math.max(1, options.hallucinationPenalty ?? 2);
  return defineReward<ActionReference, ActionRewardDetails>(
    'action',
    { min: 0, max: 1 },
    (completion, reference) => {
      const gold = goldOf(reference);
      const tools = toolNamesOf(reference);
      const parsed = parseToolCalls(completion);
      const invalidCalls = parsed.issues.filter((issue) => INVALID_CALL_CODES.has(issue.code)).length;
      const calls: ToolCall[] = parsed.calls;
      const match = matchActions(calls, gold, {
        ...(tools === undefined ? {} : { tools }),
        ...(options.numericTolerance === undefined ? {} : { numericTolerance: options.numericTolerance }),
        ...(options.respectCompareArgs === undefined
          ? {}
          : { respectCompareArgs: options.respectCompareArgs }),
      });
      const unparsed = parsed.format === null || (!parsed.ok && calls.length === 0);
      const base = {
        format: parsed.format,
        unparsed,
        invalidCalls,
        repaired: parsed.repaired,
        orderScore: match.orderScore,
        match: {
          pairs: match.pairs,
          missing: match.missing,
          extra: match.extra,
          hallucinated: match.hallucinated,
          exactMatch: match.exactMatch,
        },
      };
      if (unparsed) return { reward: 0, details: { ...base, precision: 0, recall: 0 } };
      const credit = match.pairs.reduce(
        (sum, pair) => sum + nameWeight + (1 - nameWeight) * pair.argumentScore,
        0,
      );
      const predictedWeight =
        calls.length + invalidCalls + (hallucinationPenalty - 1) * match.hallucinated.length;
      if (gold.length === 0) {
        const reward = predictedWeight === 0 ? 1 : 0;
        return { reward, details: { ...base, precision: reward, recall: 1 } };
      }
      const precision = predictedWeight === 0 ? 0 : credit / predictedWeight;
      const recall = credit / gold.length;
      const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
      const reward = f1 * (1 - orderWeight * (1 - match.orderScore));
      return { reward, details: { ...base, precision, recall } };
    },
  );
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/**
 * Our default action reward ({@link createActionReward} with its defaults).
 *
 * @example
 * ```ts
 * const gold = [{ name: 'get_user_details', arguments: { user_id: 'u1' } }];
 * actionReward('<think>x</think><answer>[{"name":"get_user_details","arguments":{"user_id":"u1"}}]</answer>', gold); // 1
 * ```
 */
export const actionReward: Reward<ActionReference, Partial<ActionRewardDetails>> = createActionReward();
