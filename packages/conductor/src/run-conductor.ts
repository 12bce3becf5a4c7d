/**
 * `runConductor`: the planner writes a workflow, the workflow runs, and in revise rounds the planner sees its
 * previous workflow and answer and may revise (test-time scaling by recursion).
 */
import {
  type AbortSignalLike,
  addUsage,
  type ChatMessage,
  emptyUsage,
  type Usage,
  type Worker,
  type WorkerResponse,
  type Workflow,
} from '@openfugu/schema';
import {
  type ExecuteWorkflowOptions,
  executeWorkflow,
  type WorkerSet,
  type WorkflowExecution,
} from './execute.js';
import { parseWorkflow } from './parse.js';
import { normalisePool } from './pool.js';
import { buildConductorPrompt, buildRevisionPrompt, type ConductorPromptOptions } from './prompt.js';
import type { ParseWorkflowResult, PoolInput, ValidateWorkflowResult, WorkflowFormat } from './types.js';
import { validateWorkflow } from './validate.js';

/** Options of `runConductor`. */
export interface RunConductorOptions
  extends Omit<ExecuteWorkflowOptions, 'question' | 'workers' | 'maxSteps' | 'signal'> {
  /** The planner: any `Worker` (e.g. an LLM behind an OpenAI-compatible upstream). */
  planner: Worker;
  /** The pool shown to the planner: ids or descriptors. */
  pool: PoolInput;
  /** The workers that run the steps. */
  workers: WorkerSet;
  /** The user's question. */
  question: string;
  /** Rounds in total (1 = plan once, no revision). Default 1. */
  maxRounds?: number;
  /** The request's allowed subset of the pool (k-of-n). Default: the whole pool. */
  allowedWorkers?: readonly string[];
  /** Planner output format. Default `'lists'`. */
  format?: WorkflowFormat;
  /** Most steps per workflow. Default 5. */
  maxSteps?: number;
  /** Show prices to the planner. Default false. */
  includePrices?: boolean;
  /**
   * Show the planner a numbered worker list and read integer worker ids as indices into it (planners trained
   * on the paper's prompts write `model_id: [1, 0, 2]`). Default false.
   */
  numberedWorkers?: boolean;
  /** The tools the client offers the last step, shown to the planner (see `ConductorPromptOptions.tools`). */
  tools?: ConductorPromptOptions['tools'];
  /** Sampling settings for the planner call. */
  plannerMaxTokens?: number;
  plannerTemperature?: number;
  /** Aborts the planner calls and the workflow runs. */
  signal?: AbortSignalLike;
}

/** One planning round. */
export interface ConductorRound {
  /** 1-based round number. */
  round: number;
  /** The planner's raw reply. */
  plannerOutput: string;
  plannerUsage: Usage;
  parse: ParseWorkflowResult;
  validation: ValidateWorkflowResult;
  /** The run, when the workflow was valid and new. */
  execution?: WorkflowExecution;
  /** True when the planner repeated the previous round's workflow (the run is not repeated). */
  unchanged: boolean;
}

/** Why `runConductor` stopped. */
export type ConductorStopReason = 'unchanged' | 'max_rounds' | 'invalid_workflow' | 'execution_failed';

/** Result of `runConductor`. */
export interface ConductorResult {
  /** The answer of the last round whose workflow completed; `undefined` when none did. */
  answer: string | undefined;
  /** The finish reason of the call that produced `answer`, when its worker reported one (`length`: cut). */
  finishReason?: WorkerResponse['finishReason'];
  /** The workflow that produced `answer`. */
  workflow?: Workflow;
  rounds: ConductorRound[];
  stopReason: ConductorStopReason;
  /** Planner plus workers, all rounds. */
  usage: Usage;
}

function sameWorkflow(a: Workflow, b: Workflow): boolean {
  return JSON.stringify(a.steps) === JSON.stringify(b.steps);
}

/**
 * Plans and runs: round 1 asks the planner for a workflow (`buildConductorPrompt`), parses and validates it
 * against the pool and the allowed subset, and executes it. Each further round (up to `maxRounds`) shows the
 * planner its previous workflow and answer (`buildRevisionPrompt`, appended to the same conversation); an
 * identical workflow stops the loop without re-running it. An invalid workflow or a failed run stops the
 * loop too; the answer is then the last successful round's, if any. A planner call that fails rejects (the
 * planner's own error, e.g. an `UpstreamError`), as does an abort (`AbortedError`).
 *
 * @example
 * ```ts
 * const result = await runConductor({ planner, pool: descriptors, workers, question, maxRounds: 2 });
 * result.answer; result.rounds.length; result.stopReason;
 * ```
 */
