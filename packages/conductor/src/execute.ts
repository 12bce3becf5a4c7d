/**
 * `executeWorkflow`: runs a workflow as a DAG. A step depends on exactly the steps it may see (`"all"` = every
 * earlier step); steps whose dependencies are done run concurrently up to `concurrency`.
 */
import {
  AbortedError,
  type AbortSignalLike,
  addUsage,
  type ChatMessage,
  DEFAULT_MAX_WORKFLOW_STEPS,
  emptyUsage,
  InvalidArgumentError,
  OpenFuguError,
  TimeoutError,
  UpstreamError,
  type Usage,
  type Worker,
  type WorkerCallOptions,
  type WorkerResponse,
  type Workflow,
} from '@openfugu/schema';
import { buildStepMessages, type StepContext } from './step-prompt.js';
import { validateWorkflow } from './validate.js';

/**
 * What happens when a step still fails after its retries:
 * - `'fail'` (default): cancel the steps in flight, run nothing more; the run's status is `'failed'`.
 * - `{ fallback: id }`: run the step again on that worker (with the same retries); if that fails too, as `'fail'`.
 * - `'skip_dependants'`: skip every step that sees the failed step (directly or through others); independent
 *   steps still run. The run is `'failed'` when the last step did not complete.
 */
export type FailurePolicy = 'fail' | 'skip_dependants' | { fallback: string };

/** Workers by id: a list (keyed by `worker.id`), a record or a map (keyed by the key). */
export type WorkerSet = readonly Worker[] | Readonly<Record<string, Worker>> | ReadonlyMap<string, Worker>;

/** Options of `executeWorkflow`. */
export interface ExecuteWorkflowOptions {
  /** The user's question. */
  question: string;
  /** The workers the workflow names. */
  workers: WorkerSet;
  /** Most steps running at once. Default 4. */
  concurrency?: number;
  /** Show the user's question to every step. Default true (the reference never did). */
  includeQuestion?: boolean;
  /** Deadline per attempt in milliseconds; the worker's signal is aborted and the attempt fails with a `TimeoutError`. Default none. */
  stepTimeoutMs?: number;
  /** Extra attempts after a retryable failure (timeouts, retryable upstream errors, unknown errors). Default 1. */
  retries?: number;
  /** Wait before retry n (1-based) is `retryDelayMs * 2^(n-1)`. Default 200. */
  retryDelayMs?: number;
  /** Aborts the whole run: in-flight worker calls are aborted and the promise rejects with an `AbortedError`. */
  signal?: AbortSignalLike;
  /** See `FailurePolicy`. Default `'fail'`. */
  failurePolicy?: FailurePolicy;
  /** Most steps allowed; a longer workflow is refused (never cut). Default 5. */
  maxSteps?: number;
  /** Passed to every worker call. */
  maxTokens?: number;
  /** Passed to every worker call. */
  temperature?: number;
  /** Replaces the default step prompt (`buildStepMessages`). */
  stepMessages?: (context: StepContext) => ChatMessage[];
  /**
   * Mark the last step's call `final: true` in its call options ({@link FinalCallOptions}) when it starts after
   * every other step has settled: its output is then the run's answer unchanged, so a worker may stream it to
   * the client. Default true; `runConductor` passes false for rounds the planner may still revise.
   */
  markFinalStep?: boolean;
  /** Called once per step when it settles (completed, failed, skipped or cancelled). */
  onStep?: (trace: StepTrace) => void;
  /** Clock in milliseconds. Default `performance.now`. */
  now?: () => number;
}

/**
 * The per-call options `executeWorkflow` passes to `Worker.complete`: `WorkerCallOptions` plus `final`, set (to
 * `true`) only on the call whose output becomes the answer unchanged (see `markFinalStep`). Workers that do not
 * know the field ignore it. (A local extension: `@openfugu/schema`'s `Worker` is unchanged.)
 */
export interface FinalCallOptions extends WorkerCallOptions {
  /** True when this call's reply is the answer. */
  final?: boolean;
}

/** How a step ended. */
export type StepStatus = 'completed' | 'failed' | 'skipped' | 'cancelled';

/** What happened in one step. */
export interface StepTrace {
  /** 0-based step index. */
  step: number;
  /** The worker the planner chose. */
  worker: string;
  /** The worker that produced the output (differs from `worker` after a fallback). */
  ranBy?: string;
  subtask: string;
  /** Indices of the earlier steps whose subtask and output this step saw. */
  inputsSeen: number[];
  /** The messages sent to the worker (empty for a step that never started). */
  messages: ChatMessage[];
  /** The worker's reply, when completed. */
  output?: string;
  /** The worker's finish reason for that reply, when it reported one (`length`: cut at the token limit). */
  finishReason?: WorkerResponse['finishReason'];
  /** Usage of the successful call (failed attempts report none). */
  usage: Usage;
  /** From the first attempt's start to the step's end; 0 for a step that never started. */
  latencyMs: number;
  /** Start and end relative to the run's start, in ms (absent for a step that never started). */
  startedAtMs?: number;
  endedAtMs?: number;
  /** Worker calls made, including retries and fallback calls. */
  attempts: number;
  status: StepStatus;
  /** Why the step failed, was skipped or was cancelled. */
  error?: { code: string; message: string };
}

