/**
 * Gold references: tau2-bench / ToolScale action lists and BFCL questions with possible answers.
 * Shapes follow the upstream files in ../shared/data (see its README).
 */
import { type Static, Type } from '@sinclair/typebox';
import { ToolSpecSchema } from './chat.js';

/**
 * One reference action of a tau2-bench task (`evaluation_criteria.actions[i]`).
 * `compare_args`: when present, only these arguments are compared (`[]` = the name only).
 * Arguments whose value is `null` are treated as absent by the matchers.
 */
export const GoldActionSchema = Type.Object({
  action_id: Type.Optional(Type.String()),
  name: Type.String(),
  arguments: Type.Record(Type.String(), Type.Unknown()),
  info: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  compare_args: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  requestor: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('assistant')])),
});
export type GoldAction = Static<typeof GoldActionSchema>;

/** `evaluation_criteria` of a tau2-bench task (fields other than `actions` kept open). */
export const EvaluationCriteriaSchema = Type.Object(
  {
    actions: Type.Optional(Type.Union([Type.Array(GoldActionSchema), Type.Null()])),
    communicate_info: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
    nl_assertions: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
    reward_basis: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  },
  { additionalProperties: true },
);
export type EvaluationCriteria = Static<typeof EvaluationCriteriaSchema>;

/** A tau2-bench task (the fields OpenFugu reads; the rest is kept). */
export const Tau2TaskSchema = Type.Object(
  {
    id: Type.String(),
    description: Type.Optional(Type.Unknown()),
    user_scenario: Type.Optional(Type.Unknown()),
    ticket: Type.Optional(Type.String()),
    evaluation_criteria: Type.Optional(Type.Union([EvaluationCriteriaSchema, Type.Null()])),
  },
  { additionalProperties: true },
);
export type Tau2Task = Static<typeof Tau2TaskSchema>;

/** A BFCL function document (parameter types are BFCL's own: `dict`, `float`, `tuple`, Java/JS types). */
export const BfclFunctionSchema = Type.Object(
  {
    name: Type.String(),
    description: Type.Optional(Type.String()),
    parameters: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: true },
);
export type BfclFunction = Static<typeof BfclFunctionSchema>;

/** A BFCL question row: `question` is a list of turns, each a list of messages. */
export const BfclQuestionSchema = Type.Object(
  {
    id: Type.String(),
    question: Type.Array(Type.Array(Type.Object({ role: Type.String(), content: Type.String() }))),
    function: Type.Array(BfclFunctionSchema),
  },
  { additionalProperties: true },
);
export type BfclQuestion = Static<typeof BfclQuestionSchema>;

/**
 * BFCL possible answer: one entry per expected call, `{ functionName: { param: [acceptable, ...] } }`.
 * `""` among the acceptable values means the parameter may be omitted.
 */
export const BfclPossibleAnswerSchema = Type.Array(
  Type.Record(Type.String(), Type.Record(Type.String(), Type.Array(Type.Unknown()))),
);
export type BfclPossibleAnswer = Static<typeof BfclPossibleAnswerSchema>;

/** A BFCL model output in the checker's decoded form: a list of `{ functionName: { param: value } }`. */
export const BfclModelOutputSchema = Type.Array(
  Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())),
);
export type BfclModelOutput = Static<typeof BfclModelOutputSchema>;

/** A tool set in OpenAI form, e.g. ../shared/data/tau2/airline/tools.json. */
export const ToolSetSchema = Type.Array(ToolSpecSchema);
