/** `validateWorkflow`: a workflow checked against a pool and a request's limits. */
import { DEFAULT_MAX_WORKFLOW_STEPS, type Workflow } from '@openfugu/schema';
import { structuralIssues } from './parse.js';
import { normalisePool } from './pool.js';
import type { PoolInput, ValidateWorkflowResult, WorkflowIssue, WorkflowLists } from './types.js';

/** Options of `validateWorkflow`. */
export interface ValidateWorkflowOptions {
  /**
   * The request's allowed subset of the pool (k-of-n): ids outside it are `worker_not_allowed` errors.
   * Default: the whole pool.
   */
  allowedWorkers?: readonly string[];
  /** Most steps allowed. Default 5 (`DEFAULT_MAX_WORKFLOW_STEPS`). */
  maxSteps?: number;
  /**
   * The planner was shown the pool as a numbered list (`buildConductorPrompt({ numberedWorkers: true })`): a
   * worker given as an integer (`modelIds: [1, 0]`) is the pool member at that index. Default false.
   */
  numberedWorkers?: boolean;
}

function isLists(value: unknown): value is WorkflowLists {
  return typeof value === 'object' && value !== null && 'modelIds' in value;
}

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}

/**
 * Checks a workflow (or the raw three-list form) against a pool: at least one step, at most `maxSteps`,
 * equal list lengths, every worker in the pool and in the allowed subset, access `"all"` or indices of
 * earlier steps only. Total: any input gives a result, never a throw.
 *
 * `pool` may be worker ids or descriptors (`WorkerDescriptor` from @openfugu/schema).
 *
 * @example
 * ```ts
 * validateWorkflow(workflow, ['math', 'coder', 'writer'], { allowedWorkers: ['math', 'writer'] })
 * // { ok: false, issues: [{ code: 'worker_not_allowed', step: 1, ... }] } when step 1 uses 'coder'
 * ```
 */
export function validateWorkflow(
  workflow: Workflow | WorkflowLists,
  pool: PoolInput,
  options: ValidateWorkflowOptions = {},
): ValidateWorkflowResult {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_WORKFLOW_STEPS;
  const issues: WorkflowIssue[] = [];
  const done = (): ValidateWorkflowResult => ({
    ok: !issues.some((issue) => issue.severity === 'error'),
    issues,
  });

  let steps: { worker: unknown; subtask: unknown; access: unknown }[];
  if (isLists(workflow)) {
    const { modelIds, subtasks, accessList } = workflow;
    if (!Array.isArray(modelIds) || !Array.isArray(subtasks) || !Array.isArray(accessList)) {
      issues.push({
        code: 'missing_list',
        severity: 'error',
        path: '',
        message: 'all three lists are required',
      });
      return done();
    }
    if (modelIds.length !== subtasks.length || subtasks.length !== accessList.length) {
      issues.push({
        code: 'unequal_lengths',
        severity: 'error',
        path: '',
        message: `the lists must have equal lengths: model_id ${modelIds.length}, subtasks ${subtasks.length}, access_list ${accessList.length}`,
      });
      return done();
    }
    steps = modelIds.map((worker, index) => ({
      worker,
      subtask: subtasks[index],
      access: accessList[index],
    }));
  } else if (typeof workflow === 'object' && workflow !== null && Array.isArray(workflow.steps)) {
    steps = workflow.steps.map((step: unknown) =>
      typeof step === 'object' && step !== null
        ? (step as { worker: unknown; subtask: unknown; access: unknown })
        : { worker: undefined, subtask: undefined, access: undefined },
    );
  } else {
    issues.push({ code: 'not_a_workflow', severity: 'error', path: '', message: 'not a workflow object' });
    return done();
  }

  const members = normalisePool(pool);
  const known = new Set(members.map((member) => member.id));
  const lowerCase = new Map(members.map((member) => [member.id.toLowerCase(), member.id]));
  const allowed = options.allowedWorkers ? new Set(options.allowedWorkers) : undefined;
  const structural: Workflow = { steps: [] };

  steps.forEach((step, index) => {
    const path = `/steps/${index}`;
    const { subtask, access } = step;
    const worker =
      options.numberedWorkers === true && typeof step.worker === 'number'
        ? (members[step.worker]?.id ?? step.worker)
        : step.worker;
    if (typeof worker !== 'string' || worker === '') {
      issues.push({
        code: 'bad_worker',
        severity: 'error',
        step: index,
        path: `${path}/worker`,
        message: `step ${index}: worker must be a non-empty string, got ${describe(worker)}`,
      });
    } else if (!known.has(worker)) {
      const suggestion = lowerCase.get(worker.toLowerCase());
      issues.push({
        code: 'unknown_worker',
        severity: 'error',
        step: index,
        path: `${path}/worker`,
        message: `step ${index}: '${worker}' is not in the pool${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`,
      });
    } else if (allowed && !allowed.has(worker)) {
      issues.push({
        code: 'worker_not_allowed',
        severity: 'error',
        step: index,
        path: `${path}/worker`,
        message: `step ${index}: '${worker}' is not available for this request`,
      });
    }
    if (typeof subtask !== 'string' || subtask.trim() === '') {
      issues.push({
        code: 'bad_subtask',
        severity: 'error',
        step: index,
        path: `${path}/subtask`,
        message: `step ${index}: subtask must be a non-empty string`,
      });
    }
    if (access === 'all') {
      structural.steps.push({ worker: '', subtask: '', access: 'all' });
    } else if (
      Array.isArray(access) &&
      access.every((target) => typeof target === 'number' && Number.isInteger(target) && target >= 0)
    ) {
      structural.steps.push({ worker: '', subtask: '', access: access as number[] });
    } else {
      issues.push({
        code: 'bad_access',
        severity: 'error',
        step: index,
        path: `${path}/access`,
        message: `step ${index}: access must be "all" or a list of earlier 0-based step indices, got ${describe(access)}`,
      });
      structural.steps.push({ worker: '', subtask: '', access: [] });
    }
  });
  issues.push(...structuralIssues(structural, maxSteps));
  return done();
}