/** Result of `executeWorkflow`. */
export interface WorkflowExecution {
  /** `'completed'` when the last step completed. */
  status: 'completed' | 'failed';
  /** The last step's output; `undefined` when the last step did not complete. */
  answer: string | undefined;
  /** The last step's finish reason, when its worker reported one (`length`: the answer was cut). */
  finishReason?: WorkerResponse['finishReason'];
  /** One entry per step, in step order. */
  trace: StepTrace[];
  /** Sum of the steps' usage. */
  usage: Usage;
  /** Wall time of the run. */
  latencyMs: number;
  /** The first step failure, when there was one. */
  error?: OpenFuguError;
}

function resolveWorkers(workers: WorkerSet): Map<string, Worker> {
  if (workers instanceof Map) return new Map(workers);
  if (Array.isArray(workers))
    return new Map((workers as readonly Worker[]).map((worker) => [worker.id, worker]));
  return new Map(Object.entries(workers as Readonly<Record<string, Worker>>));
}

/** Dependencies of each step: exactly the steps it may see. */
export function workflowDependencies(workflow: Workflow): number[][] {
  return workflow.steps.map((step, index) =>
    step.access === 'all' ? Array.from({ length: index }, (_, earlier) => earlier) : [...step.access],
  );
}

function abortError(signal: AbortSignalLike): AbortedError {
  const reason = signal.reason;
  return OpenFuguError.isInstance(reason) && reason.code === 'aborted'
    ? (reason as AbortedError)
    : new AbortedError({ message: 'The workflow run was aborted.', cause: reason });
}

function toOpenFuguError(error: unknown, workerId: string): OpenFuguError {
  if (OpenFuguError.isInstance(error)) return error;
  return new UpstreamError({
    message: `worker call failed: ${error instanceof Error ? error.message : String(error)}`,
    workerId,
    cause: error,
  });
}

function isRetryable(error: OpenFuguError): boolean {
  if (error.code === 'timeout' || error.code === 'rate_limited') return true;
  if (error.code === 'upstream_error') return (error as UpstreamError).isRetryable;
  return false;
}

/** Sleeps `ms`, or rejects when `signal` aborts. */
function sleep(ms: number, signal: AbortSignalLike): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One worker call with its own deadline, aborted when `parent` aborts. Settles promptly even when the worker
 * ignores its signal.
 */
async function callOnce(
  worker: Worker,
  request: Parameters<Worker['complete']>[0],
  parent: AbortSignalLike,
  timeoutMs: number | undefined,
  final: boolean,
): Promise<WorkerResponse> {
  if (parent.aborted) throw abortError(parent);
  // Without a deadline the run's own signal is the worker's signal: no per-call controller to allocate.
  const controller = timeoutMs === undefined ? undefined : new AbortController();
  const signal = controller?.signal ?? parent;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settled = false;
  let rejectGuard: (error: unknown) => void = () => {};
  const guard = new Promise<never>((_, reject) => {
    rejectGuard = reject;
  });
  const onParentAbort = (): void => {
    const error = abortError(parent);
    controller?.abort(error);
    if (!settled) rejectGuard(error);
  };
  parent.addEventListener('abort', onParentAbort, { once: true });
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => {
      const error = new TimeoutError({ message: `step timed out after ${timeoutMs} ms`, timeoutMs });
      controller?.abort(error);
      if (!settled) rejectGuard(error);
    }, timeoutMs);
  }
  try {
    const callOptions: FinalCallOptions = final ? { signal, final } : { signal };
    const call = Promise.resolve().then(() => worker.complete(request, callOptions));
    call.catch(() => {});
    guard.catch(() => {});
    const response = await Promise.race([call, guard]);
    if (typeof response !== 'object' || response === null || typeof response.content !== 'string') {
      throw new UpstreamError({
        message: 'worker returned no text content',
        workerId: worker.id,
        isRetryable: false,
      });
    }
    return response;
  } catch (error) {
    // A worker that rejects with its own error after our abort: report why we aborted.
    if (signal.aborted && OpenFuguError.isInstance(signal.reason)) throw signal.reason;
    throw error;
  } finally {
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
    parent.removeEventListener('abort', onParentAbort);
  }
}

