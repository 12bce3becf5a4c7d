/**
 * The operations hub behind the `/ui` page: what happened to each request (a bounded ring of recent traces),
 * worker health as the pool's calls report it, spend and usage per client key and public model per minute,
 * and the live feed to the page's viewers. Everything it keeps is bounded; the request path only appends to
 * memory (no I/O, no serialisation): viewers get batches from a timer, and a slow viewer loses batches (they
 * are counted and shown) instead of slowing anyone down.
 */
import type { ServerResponse } from 'node:http';
import type { Usage } from '@openfugu/schema';
import type { TraceCall, WorkerPool } from '../pool.js';

/** One finished chat-completion request, as the chat route reports it (the ledger's calls and mode trace). */
export interface OpsRequestDone {
  id: string;
  /** Public model name. */
  model: string;
  /** `route` / `run` for a mode, `direct` for a pool member served under its alias. */
  mode: 'route' | 'run' | 'direct';
  status: number;
  ms: number;
  stream: boolean;
  usage: Usage;
  costUsd: number;
  calls: readonly TraceCall[];
  /** The mode's own trace (TRINITY turns, a Conductor workflow), as the debug trace carries it. */
  modeTrace: unknown;
  /**
   * The name of the client key the request was admitted with (the admission's `name`: configured and stored
   * keys alike); absent when it was admitted by its address (shown as `anonymous`).
   */
  key?: string | undefined;
}

/** A request's row in the live table. */
export interface OpsRequestSummary {
  id: string;
  /** Epoch ms of the request's end. */
  at: number;
  model: string;
  mode: 'route' | 'run' | 'direct';
  status: number;
  ms: number;
  stream: boolean;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** Workers that ran (in call order, each once). */
  workers: string[];
  /** True when a call replaced a failed call to another worker. */
  fallback: boolean;
  /** Client key name (`anonymous` for a request admitted by its address). */
  key: string;
}

/** A request's whole trace (the `/ui/api/requests/:id` answer). */
export interface OpsTrace extends OpsRequestSummary {
  calls: TraceCall[];
  modeTrace: unknown;
}

/** A pool member's health as the page shows it. */
export interface OpsWorkerHealth {
  id: string;
  available: boolean;
  /** Epoch ms the cooldown ends, from the pool's `cooldownLeftMs` (null when available). */
  coolingUntil: number | null;
  /** Calls, failures (outcome `error` / `timeout`) and their ratio over the last `healthWindowMinutes`. */
  calls: number;
  errors: number;
  errorRate: number;
  /** Mean latency of the window's calls, ms. */
  meanMs: number;
  lastError: { at: number; code: string } | null;
}

