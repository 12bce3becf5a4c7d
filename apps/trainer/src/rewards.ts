/**
 * The rewards the server offers, by name: thin adapters over @openfugu/verify and @openfugu/conductor.
 * Every entry is total — any completion and any reference give a finite number and JSON details.
 */
import {
  conductorReward,
  numericAnswerScore,
  referenceActionScorer,
  verifyActionScorer,
  workflowFormatReward,
} from '@openfugu/conductor';
import {
  type ActionReference,
  actionReward,
  type BfclReference,
  bfclCompletionReward,
  composeRewards,
  formatReward,
  openfuguActionReward,
  openfuguFormatReward,
} from '@openfugu/verify';

/** One scored item. */
export interface ScoredItem {
  reward: number;
  details: unknown;
}

/** A named reward: `(completion, reference, item) → reward + details`; never throws. */
export interface RewardKind {
  description: string;
  /** Whether a reference is required (a missing one is a 400, not a silent 0). */
  needsReference: boolean;
  score(completion: string, reference: unknown, item: Readonly<Record<string, unknown>>): ScoredItem;
}

const openfuguSum = composeRewards<ActionReference>([
  { fn: openfuguFormatReward, weight: 1, name: 'format' },
  { fn: openfuguActionReward, weight: 1, name: 'action' },
]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The registry of reward kinds. */
export const REWARD_KINDS: Readonly<Record<string, RewardKind>> = {
  action: {
    description:
      '@openfugu/verify actionReward: F1 over matched tool calls (extra/hallucinated/unreadable calls penalised), order-scaled; reference = gold actions, a tau2 task, or {actions, tools}',
    needsReference: true,
    score: (c, r) => actionReward.details(c, r as ActionReference),
  },
  openfugu_action: {
    description:
      'the reference OpenFugu action reward: 0.7·(0.6·name recall + 0.4·ordered prefix) + 0.3·argument match (does not penalise extra calls)',
    needsReference: true,
    score: (c, r) => openfuguActionReward.details(c, r as ActionReference),
  },
  format: {
    description:
      '<think>…</think><answer>[json calls]</answer> format reward: 1 exact, 0.5 readable after repairs, 0 none',
    needsReference: false,
    score: (c) => formatReward.details(c, null),
  },
  openfugu_format: {
    description: 'the reference OpenFugu format reward (1 when the think/answer layout matches, else 0)',
    needsReference: false,
    score: (c) => openfuguFormatReward.details(c, null),
  },
  openfugu: {
    description: 'the reference OpenFugu training reward: openfugu_format + openfugu_action (range 0–2)',
    needsReference: true,
    score: (c, r) => openfuguSum.details(c, r as ActionReference),
  },
  bfcl: {
    description:
      'BFCL AST checker on the decoded calls: 1 valid, 0 not; reference = a BFCL entry {category, function, possible_answer}',
    needsReference: true,
    score: (c, r) => bfclCompletionReward.details(c, r as BfclReference),
  },
  numeric: {
    description:
      'final-number match (GSM8K "#### N", \\boxed{}, "answer is"); reference = a number or a GSM8K answer',
    needsReference: true,
    score: (c, r) => {
      const ref = typeof r === 'number' || typeof r === 'string' ? r : String(r);
      let reward = 0;
      try {
        reward = numericAnswerScore(c, ref);
      } catch {
        reward = 0;
      }
      return { reward: Number.isFinite(reward) ? reward : 0, details: {} };
    },
  },
  conductor_format: {
    description:
      'Conductor workflow format/validity: 0 none, 0.25 undecodable lists, 0.5 decoded with errors, 1 valid; reference (optional) = {pool, allowedWorkers, maxSteps}',
    needsReference: false,
    score: (c, r) => {
      const o = isRecord(r) ? r : {};
      const reward = workflowFormatReward(c, {
        ...(o.pool === undefined ? {} : { pool: o.pool as never }),
        ...(Array.isArray(o.allowedWorkers) ? { allowedWorkers: o.allowedWorkers as string[] } : {}),
        ...(typeof o.maxSteps === 'number' ? { maxSteps: o.maxSteps } : {}),
      });
      return { reward, details: {} };
    },
  },
  conductor: {
    description:
      'Conductor rollout reward: format + answer score − step/cost penalties; item.answer = the workflow answer, reference = {reference, scorer: numeric|action|openfugu_action, pool?, stepPenalty?, weights?}',
    needsReference: true,
    score: (c, r, item) => {
      const o = isRecord(r) ? r : { reference: r };
      const scorerName = o.scorer ?? 'numeric';
      const answer = typeof item.answer === 'string' ? item.answer : undefined;
      const common = {
        plannerOutput: c,
        answer,
        ...(o.pool === undefined ? {} : { pool: o.pool as never }),
        ...(typeof o.maxSteps === 'number' ? { maxSteps: o.maxSteps } : {}),
        ...(typeof o.stepPenalty === 'number' ? { stepPenalty: o.stepPenalty } : {}),
        ...(isRecord(o.weights) ? { weights: o.weights as { format?: number; answer?: number } } : {}),
      };
      const result =
        scorerName === 'action'
          ? conductorReward({
              ...common,
              reference: o.reference as ActionReference,
              scorer: verifyActionScorer,
            })
          : scorerName === 'openfugu_action'
            ? conductorReward({
                ...common,
                reference: o.reference as ActionReference,
                scorer: referenceActionScorer,
              })
            : conductorReward({
                ...common,
                reference: (typeof o.reference === 'number' ? o.reference : String(o.reference ?? '')) as
                  | number
                  | string,
                scorer: numericAnswerScore,
              });
      return { reward: result.reward, details: result };
    },
  },
};

/** Scores one item with a kind; a throw inside (never expected) becomes reward 0 with the error in details. */
export function scoreItem(
  kind: RewardKind,
  completion: string,
  reference: unknown,
  item: Readonly<Record<string, unknown>> = {},
): ScoredItem {
  try {
    const result = kind.score(completion, reference, item);
    return Number.isFinite(result.reward) ? result : { reward: 0, details: { error: 'non-finite reward' } };
  } catch (error) {
    return { reward: 0, details: { error: error instanceof Error ? error.message : String(error) } };
  }
}
