/**
 * The pool manager: circuit breaker (cooldown of failing workers), fallback to other workers, and a
 * per-request ledger that sums usage and cost across every worker call and records the internal trace.
 */
import {
  addUsage,
  emptyUsage,
  NoAvailableWorkerError,
  OpenFuguError,
  type Price,
  type Usage,
  type Worker,
  type WorkerCallOptions,
  type WorkerRequest,
  type WorkerResponse,
} from '@openfugu/schema';
import { faultOf } from './errors.js';

/** What happened in one worker call. */
export type CallOutcome = 'ok' | 'error' | 'timeout' | 'aborted';

/** One worker call, as recorded in a request's trace (internal: shown only with the debug trace). */
export interface TraceCall {
  workerId: string;
  outcome: CallOutcome;
  ms: number;
  usage?: Usage;
  costUsd?: number;
  /** Set when this call replaced a failed call to another worker. */
  fallbackFrom?: string;
  error?: string;
}

/** Per-request accounting: usage and cost summed over all worker calls. */
export interface Ledger {
  usage: Usage;
  costUsd: number;
  calls: TraceCall[];
}

/** Creates an empty ledger. */
export function createLedger(): Ledger {
  return { usage: emptyUsage(), costUsd: 0, calls: [] };
}

/** Hook for metrics. */
export interface PoolObserver {
  onCall(call: TraceCall): void;
}

/** Settings of `createWorkerPool`. */
export interface WorkerPoolSettings {
  /** Pool members, in router order. */
  workers: readonly Worker[];
  /** Prices per worker id (USD per 1M tokens); `descriptor.price` of upstream workers is used otherwise. */
  prices?: Readonly<Record<string, Price>>;
  /** Consecutive failures that open a worker's circuit (default 3). */
  failureThreshold?: number;
  /** How long an open circuit keeps a worker out (default 30 000 ms). */
  cooldownMs?: number;
  /** Other workers tried after a failure (default 2). */
  maxFallbacks?: number;
  observer?: PoolObserver;
  /**
   * Health shared with other gateway replicas (the shared state): a worker it reports cooling is skipped like
   * one whose local circuit is open; failures and recoveries are reported to it beside the local breaker.
   */
  health?: SharedHealth;
  /**
   * Called before each worker call (per-upstream quotas); rejects with a `NoAvailableWorkerError` to skip the
   * worker (the pool falls back as for a cooling worker).
   */
  beforeCall?: (workerId: string) => Promise<void>;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
}

/** Worker health kept outside the pool (shared by gateway replicas). */
export interface SharedHealth {
  /** Milliseconds this worker still cools down elsewhere (0: available). */
  cooldownLeftMs(workerId: string): number;
  /** A call failed in a way that counts against the worker's health (`error`: what it failed with). */
  failed(workerId: string, error: unknown): void;
  /** A call succeeded after local failures. */
  recovered(workerId: string): void;
}

/** Pool status without identities. */
export interface PoolStatus {
  size: number;
  available: number;
  coolingDown: number;
}

/** A managed pool. */
export interface WorkerPool {
  readonly workers: readonly Worker[];
  get(id: string): Worker | undefined;
  isAvailable(id: string): boolean;
  /**
   * Milliseconds the worker still cools down: the longer of its own open circuit and the shared health's
   * cooldown (another replica's breaker, an upstream's `Retry-After`); 0 when it is available or unknown.
   */
  cooldownLeftMs(id: string): number;
  status(): PoolStatus;
  /** Milliseconds until some worker is available again (0 when one is now): a 503's `Retry-After`. */
  retryAfterMs(): number;
  /** Calls one worker through the breaker, with no fallback. Records into `ledger`. */
  run<T>(
    workerId: string,
    ledger: Ledger,
    call: (worker: Worker) => Promise<T>,
    usageOf?: (value: T) => Usage | undefined,
  ): Promise<T>;
  /** `complete` on `workerId`, falling back to other available workers on upstream failures. */
  complete(
    workerId: string,
    request: WorkerRequest,
    ledger: Ledger,
    options?: WorkerCallOptions,
  ): Promise<{ response: WorkerResponse; workerId: string }>;
  /** The pool's workers as plain `Worker`s that go through breaker, fallback and `ledger` (for modes). */
  bind(ledger: Ledger): Worker[];
  /**
   * Records the end of work that happened outside `run` (a stream's body): cost from the price table,
   * ledger, observer, and, for a failure, the worker's health.
   */
  report(workerId: string, ledger: Ledger, result: { ms: number; usage?: Usage; error?: unknown }): void;
}

