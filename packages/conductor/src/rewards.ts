/**
 * Rewards for training planners: a format/validity reward, an answer reward through a pluggable scorer
 * (numeric match for maths; any injected action reward for tool tasks), optional step-count and cost
 * penalties. Every function here is total: any input gives a finite number, never a throw.
 */
import type { Usage } from '@openfugu/schema';
import { type ActionReference, actionReward, openfuguActionReward } from '@openfugu/verify';
import type { StepTrace } from './execute.js';
import { parseWorkflow } from './parse.js';
import { normalisePool } from './pool.js';
import type { PoolInput } from './types.js';
import { validateWorkflow } from './validate.js';

/** Scores an answer against a reference, in [0, 1]. May throw or return junk: wrap it with `safeScorer`. */
export type AnswerScorer<Reference> = (answer: string, reference: Reference) => number;

/** Options of `workflowFormatReward`. */
export interface FormatRewardOptions {
  /** When given, worker ids must be in it (and in `allowedWorkers`) for full marks. */
  pool?: PoolInput;
  allowedWorkers?: readonly string[];
  /** Default 5. */
  maxSteps?: number;
}

/**
 * Format/validity reward of a planner's output:
 * 0 — no workflow at all (empty, prose, code); 0.25 — lists found but not decodable (missing, malformed,
 * unequal lengths); 0.5 — decoded, but with errors (too many steps, forward references, bad access, unknown
 * or disallowed workers); 1 — a valid workflow (lenient-reading warnings are not penalised).
 *
 * @example
 * ```ts
 * workflowFormatReward("model_id: ['a']\nsubtasks: ['Answer']\naccess_list: [[]]", { pool: ['a'] }) // 1
 * ```
 */
export function workflowFormatReward(text: string, options: FormatRewardOptions = {}): number {
  try {
    const parseOptions = options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {};
    const parsed = parseWorkflow(typeof text === 'string' ? text : '', parseOptions);
    if (!parsed.workflow) return parsed.format === 'none' ? 0 : 0.25;
    if (!parsed.ok) return 0.5;
    if (options.pool) {
      const validateOptions: Parameters<typeof validateWorkflow>[2] = {};
      if (options.maxSteps !== undefined) validateOptions.maxSteps = options.maxSteps;
      if (options.allowedWorkers) validateOptions.allowedWorkers = options.allowedWorkers;
      if (!validateWorkflow(parsed.workflow, options.pool, validateOptions).ok) return 0.5;
    }
    return 1;
  } catch {
    return 0;
  }
}

const NUMBER = String.raw`[-+−]?(?:\$\s?)?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?/\s?\d+(?:\.\d+)?)?|[-+−]?\.\d+`;

function toNumber(token: string): number | undefined {
  const cleaned = token.replace(/[$,\s]/g, '').replace('−', '-');
  const slash = cleaned.indexOf('/');
  if (slash !== -1) {
    const numerator = Number(cleaned.slice(0, slash));
    const denominator = Number(cleaned.slice(slash + 1));
    if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) return undefined;
    return numerator / denominator;
  }
  const value = Number(cleaned);
  return Number.isFinite(value) ? value : undefined;
}

function lastNumberIn(text: string): number | undefined {
  const pattern = new RegExp(NUMBER, 'g');
  let last: string | undefined;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) last = match[0];
  return last === undefined ? undefined : toNumber(last);
}

function lastMatchTail(text: string, marker: RegExp, window: number): string | undefined {
  let tail: string | undefined;
  for (let match = marker.exec(text); match !== null; match = marker.exec(text)) {
    tail = text.slice(match.index + match[0].length, match.index + match[0].length + window);
  }
  return tail;
}

function firstNumberIn(text: string): number | undefined {
  const match = new RegExp(NUMBER).exec(text);
  return match ? toNumber(match[0]) : undefined;
}

/** The result of the last `= N` in the text (the last computed value), if any. */
function lastComputedResult(text: string): number | undefined {
  const pattern = new RegExp(`=\\s*(${NUMBER})`, 'g');
  let last: string | undefined;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) last = match[1];
  return last === undefined ? undefined : toNumber(last);
}

/**
 * The number a concluding sentence states. In the last sentence (or line) with a digit: the first number
 * after its last `=`; else the last computed result (`= N` anywhere) when the sentence repeats it ("The total
 * is $40 + $24 = $64. Kylar needs to pay $64 for the 16 glasses."); else the sentence's last number.
 */
