/** Routing decisions of the TRINITY router and rollout records of training runs. */
import { type Static, Type } from '@sinclair/typebox';

/** TRINITY roles, in head-row order: 0 Worker, 1 Thinker, 2 Verifier. */
export const ROLES = ['worker', 'thinker', 'verifier'] as const;
export const RoleSchema = Type.Union([
  Type.Literal('worker'),
  Type.Literal('thinker'),
  Type.Literal('verifier'),
]);
export type Role = Static<typeof RoleSchema>;

/** One routing decision: which agent (pool index and id), which role, and the head's scores. */
export const RoutingDecisionSchema = Type.Object({
  agentIndex: Type.Integer({ minimum: 0 }),
  agent: Type.String(),
  role: RoleSchema,
  agentLogits: Type.Array(Type.Number()),
  agentProbabilities: Type.Array(Type.Number()),
  roleLogits: Type.Optional(Type.Array(Type.Number())),
  roleProbabilities: Type.Optional(Type.Array(Type.Number())),
});
export type RoutingDecision = Static<typeof RoutingDecisionSchema>;

/** One sampled completion and its score, as written by rollout tools (JSONL). */
export const RolloutRecordSchema = Type.Object({
  promptId: Type.String(),
  prompt: Type.Unknown(),
  completion: Type.String(),
  reward: Type.Number(),
  advantage: Type.Optional(Type.Number()),
  group: Type.Optional(Type.Integer({ minimum: 0 })),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type RolloutRecord = Static<typeof RolloutRecordSchema>;