function validateOptions(
  workflow: Workflow,
  options: ExecuteWorkflowOptions,
  workers: Map<string, Worker>,
): void {
  const check = validateWorkflow(workflow, [...workers.keys()], {
    maxSteps: options.maxSteps ?? DEFAULT_MAX_WORKFLOW_STEPS,
  });
  if (!check.ok) {
    const errors = check.issues.filter((issue) => issue.severity === 'error');
    throw new InvalidArgumentError({
      argument: 'workflow',
      message: `cannot run this workflow: ${errors.map((issue) => issue.message).join('; ')}`,
      cause: errors,
    });
  }
  const concurrency = options.concurrency ?? 4;
  if (!(concurrency === Number.POSITIVE_INFINITY || (Number.isInteger(concurrency) && concurrency >= 1))) {
    throw new InvalidArgumentError({
      argument: 'concurrency',
      message: 'concurrency must be an integer >= 1',
    });
  }
  const retries = options.retries ?? 1;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new InvalidArgumentError({ argument: 'retries', message: 'retries must be an integer >= 0' });
  }
  if (options.stepTimeoutMs !== undefined && !(options.stepTimeoutMs > 0)) {
    throw new InvalidArgumentError({ argument: 'stepTimeoutMs', message: 'stepTimeoutMs must be > 0' });
  }
  const policy = options.failurePolicy;
  if (typeof policy === 'object' && !workers.has(policy.fallback)) {
    throw new InvalidArgumentError({
      argument: 'failurePolicy.fallback',
      message: `fallback worker '${policy.fallback}' is not among the workers`,
    });
  }
}

/**
 * Runs a workflow over a set of workers and returns the answer (the last step's output), a per-step trace and
 * the summed usage.
 *
 * Each step's worker receives the user's question (unless `includeQuestion: false`), its subtask, and the
 * subtasks and outputs of the earlier steps in its access (`buildStepMessages`). Independent steps run
 * concurrently (at most `concurrency` at once). Each call may time out (`stepTimeoutMs`) and is retried
 * `retries` times when the failure is retryable; then `failurePolicy` decides.
 *
 * Throws `InvalidArgumentError` for a workflow that cannot run (unknown worker, forward reference, more than
 * `maxSteps` steps, no step) and rejects with `AbortedError` when `signal` aborts. Step failures are values:
 * `status: 'failed'`, `answer: undefined`, and the trace says which step failed and why.
 *
 * @example
 * ```ts
 * const run = await executeWorkflow(workflow, { question, workers: [math, writer], stepTimeoutMs: 60_000 });
 * if (run.status === 'completed') console.log(run.answer, run.usage.totalTokens);
 * ```
 */
