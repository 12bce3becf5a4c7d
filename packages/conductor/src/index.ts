/**
 * @openfugu/conductor — workflows a planner LLM writes, validated and executed as a real DAG.
 */

// Types of sibling packages that this package's API takes or returns, re-exported so that users name them
// from here (checked by tools/scripts/check-reexports.mjs in `pnpm lint`).
export type {
  AbortSignalLike,
  ChatMessage,
  OpenFuguError,
  Price,
  Usage,
  ValidationIssue,
  Worker,
  WorkerResponse,
  Workflow,
} from '@openfugu/schema';
export type { ActionReference } from '@openfugu/verify';
export {
  type ExecuteWorkflowOptions,
  executeWorkflow,
  type FailurePolicy,
  type StepStatus,
  type StepTrace,
  type WorkerSet,
  type WorkflowExecution,
  workflowDependencies,
} from './execute.js';
export { type Literal, type LiteralResult, MAX_LITERAL_DEPTH, readLiteral } from './literal.js';
export { type ParseWorkflowOptions, parseWorkflow } from './parse.js';
export { normalisePool, poolIds } from './pool.js';
export {
  buildConductorMessages,
  buildConductorPrompt,
  buildRevisionPrompt,
  type ConductorPromptOptions,
  formatNumberedWorkflow,
  formatWorkflow,
  type RevisionPromptOptions,
} from './prompt.js';
export {
  type AnswerScorer,
  type ConductorReward,
  type ConductorRewardInput,
  conductorReward,
  extractFinalNumber,
  type FormatRewardOptions,
  numericAnswerScore,
  referenceActionScorer,
  safeScorer,
  toolActionScorer,
  verifyActionScorer,
  workflowCost,
  workflowFormatReward,
} from './rewards.js';
export {
  type ConductorResult,
  type ConductorRound,
  type ConductorStopReason,
  type RunConductorOptions,
  runConductor,
} from './run-conductor.js';
export {
  buildFinalCallMessages,
  buildStepMessages,
  type StepContext,
  type VisibleStep,
} from './step-prompt.js';
export type {
  IssueSeverity,
  ParseWorkflowResult,
  PoolInput,
  PoolMemberInfo,
  ValidateWorkflowResult,
  WorkflowFormat,
  WorkflowIssue,
  WorkflowIssueCode,
  WorkflowLists,
} from './types.js';
export { type ValidateWorkflowOptions, validateWorkflow } from './validate.js';
