/**
 * The shared state of one process: the default when no Redis is configured, and the local fallback of the
 * Redis state. Same rules as `createRedisState` (both use `common.ts`), with an injectable clock.
 */
import { randomBytes } from 'node:crypto';
import {
  type BucketLevels,
  bucketParameters,
  budgetRefuses,
  buildKey,
  DEFAULT_LEASE_MS,
  hashSecret,
  limitedSlots,
  patchKey,
  publicRecord,
  refill,
  type StoredKey,
  setLevel,
  takeFromBuckets,
  toNano,
  usageOf,
  type WindowSlot,
  windowSlots,
  zeroCounts,
} from './common.js';
import type { BudgetReservation, SharedState, SlotLease, StateStatus } from './types.js';

/** Settings of `createMemoryState`. */
export interface MemoryStateSettings {
  /** Wall clock in epoch ms (default `Date.now`); budget windows are UTC days and months of this clock. */
  now?: () => number;
}

/**
 * Creates an in-process `SharedState`. Idle buckets, expired slots, reservations and cooldowns are swept as
 * they are touched, so memory stays bounded by the active scopes.
 *
 * @example
 * ```ts
 * const state = createMemoryState();
 * await state.takeRate('key:alice', { requestsPerMinute: 60, burst: 10 }); // { allowed: true }
 * ```
 */
