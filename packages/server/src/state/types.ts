/**
 * What the gateway replicas share: rate limits, concurrency slots, spend budgets, worker health and the client
 * key store. `createMemoryState()` keeps it in one process; `createRedisState()` keeps it in Redis so every
 * replica behind a load balancer enforces the same numbers.
 *
 * Scopes are plain strings chosen by the caller; the gateway uses `key:<name>` for client keys and
 * `upstream:<id>` for provider quotas. Amounts of money cross this interface in USD and are kept inside as
 * integer nano-USD, so both implementations add up exactly the same way.
 */
import { GatewayError } from '../errors.js';

/** Request and token buckets of one scope. Absent figures are not limited. */
export interface RateLimits {
  /** Sustained requests per minute. */
  requestsPerMinute?: number;
  /** Request bucket size (default: `requestsPerMinute`). */
  burst?: number;
  /** Sustained tokens per minute. */
  tokensPerMinute?: number;
  /** Token bucket size (default: `tokensPerMinute`). */
  tokenBurst?: number;
}

/** The outcome of a rate check. */
export type RateDecision =
  | { allowed: true }
  | {
      allowed: false;
      /** Which bucket refused (the one that needs longest to refill when both do). */
      limit: 'requests' | 'tokens';
      /** Milliseconds until the request would be allowed (for `Retry-After`). */
      retryAfterMs: number;
    };

/** Settings of a concurrency check. */
export interface SlotLimits {
  /** Most slots held at once in this scope. */
  max: number;
  /**
   * A slot not released within this time is freed (its replica is presumed dead). Default 600 000. Make it
   * longer than any request can run: the gateway uses `max(600 000, requestTimeoutMs + 60 000)`.
   */
  leaseMs?: number;
}

/** A held concurrency slot. */
export interface SlotLease {
  readonly scope: string;
  readonly id: string;
  readonly leaseMs: number;
}

/** The outcome of a concurrency check. */
export type SlotDecision = { acquired: true; lease: SlotLease } | { acquired: false; active: number };

/** Budget windows: the UTC day, the UTC calendar month, or all time. */
export type BudgetWindow = 'daily' | 'monthly' | 'total';

/** Spend limits in USD per window. */
export type Budgets = Partial<Record<BudgetWindow, number>>;

/** A reservation made before a request runs; settled with the real cost after it. */
export interface BudgetReservation {
  readonly scope: string;
  readonly id: string;
  readonly estimateUsd: number;
}

/** One window's figures. */
export interface BudgetUsage {
  window: BudgetWindow;
  limitUsd: number;
  /** Settled spend in the current window. */
  spentUsd: number;
  /** Estimates of requests still running (all windows share them). */
  reservedUsd: number;
  /** When the window starts again (epoch ms); undefined for `total`. */
  resetAt: number | undefined;
}

/** The outcome of a budget reservation. */
export type BudgetDecision =
  | { reserved: true; reservation: BudgetReservation }
  | { reserved: false; exceeded: BudgetUsage };

/** Settings of `reserveBudget`. */
export interface ReserveOptions {
  /** An unsettled reservation stops counting after this time (default 600 000 ms). */
  leaseMs?: number;
}

/** What one request needs before it runs, checked and taken together by `admit`. */
export interface AdmitRequest {
  scope: string;
  /** Request and token buckets (`tokens` is the estimate). */
  rate?: RateLimits;
  tokens?: number;
  slot?: SlotLimits;
  budget?: { budgets: Budgets; estimateUsd: number; leaseMs?: number };
}

/**
 * The outcome of `admit`: all granted (with the slot's lease and the reservation to settle) or nothing taken,
 * with the first check that refused (rate, then concurrency, then budget). The cooldown list comes with both.
 */
