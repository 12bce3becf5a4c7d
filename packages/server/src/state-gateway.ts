/**
 * How the gateway uses the `SharedState` (docs/deploy.md, "How the gateway calls the state"): the admission of
 * a validated request (token bucket, concurrency slot, budget reservation in one `admit` call) and its
 * settlement after the run, worker health shared by every replica, and per-upstream quotas.
 */
import { type ChatCompletionRequest, NoAvailableWorkerError, type Price } from '@openfugu/schema';
import { GatewayError } from './errors.js';
import type { Admission } from './limits.js';
import type { Ledger, SharedHealth, TraceCall } from './pool.js';
import {
  type BreakerSettings,
  BudgetExceededError,
  type RateLimits,
  type SharedState,
  StateUnavailableError,
} from './state/types.js';

/** Shared health with the cooldown list it caches (refreshed by every `admit` reply: no extra round trip). */
export interface CachedSharedHealth extends SharedHealth {
  /** Replaces the cached list (workers cooling now, with the milliseconds left). */
  update(cooldowns: ReadonlyMap<string, number>): void;
}

/**
 * Worker health in the shared state: failures are counted across replicas (`reportFailure`, fire and
 * forget), a recovery resets the count, and a worker cooling on any replica is skipped here until its cooldown
 * ends. The cooldown list is cached from the last `admit` reply and from this replica's own reports.
 */
export function createSharedHealth(
  state: SharedState,
  breaker: BreakerSettings,
  now: () => number = () => performance.now(),
): CachedSharedHealth {
  let until = new Map<string, number>();
  const ignore = (): void => {};
  return {
    cooldownLeftMs(workerId) {
      const end = until.get(workerId);
      return end === undefined ? 0 : Math.max(0, end - now());
    },
    failed(workerId, error) {
      // An upstream 429 with Retry-After: the provider says when to come back; every replica waits that long.
      // It travels in the failure report itself (one round trip).
      const failure = (typeof error === 'object' && error !== null ? error : {}) as {
        statusCode?: unknown;
        cause?: { retryAfterMs?: unknown };
      };
      const retryAfterMs = failure.cause?.retryAfterMs;
      const forced =
        failure.statusCode === 429 && typeof retryAfterMs === 'number' && retryAfterMs > 0
          ? { cooldownMs: retryAfterMs }
          : undefined;
      state.reportFailure(workerId, breaker, forced).then((left) => {
        if (left > 0) until.set(workerId, Math.max(until.get(workerId) ?? 0, now() + left));
      }, ignore);
    },
    recovered(workerId) {
      until.delete(workerId);
      state.reportSuccess(workerId).catch(ignore);
    },
    update(cooldowns) {
      const t = now();
      const next = new Map<string, number>();
      for (const [id, left] of cooldowns) next.set(id, t + left);
      until = next;
    },
  };
}

/** Tokens a chat template may add per message, in the cost bound. */
const TEMPLATE_TOKENS = 8;

/** A request admitted by `admit`: `finish` settles its spend, corrects its tokens and frees its slot. */
export interface RequestTicket {
  finish(ledger: Ledger): void;
}

/** Settings of `createRequestAdmitter`. */
export interface RequestAdmitterSettings {
  state: SharedState;
  health: CachedSharedHealth;
  /** The dearest prices in the pool (USD per 1M tokens, input and output separately): the cost bound. */
  maxPrice: Price | undefined;
  /** A concurrency slot's lease: longer than any request can run (its deadline). */
  leaseMs: number;
  /** Completion tokens assumed when a request sets no `max_tokens` (default 4096). */
  defaultMaxTokens?: number;
}

/**
 * The check of a validated request before it runs: one `state.admit` (token bucket with the estimate,
 * concurrency slot, budget reservation with the maximum cost, and the cooldown list), refused as 429
 * `rate_limit_exceeded`, 429 `budget_exceeded` or 503 `state_unavailable` (a `closed` policy while Redis is
 * down).
 */