interface Health {
  failures: number;
  openUntil: number;
}

/** The breaker's defaults: consecutive failures that open a worker's circuit, and how long it stays open. */
export const DEFAULT_BREAKER = { failureThreshold: 3, cooldownMs: 30_000 } as const;

/**
 * Creates a pool manager over workers.
 *
 * @example
 * ```ts
 * const pool = createWorkerPool({ workers, failureThreshold: 3, cooldownMs: 30_000 });
 * const ledger = createLedger();
 * const { response } = await pool.complete('fast', { messages }, ledger);
 * ledger.usage; ledger.costUsd; // summed over every call, fallbacks included
 * ```
 */
export function createWorkerPool(settings: WorkerPoolSettings): WorkerPool {
  const workers = settings.workers;
  const byId = new Map(workers.map((worker) => [worker.id, worker]));
  if (byId.size !== workers.length) {
    throw new OpenFuguError({ code: 'config_error', message: 'worker ids must be unique' });
  }
  const threshold = settings.failureThreshold ?? DEFAULT_BREAKER.failureThreshold;
  const cooldownMs = settings.cooldownMs ?? DEFAULT_BREAKER.cooldownMs;
  const maxFallbacks = settings.maxFallbacks ?? 2;
  const now = settings.now ?? Date.now;
  const health = new Map<string, Health>(workers.map((worker) => [worker.id, { failures: 0, openUntil: 0 }]));
  const priceOf = (id: string): Price | undefined =>
    settings.prices?.[id] ??
    (byId.get(id) as { descriptor?: { price?: Price } } | undefined)?.descriptor?.price;

  const shared = settings.health;
  const cooldownLeftMs = (id: string): number => {
    const state = health.get(id);
    if (!state) return 0;
    return Math.max(0, state.openUntil - now(), shared?.cooldownLeftMs(id) ?? 0);
  };
  const isAvailable = (id: string): boolean => health.has(id) && cooldownLeftMs(id) <= 0;

  const markFailure = (id: string, state: Health, error: unknown): void => {
    state.failures++;
    if (state.failures >= threshold) state.openUntil = now() + cooldownMs;
    shared?.failed(id, error);
  };

  const markSuccess = (id: string, state: Health): void => {
    if (state.failures > 0) shared?.recovered(id);
    state.failures = 0;
    state.openUntil = 0;
  };

  const costOf = (workerId: string, usage: Usage): number | undefined => {
    const price = priceOf(workerId);
    return price
      ? (usage.promptTokens * price.input + usage.completionTokens * price.output) / 1e6
      : undefined;
  };

  const record = (ledger: Ledger, call: TraceCall): void => {
    ledger.calls.push(call);
    if (call.usage) ledger.usage = addUsage(ledger.usage, call.usage);
    if (call.costUsd) ledger.costUsd += call.costUsd;
    settings.observer?.onCall(call);
  };

  const run = async <T>(
    workerId: string,
    ledger: Ledger,
    call: (worker: Worker) => Promise<T>,
    usageOf?: (value: T) => Usage | undefined,
  ): Promise<T> => {
    const worker = byId.get(workerId);
    const state = health.get(workerId);
    if (!worker || !state) throw new NoAvailableWorkerError({ message: 'unknown worker' });
    if (!isAvailable(workerId)) throw new NoAvailableWorkerError({ message: 'worker is cooling down' });
    if (settings.beforeCall) await settings.beforeCall(workerId);
    const started = performance.now();
    try {
      const value = await call(worker);
      markSuccess(workerId, state);
      const usage = usageOf?.(value);
      const entry: TraceCall = { workerId, outcome: 'ok', ms: performance.now() - started };
      if (usage) {
        entry.usage = usage;
        const cost = costOf(workerId, usage);
        if (cost !== undefined) entry.costUsd = cost;
      }
      record(ledger, entry);
      return value;
    } catch (error) {
      const outcome = outcomeOf(error);
      if (outcome !== 'aborted' && countsAgainstHealth(error)) markFailure(workerId, state, error);
      record(ledger, {
        workerId,
        outcome,
        ms: performance.now() - started,
        error: OpenFuguError.isInstance(error) ? error.code : 'internal_error',
      });
      throw error;
    }
  };

  const complete = async (
    workerId: string,
    request: WorkerRequest,
    ledger: Ledger,
    options?: WorkerCallOptions,
  ): Promise<{ response: WorkerResponse; workerId: string }> => {
    const order = [workerId, ...workers.map((worker) => worker.id).filter((id) => id !== workerId)];
    let lastError: unknown;
    let tried = 0;
    let previous: string | undefined;
    for (const id of order) {
      if (tried > maxFallbacks) break;
      if (!isAvailable(id)) continue;
      tried++;
      try {
        const before = ledger.calls.length;
        const response = await run(
          id,
          ledger,
          (worker) => worker.complete(request, options),
          (value) => value.usage,
        );
        if (previous !== undefined) {
          const entry = ledger.calls[before];
          if (entry) entry.fallbackFrom = previous;
        }
        return { response, workerId: id };
      } catch (error) {
        lastError = error;
        if (options?.signal?.aborted || !isFallbackWorthy(error)) throw error;
        previous = id;
      }
    }
    if (lastError !== undefined) throw lastError;
    throw new NoAvailableWorkerError({ message: 'every worker is cooling down' });
  };

  return {
    workers,
    get: (id) => byId.get(id),
    isAvailable,
    cooldownLeftMs,
    status() {
      const available = workers.filter((worker) => isAvailable(worker.id)).length;
      return { size: workers.length, available, coolingDown: workers.length - available };
    },
    retryAfterMs() {
      let soonest = Number.POSITIVE_INFINITY;
      for (const id of health.keys()) soonest = Math.min(soonest, cooldownLeftMs(id));
      return Number.isFinite(soonest) ? soonest : 0;
    },
    run,
    complete,
    report(workerId, ledger, result) {
      const entry: TraceCall = {
        workerId,
        outcome: result.error === undefined ? 'ok' : outcomeOf(result.error),
        ms: result.ms,
      };
      if (result.usage) {
        entry.usage = result.usage;
        const cost = costOf(workerId, result.usage);
        if (cost !== undefined) entry.costUsd = cost;
      }
      const state = health.get(workerId);
      if (result.error !== undefined) {
        entry.error = OpenFuguError.isInstance(result.error) ? result.error.code : 'internal_error';
        if (state && entry.outcome !== 'aborted' && countsAgainstHealth(result.error))
          markFailure(workerId, state, result.error);
      } else if (state) {
        markSuccess(workerId, state);
      }
      record(ledger, entry);
    },
    bind(ledger) {
      return workers.map(
        (worker): Worker => ({
          id: worker.id,
          complete: async (request, options) =>
            (await complete(worker.id, request, ledger, options)).response,
        }),
      );
    },
  };
}

function outcomeOf(error: unknown): CallOutcome {
  if (OpenFuguError.hasCode(error, 'aborted')) return 'aborted';
  if (OpenFuguError.hasCode(error, 'timeout')) return 'timeout';
  return 'error';
}

/** Upstream failures that say something about the worker's health (not the request's validity). */
function countsAgainstHealth(error: unknown): boolean {
  if (faultOf(error) !== 'upstream') return false;
  if (OpenFuguError.hasCode(error, 'timeout')) return true;
  // A non-retryable upstream answer (401, 403, 404: a misconfigured member) does not cool the worker down.
  if (OpenFuguError.hasCode(error, 'upstream_error'))
    return (error as { isRetryable?: boolean }).isRetryable !== false;
  return !OpenFuguError.isInstance(error);
}

/** Whether another worker may be tried after `error`: upstream faults only (a request fault fails everywhere). */
export function isFallbackWorthy(error: unknown): boolean {
  if (faultOf(error) !== 'upstream') return false;
  return (
    OpenFuguError.hasCode(error, 'upstream_error') ||
    OpenFuguError.hasCode(error, 'timeout') ||
    OpenFuguError.hasCode(error, 'no_available_worker') ||
    !OpenFuguError.isInstance(error)
  );
}