export async function runConductor(options: RunConductorOptions): Promise<ConductorResult> {
  const maxRounds = Math.max(1, Math.floor(options.maxRounds ?? 1));
  const format = options.format ?? 'lists';
  const allowed = options.allowedWorkers;
  const pool = allowed
    ? normalisePool(options.pool).filter((member) => allowed.includes(member.id))
    : normalisePool(options.pool);
  const promptOptions: Parameters<typeof buildConductorPrompt>[0] = {
    question: options.question,
    pool,
    format,
  };
  if (options.maxSteps !== undefined) promptOptions.maxSteps = options.maxSteps;
  if (options.includePrices !== undefined) promptOptions.includePrices = options.includePrices;
  if (options.numberedWorkers !== undefined) promptOptions.numberedWorkers = options.numberedWorkers;
  if (options.tools !== undefined) promptOptions.tools = options.tools;
  const messages: ChatMessage[] = [{ role: 'user', content: buildConductorPrompt(promptOptions) }];
  // The numbered list is the one the planner was shown: the allowed subset of the pool, in order.
  const numbered = options.numberedWorkers === true ? pool.map((member) => member.id) : undefined;

  const {
    planner,
    pool: _pool,
    workers,
    question,
    maxRounds: _maxRounds,
    allowedWorkers: _allowed,
    format: _format,
    includePrices: _includePrices,
    numberedWorkers: _numberedWorkers,
    tools: _tools,
    plannerMaxTokens,
    plannerTemperature,
    signal,
    ...executeRest
  } = options;
  const rounds: ConductorRound[] = [];
  let usage = emptyUsage();
  let answer: string | undefined;
  let answerFinish: WorkerResponse['finishReason'];
  let answerWorkflow: Workflow | undefined;
  let previous: Workflow | undefined;
  let stopReason: ConductorStopReason = 'max_rounds';

  for (let round = 1; round <= maxRounds; round++) {
    const request: Parameters<Worker['complete']>[0] = { messages: [...messages] };
    if (plannerMaxTokens !== undefined) request.maxTokens = plannerMaxTokens;
    if (plannerTemperature !== undefined) request.temperature = plannerTemperature;
    const reply = await planner.complete(request, signal ? { signal } : {});
    const plannerOutput = typeof reply.content === 'string' ? reply.content : '';
    const plannerUsage = addUsage(emptyUsage(), reply.usage);
    usage = addUsage(usage, plannerUsage);
    const parseOptions: Parameters<typeof parseWorkflow>[1] = {};
    if (options.maxSteps !== undefined) parseOptions.maxSteps = options.maxSteps;
    if (numbered) parseOptions.numberedWorkers = numbered;
    const parse = parseWorkflow(plannerOutput, parseOptions);
    const validateOptions: Parameters<typeof validateWorkflow>[2] = {};
    if (options.maxSteps !== undefined) validateOptions.maxSteps = options.maxSteps;
    if (allowed) validateOptions.allowedWorkers = allowed;
    const validation: ValidateWorkflowResult = parse.workflow
      ? validateWorkflow(parse.workflow, options.pool, validateOptions)
      : { ok: false, issues: parse.issues };
    const entry: ConductorRound = {
      round,
      plannerOutput,
      plannerUsage,
      parse,
      validation,
      unchanged: false,
    };
    rounds.push(entry);
    if (!parse.workflow || !parse.ok || !validation.ok) {
      stopReason = 'invalid_workflow';
      break;
    }
    const workflow = parse.workflow;
    if (previous && sameWorkflow(previous, workflow)) {
      entry.unchanged = true;
      stopReason = 'unchanged';
      break;
    }
    const executeOptions: ExecuteWorkflowOptions = { ...executeRest, question, workers };
    if (options.maxSteps !== undefined) executeOptions.maxSteps = options.maxSteps;
    if (signal) executeOptions.signal = signal;
    // A round the planner may still revise is not final: a later round's answer could replace its answer.
    executeOptions.markFinalStep = round === maxRounds && executeRest.markFinalStep !== false;
    const execution = await executeWorkflow(workflow, executeOptions);
    entry.execution = execution;
    usage = addUsage(usage, execution.usage);
    if (execution.status !== 'completed' || execution.answer === undefined) {
      stopReason = 'execution_failed';
      break;
    }
    answer = execution.answer;
    answerFinish = execution.finishReason;
    answerWorkflow = workflow;
    previous = workflow;
    messages.push(
      { role: 'assistant', content: plannerOutput },
      {
        role: 'user',
        content: buildRevisionPrompt({
          previousWorkflow: workflow,
          previousAnswer: answer,
          format,
          ...(numbered ? { numberedWorkers: numbered } : {}),
        }),
      },
    );
  }
  const result: ConductorResult = { answer, rounds, stopReason, usage };
  if (answerWorkflow) result.workflow = answerWorkflow;
  if (answer !== undefined && answerFinish !== undefined) result.finishReason = answerFinish;
  return result;
}