/** Usage of one client key or public model. */
export interface OpsUsage {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** Spend and usage: totals per key and per model, and per-minute series per model. */
export interface OpsSpend {
  byKey: Record<string, OpsUsage>;
  byModel: Record<string, OpsUsage>;
  /** Start (epoch ms) of each minute in `series`, oldest first. */
  minutes: number[];
  /** Per public model: requests and cost per minute, aligned with `minutes`. */
  series: Record<string, { requests: number[]; costUsd: number[] }>;
}

/** Settings of `createOpsHub`. */
export interface OpsHubSettings {
  /** Recent traces kept for the trace view (default 200). */
  traceCapacity?: number;
  /** Most request rows in one batch to a viewer; more in one interval are sampled (default 100). */
  batchLimit?: number;
  /** How often viewers get a batch, ms (default 250). */
  flushIntervalMs?: number;
  /** How often viewers get pool health and spend, ms (default 2 000). */
  statusIntervalMs?: number;
  /** Bytes a viewer may have unsent before its batches are dropped and counted (default 256 KiB). */
  maxBufferedBytes?: number;
  /** Most viewers at once; more get a 503 (default 16). */
  maxViewers?: number;
  /** Minutes of spend kept (default 60). */
  spendMinutes?: number;
  /** Minutes of call outcomes behind each worker's error rate (default 5). */
  healthWindowMinutes?: number;
  /** Clock, epoch ms (default `Date.now`). */
  now?: () => number;
}

/** A viewer of the live feed: an SSE response the hub writes to. */
export interface OpsViewer {
  /** Batches not sent because the viewer was too slow. */
  readonly dropped: number;
  close(): void;
}

/** The hub. */
export interface OpsHub {
  /** The pool whose health the page shows (set once the gateway has created it). */
  attach(pool: WorkerPool): void;
  /** Every worker call (the pool's observer). */
  onCall(call: TraceCall): void;
  /** Every finished chat-completion request (the chat route's `observe`). */
  onRequestDone(request: OpsRequestDone): void;
  /** Recent requests, newest last. */
  recent(limit?: number): OpsRequestSummary[];
  trace(id: string): OpsTrace | undefined;
  health(): OpsWorkerHealth[];
  spend(): OpsSpend;
  /** Starts the live feed on an SSE response (headers already written); undefined when full. */
  addViewer(response: ServerResponse): OpsViewer | undefined;
  readonly viewerCount: number;
  /** Stops timers and ends every viewer's stream. */
  close(): void;
}

const MINUTE = 60_000;

interface Bucket {
  minute: number;
  usage: Map<string, OpsUsage & { key: string; model: string }>;
}

interface CallBucket {
  minute: number;
  calls: number;
  errors: number;
  totalMs: number;
}

interface WorkerState {
  buckets: CallBucket[];
  lastError: { at: number; code: string } | null;
}

interface ViewerState {
  response: ServerResponse;
  dropped: number;
  closed: boolean;
}

/**
 * Creates the operations hub.
 *
 * @example
 * ```ts
 * const hub = createOpsHub({ traceCapacity: 200 });
 * hub.attach(pool);
 * hub.onRequestDone({ id, model: 'fugu', mode: 'run', status: 200, ms: 12, stream: false, usage, costUsd, calls, modeTrace });
 * hub.trace(id)?.workers; // ['math', 'generalist']
 * ```
 */
export function createOpsHub(settings: OpsHubSettings = {}): OpsHub {
  const now = settings.now ?? Date.now;
  const capacity = Math.max(1, settings.traceCapacity ?? 200);
  const batchLimit = Math.max(1, settings.batchLimit ?? 100);
  const flushIntervalMs = settings.flushIntervalMs ?? 250;
  const statusIntervalMs = settings.statusIntervalMs ?? 2_000;
  const maxBufferedBytes = settings.maxBufferedBytes ?? 256 * 1024;
  const maxViewers = settings.maxViewers ?? 16;
  const spendMinutes = settings.spendMinutes ?? 60;
  const healthWindow = settings.healthWindowMinutes ?? 5;

  let pool: WorkerPool | undefined;
  // The trace ring: a fixed array and an id index; the oldest entry is overwritten.
  const ring: (OpsTrace | undefined)[] = new Array(capacity);
  const byId = new Map<string, OpsTrace>();
  let head = 0;
  const spendBuckets: Bucket[] = [];
  const workers = new Map<string, WorkerState>();
  const viewers = new Set<ViewerState>();
  // Rows waiting for the next batch (only while someone watches): the newest `batchLimit`, the rest counted.
  let pending: OpsRequestSummary[] = [];
  let pendingStart = 0;
  let sampled = 0;
  let flushTimer: ReturnType<typeof setInterval> | undefined;
  let statusTimer: ReturnType<typeof setInterval> | undefined;

  const workerState = (id: string): WorkerState => {
    let state = workers.get(id);
    if (!state) {
      state = { buckets: [], lastError: null };
      workers.set(id, state);
    }
    return state;
  };

  const addSpend = (summary: OpsRequestSummary): void => {
    const minute = Math.floor(summary.at / MINUTE) * MINUTE;
    let bucket = spendBuckets[spendBuckets.length - 1];
    if (!bucket || bucket.minute !== minute) {
      bucket = { minute, usage: new Map() };
      spendBuckets.push(bucket);
      while (spendBuckets.length > spendMinutes) spendBuckets.shift();
    }
    const name = `${summary.key}\u0000${summary.model}`;
    let usage = bucket.usage.get(name);
    if (!usage) {
      usage = { key: summary.key, model: summary.model, ...emptyOpsUsage() };
      bucket.usage.set(name, usage);
    }
    usage.requests++;
    if (summary.status >= 400) usage.errors++;
    usage.promptTokens += summary.promptTokens;
    usage.completionTokens += summary.completionTokens;
    usage.costUsd += summary.costUsd;
  };

  const sendTo = (viewer: ViewerState, text: string, rows: number): void => {
    if (viewer.closed || viewer.response.destroyed) return;
    if (viewer.response.writableLength > maxBufferedBytes) {
      viewer.dropped += rows;
      return;
    }
    viewer.response.write(text);
  };

  const flush = (): void => {
    if (pending.length === 0 && sampled === 0) return;
    const rows = pending.slice(pendingStart).concat(pending.slice(0, pendingStart));
    const body = JSON.stringify(rows);
    const skipped = sampled;
    pending = [];
    pendingStart = 0;
    sampled = 0;
    for (const viewer of viewers) {
      // One serialisation for everyone; only each viewer's own drop count differs.
      sendTo(
        viewer,
        `event: requests\ndata: {"skipped":${skipped},"dropped":${viewer.dropped},"rows":${body}}\n\n`,
        rows.length,
      );
    }
  };

  const sendStatus = (): void => {
    const text = `event: status\ndata: ${JSON.stringify({ at: now(), pool: hub.health(), spend: hub.spend() })}\n\n`;
    for (const viewer of viewers) sendTo(viewer, text, 0);
  };

  const record = (request: OpsRequestDone): void => {
    const workerIds: string[] = [];
    let fallback = false;
    for (const call of request.calls) {
      if (!workerIds.includes(call.workerId)) workerIds.push(call.workerId);
      if (call.fallbackFrom !== undefined) fallback = true;
    }
    const summary: OpsRequestSummary = {
      id: request.id,
      at: now(),
      model: request.model,
      mode: request.mode,
      status: request.status,
      ms: Math.round(request.ms * 10) / 10,
      stream: request.stream,
      promptTokens: request.usage.promptTokens,
      completionTokens: request.usage.completionTokens,
      costUsd: request.costUsd,
      workers: workerIds,
      fallback,
      key: typeof request.key === 'string' ? request.key : 'anonymous',
    };
    const trace: OpsTrace = { ...summary, calls: [...request.calls], modeTrace: request.modeTrace };
    const old = ring[head];
    if (old) byId.delete(old.id);
    ring[head] = trace;
    byId.set(trace.id, trace);
    head = (head + 1) % capacity;
    addSpend(summary);
    if (viewers.size > 0) {
      if (pending.length < batchLimit) pending.push(summary);
      else {
        // Keep the newest rows: overwrite the oldest pending one and count it as sampled out.
        pending[pendingStart] = summary;
        pendingStart = (pendingStart + 1) % batchLimit;
        sampled++;
      }
    }
  };

  const stopTimers = (): void => {
    clearInterval(flushTimer);
    clearInterval(statusTimer);
    flushTimer = undefined;
    statusTimer = undefined;
  };

  const hub: OpsHub = {
    attach(attached) {
      pool = attached;
    },
    onCall(call) {
      const at = now();
      const state = workerState(call.workerId);
      const minute = Math.floor(at / MINUTE) * MINUTE;
      let bucket = state.buckets[state.buckets.length - 1];
      if (!bucket || bucket.minute !== minute) {
        bucket = { minute, calls: 0, errors: 0, totalMs: 0 };
        state.buckets.push(bucket);
        while (state.buckets.length > healthWindow) state.buckets.shift();
      }
      bucket.calls++;
      bucket.totalMs += call.ms;
      if (call.outcome === 'error' || call.outcome === 'timeout') {
        bucket.errors++;
        state.lastError = { at, code: call.error ?? call.outcome };
      }
    },
    onRequestDone(request) {
      // Runs in the request's `finally`: whatever goes wrong here must not reach the request.
      try {
        record(request);
      } catch {
        // not shown on the page; the request itself is unaffected
      }
    },
    recent(limit = capacity) {
      const out: OpsRequestSummary[] = [];
      for (let i = 0; i < capacity && out.length < limit; i++) {
        const entry = ring[(head - 1 - i + capacity * 2) % capacity];
        if (!entry) break;
        const { calls: _calls, modeTrace: _modeTrace, ...summary } = entry;
        out.push(summary);
      }
      return out.reverse();
    },
    trace(id) {
      return byId.get(id);
    },
    health() {
      const at = now();
      const ids = pool ? pool.workers.map((worker) => worker.id) : [...workers.keys()];
      const since = Math.floor(at / MINUTE) * MINUTE - (healthWindow - 1) * MINUTE;
      return ids.map((id) => {
        const state = workers.get(id);
        let calls = 0;
        let errors = 0;
        let totalMs = 0;
        for (const bucket of state?.buckets ?? []) {
          if (bucket.minute < since) continue;
          calls += bucket.calls;
          errors += bucket.errors;
          totalMs += bucket.totalMs;
        }
        const available = pool ? pool.isAvailable(id) : true;
        const left = !available && pool ? pool.cooldownLeftMs(id) : 0;
        return {
          id,
          available,
          coolingUntil: left > 0 ? at + Math.ceil(left) : null,
          calls,
          errors,
          errorRate: calls > 0 ? errors / calls : 0,
          meanMs: calls > 0 ? Math.round((totalMs / calls) * 10) / 10 : 0,
          lastError: state?.lastError ?? null,
        };
      });
    },
    spend() {
      const byKey: Record<string, OpsUsage> = {};
      const byModel: Record<string, OpsUsage> = {};
      const series: OpsSpend['series'] = {};
      const minutes = spendBuckets.map((bucket) => bucket.minute);
      spendBuckets.forEach((bucket, index) => {
        for (const usage of bucket.usage.values()) {
          addUsage(byKey, usage.key, usage);
          addUsage(byModel, usage.model, usage);
          let line = series[usage.model];
          if (!line) {
            line = { requests: minutes.map(() => 0), costUsd: minutes.map(() => 0) };
            series[usage.model] = line;
          }
          line.requests[index] = (line.requests[index] ?? 0) + usage.requests;
          line.costUsd[index] = (line.costUsd[index] ?? 0) + usage.costUsd;
        }
      });
      return { byKey, byModel, minutes, series };
    },
    addViewer(response) {
      if (viewers.size >= maxViewers) return undefined;
      const viewer: ViewerState = { response, dropped: 0, closed: false };
      viewers.add(viewer);
      const close = (): void => {
        if (viewer.closed) return;
        viewer.closed = true;
        viewers.delete(viewer);
        if (viewers.size === 0) {
          stopTimers();
          pending = [];
          pendingStart = 0;
          sampled = 0;
        }
        if (!response.writableEnded) response.end();
      };
      response.once('close', close);
      const snapshot = { at: now(), rows: hub.recent(batchLimit), pool: hub.health(), spend: hub.spend() };
      response.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
      if (!flushTimer) {
        flushTimer = setInterval(flush, flushIntervalMs);
        flushTimer.unref();
        statusTimer = setInterval(sendStatus, statusIntervalMs);
        statusTimer.unref();
      }
      return {
        get dropped() {
          return viewer.dropped;
        },
        close,
      };
    },
    get viewerCount() {
      return viewers.size;
    },
    close() {
      stopTimers();
      for (const viewer of [...viewers]) {
        viewer.closed = true;
        viewers.delete(viewer);
        if (!viewer.response.writableEnded) viewer.response.end();
      }
    },
  };
  return hub;
}

function emptyOpsUsage(): OpsUsage {
  return { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };
}

function addUsage(into: Record<string, OpsUsage>, name: string, usage: OpsUsage): void {
  const total = into[name] ?? emptyOpsUsage();
  total.requests += usage.requests;
  total.errors += usage.errors;
  total.promptTokens += usage.promptTokens;
  total.completionTokens += usage.completionTokens;
  total.costUsd += usage.costUsd;
  into[name] = total;
}