export type AdmitDecision = { cooldowns: ReadonlyMap<string, number> } & (
  | { admitted: true; lease: SlotLease | undefined; reservation: BudgetReservation | undefined }
  | { admitted: false; refusedBy: 'rate'; rate: Extract<RateDecision, { allowed: false }> }
  | { admitted: false; refusedBy: 'concurrency'; active: number }
  | { admitted: false; refusedBy: 'budget'; exceeded: BudgetUsage }
);

/** Circuit-breaker settings of a worker failure report. */
export interface BreakerSettings {
  /** Consecutive failures (across all replicas) that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit keeps the worker out. */
  cooldownMs: number;
}

/** Options of a worker failure report. */
export interface FailureOptions {
  /** Cool the worker down at least this long (ms), below the threshold too; a longer cooldown is kept. */
  cooldownMs?: number;
}

/** Limits stored with a client key. */
export interface KeyLimits {
  rateLimit?: { requestsPerMinute: number; burst?: number };
  tokenLimit?: { tokensPerMinute: number; burst?: number };
  maxConcurrent?: number;
  budgets?: Budgets;
}

/** A stored client key, as listed: never the secret, never its hash. */
export interface KeyRecord extends KeyLimits {
  id: string;
  name: string;
  /** The first characters of the secret, to tell keys apart in a list. */
  prefix: string;
  createdAt: number;
  revokedAt?: number;
}

/** Settings of `createKey`. */
export interface NewKey extends KeyLimits {
  name: string;
}

/** Changes to a key's limits; `null` removes a limit. */
export type KeyPatch = {
  name?: string;
  rateLimit?: KeyLimits['rateLimit'] | null;
  tokenLimit?: KeyLimits['tokenLimit'] | null;
  maxConcurrent?: number | null;
  budgets?: Budgets | null;
};

/** Concerns with their own failure policy. */
export type StateConcern = 'rateLimits' | 'concurrency' | 'budgets' | 'keys' | 'health';

/**
 * What a Redis-backed concern does while Redis is unreachable: `local` falls back to this replica's in-memory
 * state (limits then hold per replica, not across them), `closed` refuses with a `StateUnavailableError`
 * (HTTP 503).
 */
export type FailurePolicy = 'local' | 'closed';

/** Health of the shared state, for `/health` and `/metrics`. */
export interface StateStatus {
  backend: 'memory' | 'redis';
  /** True when the shared store answers (always true in memory). */
  connected: boolean;
  /** Epoch ms of the last change of `connected`. */
  since: number;
  /** The last connection or command error, without credentials. */
  lastError: string | undefined;
  /** Calls answered by the failure policy instead of the shared store, per concern, since start. */
  degraded: Record<StateConcern, number>;
}

/**
 * The state shared by gateway replicas. The only error a method rejects with is `StateUnavailableError` (the
 * Redis state, while Redis is unreachable): from a concern whose policy is `closed`, from `lookupKey` for a
 * key this replica has not seen lately, and from the admin methods (create, list, get, update, revoke).
 * `settleBudget` and `releaseSlot` never reject.
 */
export interface SharedState {
  readonly backend: 'memory' | 'redis';

  /** Takes one request and `tokens` tokens from the scope's buckets, atomically: both or neither. */
  takeRate(scope: string, limits: RateLimits, cost?: { tokens?: number }): Promise<RateDecision>;
  /** Corrects the token bucket after the real usage is known (`delta` = actual − estimate; may be negative). */
  adjustTokens(scope: string, limits: RateLimits, delta: number): Promise<void>;

  /** Takes a concurrency slot if fewer than `max` are held in the scope. */
  acquireSlot(scope: string, limits: SlotLimits): Promise<SlotDecision>;
  /** Frees a slot; idempotent. */
  releaseSlot(lease: SlotLease): Promise<void>;