export function createRequestAdmitter(
  settings: RequestAdmitterSettings,
): (admission: Admission, chat: ChatCompletionRequest) => Promise<RequestTicket> {
  const { state, health, maxPrice, leaseMs } = settings;
  const defaultMaxTokens = settings.defaultMaxTokens ?? 4096;
  return async (admission, chat) => {
    const { scope, limits } = admission;
    const rate: RateLimits | undefined = limits.tokenLimit
      ? {
          tokensPerMinute: limits.tokenLimit.tokensPerMinute,
          ...(limits.tokenLimit.burst ? { tokenBurst: limits.tokenLimit.burst } : {}),
        }
      : undefined;
    const budgeted = limits.budgets !== undefined && Object.keys(limits.budgets).length > 0;
    // The size figures serialise the messages again: only when a token limit or a budget needs them.
    let estimate = 0;
    let maxCostUsd = 0;
    if (rate || budgeted) {
      const bytes = Buffer.byteLength(JSON.stringify(chat.messages));
      const runs = chat.n ?? 1;
      const completion = (chat.max_completion_tokens ?? chat.max_tokens ?? defaultMaxTokens) * runs;
      // Tokens for the token bucket: about 4 bytes a token; corrected with the real usage after the run.
      estimate = Math.ceil(bytes / 4) * runs + completion;
      // The cost bound: a byte-level tokenizer makes at most one token per byte (plus the chat template's few
      // tokens per message), at the dearest prices.
      const promptBound = (bytes + TEMPLATE_TOKENS * chat.messages.length) * runs;
      maxCostUsd = maxPrice ? (promptBound * maxPrice.input + completion * maxPrice.output) / 1e6 : 0;
    }
    const decision = await state.admit({
      scope,
      ...(rate ? { rate, tokens: estimate } : {}),
      ...(limits.maxConcurrent ? { slot: { max: limits.maxConcurrent, leaseMs } } : {}),
      ...(budgeted ? { budget: { budgets: limits.budgets!, estimateUsd: maxCostUsd, leaseMs } } : {}),
    });
    health.update(decision.cooldowns);
    if (!decision.admitted) {
      if (decision.refusedBy === 'budget') throw new BudgetExceededError(decision.exceeded);
      if (decision.refusedBy === 'rate') {
        throw new GatewayError({
          kind: 'rate_limited',
          message: 'Token rate limit reached for this API key; retry later.',
          retryAfterSeconds: decision.rate.retryAfterMs / 1000,
        });
      }
      throw new GatewayError({
        kind: 'rate_limited',
        message: `Too many concurrent requests for this API key (at most ${limits.maxConcurrent}).`,
        retryAfterSeconds: 1,
      });
    }
    const { lease, reservation } = decision;
    return {
      finish(ledger) {
        if (reservation) void state.settleBudget(reservation, ledger.costUsd);
        if (rate) void state.adjustTokens(scope, rate, ledger.usage.totalTokens - estimate).catch(noop);
        if (lease) void state.releaseSlot(lease);
      },
    };
  };
}

/** A provider's quota over all replicas (`upstreams[].limits`). */
export interface UpstreamLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/**
 * Per-upstream quotas in the shared state, scope `upstream:<id>`: `beforeCall` takes a request (and refuses,
 * so the pool falls back, while the token bucket is empty); `observe` takes the tokens a call used after it.
 */
export function createUpstreamQuotas(
  state: SharedState,
  limits: Readonly<Record<string, UpstreamLimits>>,
): { beforeCall(workerId: string): Promise<void>; observe(call: TraceCall): void } {
  const rates = new Map<string, RateLimits>();
  for (const [id, limit] of Object.entries(limits)) {
    if (limit.requestsPerMinute !== undefined || limit.tokensPerMinute !== undefined) rates.set(id, limit);
  }
  return {
    async beforeCall(workerId) {
      const rate = rates.get(workerId);
      if (!rate) return;
      let decision: Awaited<ReturnType<SharedState['takeRate']>>;
      try {
        decision = await state.takeRate(`upstream:${workerId}`, rate);
      } catch (error) {
        if (error instanceof StateUnavailableError)
          throw new NoAvailableWorkerError({ message: 'the upstream quota cannot be checked', cause: error });
        throw error;
      }
      if (!decision.allowed) {
        throw new NoAvailableWorkerError({ message: 'the upstream quota is used up for now' });
      }
    },
    observe(call) {
      const rate = rates.get(call.workerId);
      if (rate?.tokensPerMinute !== undefined && call.usage && call.usage.totalTokens > 0) {
        state.adjustTokens(`upstream:${call.workerId}`, rate, call.usage.totalTokens).catch(noop);
      }
    },
  };
}

function noop(): void {}