export async function executeWorkflow(
  workflow: Workflow,
  options: ExecuteWorkflowOptions,
): Promise<WorkflowExecution> {
  const workers = resolveWorkers(options.workers);
  validateOptions(workflow, options, workers);
  const callerSignal = options.signal;
  if (callerSignal?.aborted) throw abortError(callerSignal);

  const now = options.now ?? (() => performance.now());
  const concurrency = options.concurrency ?? 4;
  const retries = options.retries ?? 1;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const policy = options.failurePolicy ?? 'fail';
  const includeQuestion = options.includeQuestion ?? true;
  const makeMessages = options.stepMessages ?? buildStepMessages;
  const steps = workflow.steps;
  const dependencies = workflowDependencies(workflow);
  const lastStep = steps.length - 1;
  const markFinal = options.markFinalStep ?? true;
  const start = now();

  const run = new AbortController();
  const onCallerAbort = (): void => run.abort(abortError(callerSignal!));
  callerSignal?.addEventListener('abort', onCallerAbort, { once: true });

  const trace: StepTrace[] = steps.map((step, index) => ({
    step: index,
    worker: step.worker,
    subtask: step.subtask,
    inputsSeen: dependencies[index]!,
    messages: [],
    usage: emptyUsage(),
    latencyMs: 0,
    attempts: 0,
    status: 'skipped',
  }));
  const state: ('pending' | 'running' | 'done')[] = steps.map(() => 'pending');
  let firstError: OpenFuguError | undefined;
  let failFast = false;

  const runStep = async (index: number): Promise<void> => {
    const entry = trace[index]!;
    const step = steps[index]!;
    const context: StepContext = {
      subtask: step.subtask,
      step: index,
      stepCount: steps.length,
      isFinal: index === lastStep,
      visible: entry.inputsSeen.map((earlier) => ({
        step: earlier,
        subtask: steps[earlier]!.subtask,
        output: trace[earlier]!.output ?? '',
      })),
    };
    if (includeQuestion) context.question = options.question;
    entry.messages = makeMessages(context);
    const request: Parameters<Worker['complete']>[0] = { messages: entry.messages };
    if (options.maxTokens !== undefined) request.maxTokens = options.maxTokens;
    if (options.temperature !== undefined) request.temperature = options.temperature;
    const began = now();
    entry.startedAtMs = began - start;
    // The last step's output is the answer; once nothing else runs or waits, nothing can change that.
    const final =
      markFinal && index === lastStep && state.every((status, other) => other === index || status === 'done');

    const candidates = [step.worker];
    if (typeof policy === 'object' && policy.fallback !== step.worker) candidates.push(policy.fallback);
    let lastError: OpenFuguError | undefined;
    outer: for (const workerId of candidates) {
      const worker = workers.get(workerId)!;
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) {
          try {
            await sleep(retryDelayMs * 2 ** (attempt - 1), run.signal);
          } catch (error) {
            lastError = toOpenFuguError(error, workerId);
            break outer;
          }
        }
        entry.attempts++;
        try {
          const response = await callOnce(worker, request, run.signal, options.stepTimeoutMs, final);
          entry.output = response.content;
          if (response.finishReason !== undefined) entry.finishReason = response.finishReason;
          entry.usage = addUsage(emptyUsage(), response.usage);
          entry.ranBy = workerId;
          entry.status = 'completed';
          break outer;
        } catch (error) {
          lastError = toOpenFuguError(error, workerId);
          if (run.signal.aborted) break outer;
          if (!isRetryable(lastError)) break;
        }
      }
    }
    const ended = now();
    entry.endedAtMs = ended - start;
    entry.latencyMs = ended - began;
    if (entry.status !== 'completed') {
      const error = lastError ?? new UpstreamError({ message: 'step failed', workerId: step.worker });
      if (run.signal.aborted && error.code === 'aborted') {
        entry.status = 'cancelled';
      } else {
        entry.status = 'failed';
        firstError ??= error;
      }
      entry.error = { code: error.code, message: error.message };
    }
  };

  await new Promise<void>((resolve) => {
    let running = 0;
    const settle = (index: number): void => {
      state[index] = 'done';
      try {
        options.onStep?.(trace[index]!);
      } catch {
        // A progress callback must not break the run.
      }
    };
    const pump = (): void => {
      // Propagate failures: dependants of a failed/skipped/cancelled step never run.
      for (let index = 0; index < steps.length; index++) {
        if (state[index] !== 'pending') continue;
        const blocker = dependencies[index]!.find((dependency) => {
          return state[dependency] === 'done' && trace[dependency]!.status !== 'completed';
        });
        if (failFast || run.signal.aborted) {
          trace[index]!.status = 'cancelled';
          trace[index]!.error = { code: 'aborted', message: 'not run: the workflow run stopped' };
          settle(index);
        } else if (blocker !== undefined) {
          trace[index]!.status = 'skipped';
          trace[index]!.error = {
            code: 'skipped',
            message: `not run: step ${blocker} it depends on did not complete`,
          };
          settle(index);
        }
      }
      for (let index = 0; index < steps.length && running < concurrency; index++) {
        if (state[index] !== 'pending') continue;
        if (!dependencies[index]!.every((dependency) => trace[dependency]!.status === 'completed')) continue;
        if (dependencies[index]!.some((dependency) => state[dependency] !== 'done')) continue;
        state[index] = 'running';
        running++;
        runStep(index)
          .catch((error: unknown) => {
            // Only a throwing `stepMessages` or `onStep` can get here; the step fails, the run goes on.
            const entry = trace[index]!;
            const failure = toOpenFuguError(error, steps[index]!.worker);
            entry.status = 'failed';
            entry.error = { code: failure.code, message: failure.message };
            firstError ??= failure;
          })
          .then(
            () => {
              running--;
              if (trace[index]!.status === 'failed' && policy !== 'skip_dependants' && !failFast) {
                failFast = true;
                run.abort(new AbortedError({ message: `cancelled: step ${index} failed` }));
              }
              settle(index);
              pump();
            },
            () => {},
          );
      }
      if (running === 0) resolve();
    };
    pump();
  });

  callerSignal?.removeEventListener('abort', onCallerAbort);
  if (callerSignal?.aborted) throw abortError(callerSignal);

  const usage = trace.reduce<Usage>((total, entry) => addUsage(total, entry.usage), emptyUsage());
  const last = trace[lastStep]!;
  const result: WorkflowExecution = {
    status: last.status === 'completed' ? 'completed' : 'failed',
    answer: last.status === 'completed' ? last.output : undefined,
    trace,
    usage,
    latencyMs: now() - start,
  };
  if (last.status === 'completed' && last.finishReason !== undefined) result.finishReason = last.finishReason;
  if (firstError) result.error = firstError;
  return result;
}