  /** Reserves `estimateUsd` against every window of `budgets`; refused when any window would be exceeded. */
  reserveBudget(
    scope: string,
    budgets: Budgets,
    estimateUsd: number,
    options?: ReserveOptions,
  ): Promise<BudgetDecision>;
  /**
   * Replaces the reservation by the real cost, added to the windows current now. Counted once per
   * reservation: a repeated settlement (a replay after a timed-out reply) is ignored, and a reservation whose
   * lease ran out unsettled (a very long request) still counts when it settles within a day.
   */
  settleBudget(reservation: BudgetReservation, actualUsd: number): Promise<void>;
  /** The scope's figures per configured window. */
  budgetUsage(scope: string, budgets: Budgets): Promise<BudgetUsage[]>;

  /**
   * Admission of one request in one round trip: rate buckets, concurrency slot and budget reservation of one
   * scope, all taken or none, plus the cooldown list. Rejects (closed policy) like the separate checks would.
   */
  admit(request: AdmitRequest): Promise<AdmitDecision>;

  /**
   * Counts a failed call; opens the worker's circuit when the threshold is reached. With `cooldownMs` (an
   * upstream's `Retry-After`) it also cools the worker at least that long, whatever the count, in the same call
   * (one round trip). Returns the cooldown left.
   */
  reportFailure(workerId: string, settings: BreakerSettings, options?: FailureOptions): Promise<number>;
  /** Counts a successful call (resets the consecutive-failure count). */
  reportSuccess(workerId: string): Promise<void>;
  /** Cools a worker down for `cooldownMs` at once. */
  coolDown(workerId: string, cooldownMs: number): Promise<void>;
  /** Workers cooling down now, with the milliseconds left (one round trip: call once per request). */
  cooldowns(): Promise<ReadonlyMap<string, number>>;

  /** Creates a key; the secret is returned here and never again. */
  createKey(key: NewKey): Promise<{ key: string; record: KeyRecord }>;
  /** The live (not revoked) key whose secret is `presented`, looked up by its SHA-256; undefined if none. */
  lookupKey(presented: string): Promise<KeyRecord | undefined>;
  listKeys(): Promise<KeyRecord[]>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  updateKey(id: string, patch: KeyPatch): Promise<KeyRecord | undefined>;
  /** Revokes a key everywhere; false when no live key has this id. */
  revokeKey(id: string): Promise<boolean>;

  status(): StateStatus;
  close(): Promise<void>;
}

/**
 * A key's spend budget is exhausted. Shown to the client as OpenAI error code `budget_exceeded` (HTTP 429),
 * naming the window and when it resets.
 *
 * @example
 * ```ts
 * const decision = await state.reserveBudget('key:alice', { daily: 5 }, 0.01);
 * if (!decision.reserved) throw new BudgetExceededError(decision.exceeded);
 * ```
 */
export class BudgetExceededError extends GatewayError {
  readonly window: BudgetWindow;
  readonly limitUsd: number;
  readonly resetAt: number | undefined;
  constructor(usage: BudgetUsage, now: number = Date.now()) {
    const reset =
      usage.resetAt === undefined
        ? 'It does not reset.'
        : `It resets at ${new Date(usage.resetAt).toISOString()}.`;
    super({
      kind: 'budget_exceeded',
      message: `The ${usage.window} budget of this API key ($${usage.limitUsd}) is exhausted. ${reset}`,
      ...(usage.resetAt === undefined
        ? {}
        : { retryAfterSeconds: Math.max(1, (usage.resetAt - now) / 1000) }),
    });
    this.name = 'BudgetExceededError';
    this.window = usage.window;
    this.limitUsd = usage.limitUsd;
    this.resetAt = usage.resetAt;
  }
}

/** The shared state is unreachable and the concern's policy is `closed` (HTTP 503). */
export class StateUnavailableError extends GatewayError {
  readonly concern: StateConcern;
  constructor(concern: StateConcern, cause?: unknown) {
    super({ kind: 'state_unavailable', retryAfterSeconds: 1, cause });
    this.name = 'StateUnavailableError';
    this.concern = concern;
  }
}