export function createMemoryState(settings: MemoryStateSettings = {}): SharedState {
  const now = settings.now ?? Date.now;
  const started = now();
  const buckets = new Map<string, BucketLevels>();
  const slots = new Map<string, Map<string, number>>();
  /** Spend per `scope|window`, for the window id it was counted in: an older window reads as 0 (bounded memory). */
  const spent = new Map<string, { id: string; nano: number }>();
  const spentIn = (scope: string, slot: WindowSlot): number => {
    const counter = spent.get(`${scope}|${slot.window}`);
    return counter?.id === slot.id ? counter.nano : 0;
  };
  /** Reservations that expired unsettled (`scope|id` → forget time): their late settlement still counts. */
  const lapsed = new Map<string, number>();
  const reservations = new Map<string, Map<string, { nano: number; expiresAt: number }>>();
  const failures = new Map<string, number>();
  const cooling = new Map<string, number>();
  const keys = new Map<string, StoredKey>();
  const byHash = new Map<string, string>();
  let lastSweep = started;

  /** Drops buckets that are full again (the same as no bucket), as Redis expires them. */
  const sweepBuckets = (t: number): void => {
    if (t - lastSweep < 60_000) return;
    lastSweep = t;
    for (const [scope, levels] of buckets) {
      if (levels.requests && levels.requests.fullAt <= t) levels.requests = undefined;
      if (levels.tokens && levels.tokens.fullAt <= t) levels.tokens = undefined;
      if (!levels.requests && !levels.tokens) buckets.delete(scope);
    }
  };

  const liveSlots = (scope: string, t: number): Map<string, number> => {
    const held = slots.get(scope) ?? new Map<string, number>();
    for (const [id, expiresAt] of held) if (expiresAt <= t) held.delete(id);
    if (held.size === 0) slots.delete(scope);
    return held;
  };

  const liveReservations = (
    scope: string,
    t: number,
  ): { held: Map<string, { nano: number; expiresAt: number }>; sum: number } => {
    const held = reservations.get(scope) ?? new Map<string, { nano: number; expiresAt: number }>();
    let sum = 0;
    for (const [id, entry] of held) {
      if (entry.expiresAt <= t) {
        held.delete(id);
        lapsed.set(`${scope}|${id}`, t + 86_400_000);
      } else sum += entry.nano;
    }
    if (held.size === 0) reservations.delete(scope);
    return { held, sum };
  };

  const copy = (stored: StoredKey): StoredKey => structuredClone(stored);

  const listCooldowns = (t: number): Map<string, number> => {
    const left = new Map<string, number>();
    for (const [workerId, until] of cooling) {
      if (until > t) left.set(workerId, Math.ceil(until - t));
      else cooling.delete(workerId);
    }
    return left;
  };

  const newId = (): string => randomBytes(12).toString('hex');

  return {
    backend: 'memory',

    async takeRate(scope, limits, cost) {
      const t = now();
      sweepBuckets(t);
      const parameters = bucketParameters(limits);
      const levels = refill(buckets.get(scope), parameters, t);
      const decision = takeFromBuckets(levels, parameters, cost?.tokens ?? 0);
      buckets.set(scope, levels);
      return decision;
    },

    async adjustTokens(scope, limits, delta) {
      const parameters = bucketParameters(limits);
      if (parameters.tokensPerMs === 0) return;
      const levels = refill(buckets.get(scope), parameters, now());
      const bucket = levels.tokens!;
      setLevel(bucket, bucket.level - delta, parameters.tokensPerMs, parameters.tokenCapacity);
      buckets.set(scope, levels);
    },

    async acquireSlot(scope, limits) {
      const t = now();
      const held = liveSlots(scope, t);
      if (held.size >= limits.max) return { acquired: false, active: held.size };
      const leaseMs = limits.leaseMs ?? DEFAULT_LEASE_MS;
      const id = newId();
      held.set(id, t + leaseMs);
      slots.set(scope, held);
      return { acquired: true, lease: { scope, id, leaseMs } };
    },

    async releaseSlot(lease) {
      slots.get(lease.scope)?.delete(lease.id);
      liveSlots(lease.scope, now());
    },

    async reserveBudget(scope, budgets, estimateUsd, options) {
      const t = now();
      const estimate = toNano(estimateUsd, 'up');
      const { held, sum } = liveReservations(scope, t);
      for (const slot of limitedSlots(budgets, t)) {
        const used = spentIn(scope, slot);
        if (budgetRefuses(slot.limitNano, used, sum, estimate)) {
          return { reserved: false, exceeded: usageOf(slot, used, sum) };
        }
      }
      const id = newId();
      held.set(id, { nano: estimate, expiresAt: t + (options?.leaseMs ?? DEFAULT_LEASE_MS) });
      reservations.set(scope, held);
      return { reserved: true, reservation: { scope, id, estimateUsd } };
    },

    async settleBudget(reservation, actualUsd) {
      const t = now();
      // Counted once: for a running reservation, or one that lapsed in the last day (like the Redis state).
      liveReservations(reservation.scope, t);
      for (const [id, forgetAt] of lapsed) if (forgetAt <= t) lapsed.delete(id);
      const held = reservations.get(reservation.scope);
      const counted = held?.delete(reservation.id) || lapsed.delete(`${reservation.scope}|${reservation.id}`);
      if (held?.size === 0) reservations.delete(reservation.scope);
      if (!counted) return;
      const actual = toNano(actualUsd);
      for (const slot of windowSlots(t)) {
        spent.set(`${reservation.scope}|${slot.window}`, {
          id: slot.id,
          nano: spentIn(reservation.scope, slot) + actual,
        });
      }
    },

    async budgetUsage(scope, budgets) {
      const t = now();
      const { sum } = liveReservations(scope, t);
      return limitedSlots(budgets, t).map((slot) => usageOf(slot, spentIn(scope, slot), sum));
    },

    async reportFailure(workerId, breaker, options) {
      const t = now();
      const count = (failures.get(workerId) ?? 0) + 1;
      failures.set(workerId, count);
      if (count >= breaker.failureThreshold) cooling.set(workerId, t + breaker.cooldownMs);
      const forced = options?.cooldownMs ?? 0;
      if (forced > 0) cooling.set(workerId, Math.max(t + forced, cooling.get(workerId) ?? 0));
      return Math.ceil(Math.max(0, (cooling.get(workerId) ?? 0) - t));
    },

    async reportSuccess(workerId) {
      failures.delete(workerId);
      cooling.delete(workerId);
    },

    async coolDown(workerId, cooldownMs) {
      const until = now() + cooldownMs;
      cooling.set(workerId, Math.max(until, cooling.get(workerId) ?? 0));
    },

    async cooldowns() {
      return listCooldowns(now());
    },

    async admit(request) {
      const t = now();
      const { scope } = request;
      const cooldowns = listCooldowns(t);
      let levels: BucketLevels | undefined;
      const parameters = request.rate ? bucketParameters(request.rate) : undefined;
      if (parameters) {
        if (parameters.requestsPerMs > 0 || parameters.tokensPerMs > 0) {
          sweepBuckets(t);
          levels = refill(buckets.get(scope), parameters, t);
          const rate = takeFromBuckets(levels, parameters, request.tokens ?? 0);
          if (!rate.allowed) return { cooldowns, admitted: false, refusedBy: 'rate', rate };
        }
      }
      const held = request.slot ? liveSlots(scope, t) : undefined;
      if (request.slot && held && held.size >= request.slot.max) {
        return { cooldowns, admitted: false, refusedBy: 'concurrency', active: held.size };
      }
      const budget = request.budget;
      const estimate = budget ? toNano(budget.estimateUsd, 'up') : 0;
      const open = budget ? liveReservations(scope, t) : undefined;
      if (budget && open) {
        for (const slot of limitedSlots(budget.budgets, t)) {
          const used = spentIn(scope, slot);
          if (budgetRefuses(slot.limitNano, used, open.sum, estimate)) {
            return {
              cooldowns,
              admitted: false,
              refusedBy: 'budget',
              exceeded: usageOf(slot, used, open.sum),
            };
          }
        }
      }
      // Every check passed: take them all.
      if (levels && parameters) buckets.set(scope, levels);
      let lease: SlotLease | undefined;
      if (request.slot && held) {
        lease = { scope, id: newId(), leaseMs: request.slot.leaseMs ?? DEFAULT_LEASE_MS };
        held.set(lease.id, t + lease.leaseMs);
        slots.set(scope, held);
      }
      let reservation: BudgetReservation | undefined;
      if (budget && open) {
        reservation = { scope, id: newId(), estimateUsd: budget.estimateUsd };
        open.held.set(reservation.id, {
          nano: estimate,
          expiresAt: t + (budget.leaseMs ?? DEFAULT_LEASE_MS),
        });
        reservations.set(scope, open.held);
      }
      return { cooldowns, admitted: true, lease, reservation };
    },

    async createKey(key) {
      const { secret, stored } = buildKey(key, now());
      keys.set(stored.id, stored);
      byHash.set(stored.hash, stored.id);
      return { key: secret, record: publicRecord(copy(stored)) };
    },

    async lookupKey(presented) {
      const id = byHash.get(hashSecret(presented));
      const stored = id === undefined ? undefined : keys.get(id);
      return stored && stored.revokedAt === undefined ? publicRecord(copy(stored)) : undefined;
    },

    async listKeys() {
      return [...keys.values()].map((stored) => publicRecord(copy(stored)));
    },

    async getKey(id) {
      const stored = keys.get(id);
      return stored ? publicRecord(copy(stored)) : undefined;
    },

    async updateKey(id, patch) {
      const stored = keys.get(id);
      if (!stored || stored.revokedAt !== undefined) return undefined;
      const next = patchKey(stored, patch);
      keys.set(id, next);
      return publicRecord(copy(next));
    },

    async revokeKey(id) {
      const stored = keys.get(id);
      if (!stored || stored.revokedAt !== undefined) return false;
      keys.set(id, { ...stored, revokedAt: now() });
      byHash.delete(stored.hash);
      return true;
    },

    status(): StateStatus {
      return {
        backend: 'memory',
        connected: true,
        since: started,
        lastError: undefined,
        degraded: zeroCounts(),
      };
    },

    async close() {},
  };
}