function conclusionNumber(text: string): number | undefined {
  const sentences = text.trim().split(/\n+|[.!?](?=\s|$)/);
  for (let index = sentences.length - 1; index >= 0; index--) {
    const sentence = sentences[index]!;
    if (!/\d/.test(sentence)) continue;
    const equals = sentence.lastIndexOf('=');
    const afterEquals = equals === -1 ? undefined : firstNumberIn(sentence.slice(equals + 1));
    if (afterEquals !== undefined) return afterEquals;
    const result = lastComputedResult(text);
    const candidates: number[] = [];
    const pattern = new RegExp(NUMBER, 'g');
    for (let match = pattern.exec(sentence); match !== null; match = pattern.exec(sentence)) {
      const value = toNumber(match[0]);
      if (value !== undefined) candidates.push(value);
    }
    if (result !== undefined && candidates.includes(result)) return result;
    return candidates.at(-1);
  }
  return undefined;
}

/**
 * Extracts the final numeric answer of a maths solution, in order of preference: the number after the last
 * `####` (GSM8K), inside the last `\boxed{}`, after the last "answer is" / "answer:", else the number the
 * concluding sentence states (after its `=`, or the last computed `= N` it repeats, or its last number). Handles thousands separators (`1,234`), `$`, signs, decimals and fractions (`3/4`).
 *
 * @example
 * ```ts
 * extractFinalNumber('... so she earns $1,250.\n#### 1250') // 1250
 * extractFinalNumber('The answer is 3/4.') // 0.75
 * ```
 */
export function extractFinalNumber(text: string): number | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    const markers = [
      { marker: /####/g, window: 64, boxed: false },
      { marker: /\\boxed\{/g, window: 64, boxed: true },
      { marker: /answer(?: is|:)/gi, window: 48, boxed: false },
    ];
    for (const { marker, window, boxed } of markers) {
      const tail = lastMatchTail(text, marker, window);
      if (tail === undefined) continue;
      const value = firstNumberIn(boxed ? (tail.split('}')[0] ?? '') : tail);
      if (value !== undefined) return value;
    }
    return conclusionNumber(text) ?? lastNumberIn(text);
  } catch {
    return undefined;
  }
}

/**
 * Numeric answer match: 1 when the answer's final number equals the reference's (relative tolerance 1e-6),
 * else 0. `reference` may be a number, `'42'`, or a GSM8K answer field (`'... #### 42'`).
 *
 * @example
 * ```ts
 * numericAnswerScore('She makes 9 * $2 = $18 every day.', '#### 18') // 1
 * ```
 */
export function numericAnswerScore(answer: string, reference: number | string): number {
  const expected = typeof reference === 'number' ? reference : extractFinalNumber(String(reference));
  const actual = extractFinalNumber(answer);
  if (expected === undefined || actual === undefined || !Number.isFinite(expected)) return 0;
  return Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)) ? 1 : 0;
}

/**
 * Makes any scorer total: throws, `NaN`, infinities and non-numbers become 0; results are clamped to [0, 1].
 *
 * @example
 * ```ts
 * const score = safeScorer((answer, gold: Gold) => actionReward(answer, gold));
 * ```
 */
export function safeScorer<Reference>(scorer: AnswerScorer<Reference>): AnswerScorer<Reference> {
  return (answer, reference) => {
    try {
      const value = scorer(typeof answer === 'string' ? answer : '', reference);
      return typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
    } catch {
      return 0;
    }
  };
}

/**
 * A tool-task answer scorer from an injected action reward (e.g. @openfugu/verify's action reward against
 * gold actions): the final answer text is scored by `actionReward(answer, gold)`, made total.
 */
export function toolActionScorer<Gold>(
  actionReward: (output: string, gold: Gold) => number,
): AnswerScorer<Gold> {
  return safeScorer(actionReward);
}

/**
 * Tool-task scorer over @openfugu/verify's `actionReward` (calls parsed tolerantly from the final answer,
 * matched against the gold actions; extra and hallucinated calls are penalised, unlike the reference).
 *
 * @example
 * ```ts
 * conductorReward({ plannerOutput, answer: run.answer, reference: task.evaluation_criteria.actions, scorer: verifyActionScorer })
 * ```
 */
export const verifyActionScorer: AnswerScorer<ActionReference> = toolActionScorer(actionReward);

