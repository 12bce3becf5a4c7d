/**
 * Types the conductor adds on top of `@openfugu/schema` (the workflow, pool and worker types live there).
 */
import type { Price, ValidationIssue, Workflow } from '@openfugu/schema';

/** Stable codes of the problems the parser and the validator report. Never rename one: users match on them. */
export type WorkflowIssueCode =
  /** The text is empty or whitespace. */
  | 'empty_input'
  /** No workflow at all: no labelled lists, no JSON steps (e.g. the model answered or wrote code instead). */
  | 'not_a_workflow'
  /** Some but not all of the three lists were found. */
  | 'missing_list'
  /** A list was found after its label but is not a readable literal (unbalanced, unterminated, too deep). */
  | 'malformed_list'
  /** The three lists have different lengths. */
  | 'unequal_lengths'
  /** The workflow has no step. */
  | 'empty_workflow'
  /** More steps than allowed. Reported, never cut: the workflow keeps every step. */
  | 'too_many_steps'
  /** A worker id is not a non-empty string. */
  | 'bad_worker'
  /** A subtask is not a string, or is empty. */
  | 'bad_subtask'
  /** An access entry is neither `"all"` nor a list of non-negative integers. */
  | 'bad_access'
  /** A step may only see earlier steps; it names itself or a later step. */
  | 'forward_reference'
  /** A worker id is not in the pool (validator). */
  | 'unknown_worker'
  /** A worker is in the pool but not in the request's allowed subset (k-of-n pools; validator). */
  | 'worker_not_allowed'
  /** Warning: a value was read leniently (bare words, numeric strings, `['all', 0]`, duplicates). */
  | 'coerced_value'
  /** Warning: a JSON step omitted its access (read as `[]`). */
  | 'missing_access';

/** Errors make a workflow unusable; warnings record a lenient reading. */
export type IssueSeverity = 'error' | 'warning';

/** One problem found in a planner's output or a workflow. `path` is JSON-pointer-like (`/steps/2/access`). */
export interface WorkflowIssue extends ValidationIssue {
  code: WorkflowIssueCode;
  severity: IssueSeverity;
  /** 0-based step the issue is about, when it is about one step. */
  step?: number;
}

/**
 * A pool member as the conductor needs it. Accepts a `WorkerDescriptor` from @openfugu/schema
 * (`{ id, model, description?, price? }`), a plain id string, or anything with an `id`.
 */
export interface PoolMemberInfo {
  id: string;
  /** Display name shown to the planner (defaults to `model`, then nothing). */
  name?: string;
  /** Upstream model name (the schema's `WorkerDescriptor.model`). */
  model?: string;
  /** What this worker is good at; only the first line is shown to the planner. */
  description?: string;
  /** US dollars per one million tokens. */
  price?: Price;
}

/** A pool as accepted everywhere in this package: worker ids or descriptors (mixed is fine). */
export type PoolInput = readonly (string | PoolMemberInfo)[];

/** The paper's raw three-list form, e.g. as decoded from `model_id: [...]`, `subtasks: [...]`, `access_list: [...]`. */
export interface WorkflowLists {
  modelIds: readonly unknown[];
  subtasks: readonly unknown[];
  accessList: readonly unknown[];
}

/** Output formats the planner can be asked for. */
export type WorkflowFormat = 'lists' | 'json';

/** Result of `parseWorkflow`. */
export interface ParseWorkflowResult {
  /**
   * The workflow as the model wrote it, whenever the text decodes to one (all three lists of equal length,
   * or JSON steps) — also when it has errors such as `too_many_steps` or `forward_reference`, so rewards and
   * logs can inspect it. Check `ok` (or run `validateWorkflow`) before executing it.
   */
  workflow?: Workflow;
  /** True when `workflow` is present and no issue is an error. */
  ok: boolean;
  /** Every problem found, errors and warnings. */
  issues: WorkflowIssue[];
  /** Which form was recognised; `'none'` when neither. */
  format: WorkflowFormat | 'none';
}

/** Result of `validateWorkflow`. */
export interface ValidateWorkflowResult {
  /** True when no issue is an error. */
  ok: boolean;
  issues: WorkflowIssue[];
}