/**
 * Tool-task scorer reproducing the reference OpenFugu action reward (@openfugu/verify's
 * `openfuguActionReward`: `<answer>[json]</answer>`, 0.7·(0.6·name recall + 0.4·ordered prefix) + 0.3·argument
 * match; does not penalise extra calls). For comparisons with the reference; prefer `verifyActionScorer`.
 */
export const referenceActionScorer: AnswerScorer<ActionReference> = toolActionScorer(openfuguActionReward);

/**
 * Cost of a run in US dollars from the pool's prices (per 1M tokens); workers without a price cost 0.
 *
 * @example
 * ```ts
 * workflowCost(run.trace, descriptors) // e.g. 0.0042
 * ```
 */
export function workflowCost(
  trace: readonly Pick<StepTrace, 'worker' | 'ranBy' | 'usage'>[],
  pool: PoolInput,
): number {
  const prices = new Map(normalisePool(pool).map((member) => [member.id, member.price]));
  let total = 0;
  for (const entry of trace) {
    const price = prices.get(entry.ranBy ?? entry.worker);
    const usage: Usage = entry.usage;
    if (!price) continue;
    const cost = (usage.promptTokens * price.input + usage.completionTokens * price.output) / 1e6;
    if (Number.isFinite(cost)) total += cost;
  }
  return total;
}

/** Inputs of `conductorReward`. */
export interface ConductorRewardInput<Reference> {
  /** The planner's raw output. */
  plannerOutput: string;
  /** The workflow's answer (the last step's output); `undefined` when the run failed or never ran. */
  answer: string | undefined;
  /** Gold for the scorer (a number for maths, gold actions for tool tasks...). Never shown to the planner. */
  reference: Reference;
  /** Answer scorer, e.g. `numericAnswerScore` or `toolActionScorer(actionReward)`. */
  scorer: AnswerScorer<Reference>;
  /** Pool for the validity check and the cost penalty. */
  pool?: PoolInput;
  allowedWorkers?: readonly string[];
  maxSteps?: number;
  /** The run's trace, for the cost penalty. */
  trace?: readonly Pick<StepTrace, 'worker' | 'ranBy' | 'usage'>[];
  /** Weights of the two terms. Default `{ format: 1, answer: 1 }` (the reference's format + action sum). */
  weights?: { format?: number; answer?: number };
  /** Subtracted per workflow step. Default 0. */
  stepPenalty?: number;
  /** Subtracted per US dollar of run cost (needs `trace` and priced `pool`). Default 0. */
  costPenalty?: number;
}

/** The reward and its parts. */
export interface ConductorReward {
  reward: number;
  format: number;
  answer: number;
  steps: number;
  costUsd: number;
}

/**
 * Training reward of one planner rollout:
 * `weights.format · format + weights.answer · answer − stepPenalty · steps − costPenalty · costUsd`.
 * The answer term is 0 when there is no answer. Total: always finite, never throws.
 *
 * @example
 * ```ts
 * conductorReward({ plannerOutput, answer: run.answer, reference: 18, scorer: numericAnswerScore, stepPenalty: 0.02 })
 * ```
 */
export function conductorReward<Reference>(input: ConductorRewardInput<Reference>): ConductorReward {
  const finite = (value: number | undefined, fallback: number): number =>
    typeof value === 'number' && Number.isFinite(value) ? value : fallback;
  try {
    const formatOptions: FormatRewardOptions = {};
    if (input.pool) formatOptions.pool = input.pool;
    if (input.allowedWorkers) formatOptions.allowedWorkers = input.allowedWorkers;
    if (input.maxSteps !== undefined) formatOptions.maxSteps = input.maxSteps;
    const format = workflowFormatReward(input.plannerOutput, formatOptions);
    const answer =
      typeof input.answer === 'string' ? safeScorer(input.scorer)(input.answer, input.reference) : 0;
    const parsed = parseWorkflow(typeof input.plannerOutput === 'string' ? input.plannerOutput : '', {
      maxSteps: Number.MAX_SAFE_INTEGER,
    });
    const steps = parsed.workflow?.steps.length ?? 0;
    const costUsd = input.trace && input.pool ? workflowCost(input.trace, input.pool) : 0;
    const reward =
      finite(input.weights?.format, 1) * format +
      finite(input.weights?.answer, 1) * answer -
      finite(input.stepPenalty, 0) * steps -
      finite(input.costPenalty, 0) * costUsd;
    return { reward: finite(reward, 0), format, answer, steps, costUsd };
  } catch {
    return { reward: 0, format: 0, answer: 0, steps: 0, costUsd: 0 };
  }
}
