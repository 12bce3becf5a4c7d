/**
 * The shared state in Redis, for several gateway replicas behind a load balancer. Every check is one Lua
 * script (atomic, one round trip); see `redis-scripts.ts`. When Redis is unreachable each concern follows
 * its failure policy (`local` in-memory state, or `closed` → `StateUnavailableError`); no Redis error ever
 * escapes a method, and the client reconnects with capped exponential backoff.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  bucketParameters,
  buildKey,
  DEFAULT_LEASE_MS,
  hashSecret,
  limitedSlots,
  parseStoredKey,
  patchKey,
  publicRecord,
  type StoredKey,
  toNano,
  usageOf,
  windowSlots,
  zeroCounts,
} from './common.js';
import { createMemoryState } from './memory-state.js';
import {
  ACQUIRE_SLOT_SCRIPT,
  ADMIT_SCRIPT,
  COOL_DOWN_SCRIPT,
  COOLDOWNS_SCRIPT,
  FAILURE_SCRIPT,
  LOOKUP_KEY_SCRIPT,
  RATE_SCRIPT,
  RESERVE_SCRIPT,
  SETTLE_SCRIPT,
  SWAP_KEY_SCRIPT,
  USAGE_SCRIPT,
} from './redis-scripts.js';
import {
  type BudgetReservation,
  type FailurePolicy,
  type KeyRecord,
  type SharedState,
  type StateConcern,
  type StateStatus,
  StateUnavailableError,
} from './types.js';

/**
 * Default failure policy per concern. Limits and health fall back to this replica's memory (the service stays
 * up; a limit then holds per replica). Budgets fail closed (money: 503 rather than unbounded spend). Keys
 * answer from the replica's cache of keys it saw valid in the last `keyCacheMs`, other keys get a 503 (admin
 * writes always fail).
 */
export const DEFAULT_FAILURE_POLICY: Readonly<Record<StateConcern, FailurePolicy>> = {
  rateLimits: 'local',
  concurrency: 'local',
  budgets: 'closed',
  keys: 'local',
  health: 'local',
};

/** Settings of `createRedisState`. */
export interface RedisStateSettings {
  /** `redis://[:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** Prefix of every key (default `openfugu:`), so several deployments can share one Redis. */
  keyPrefix?: string;
  /** A command that takes longer fails over to the policy (default 500 ms): a slow Redis never hangs a request. */
  commandTimeoutMs?: number;
  /** Connection attempt timeout (default 2 000 ms). */
  connectTimeoutMs?: number;
  /** Reconnect backoff: first delay and cap (default 50 ms doubling up to 2 000 ms, with jitter). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Per-concern failure policy (default `DEFAULT_FAILURE_POLICY`). */
  failurePolicy?: Partial<Record<StateConcern, FailurePolicy>>;
  /** How long a key seen valid stays usable from the local cache while Redis is down (default 600 000 ms). */
  keyCacheMs?: number;
  /** Wall clock for budget windows and key timestamps (default `Date.now`); leases and buckets use Redis time. */
  now?: () => number;
}

/** The Redis-backed state, with the connection's readiness. */
export interface RedisState extends SharedState {
  readonly backend: 'redis';
  /** Resolves true once connected, false if not within `timeoutMs` (the state works either way). */
  ready(timeoutMs?: number): Promise<boolean>;
}

type Script = (...args: Array<string | number>) => Promise<unknown>;

const SCRIPTS = {
  ofRate: { keys: 1, lua: RATE_SCRIPT },
  ofAcquire: { keys: 1, lua: ACQUIRE_SLOT_SCRIPT },
  ofSettle: { keys: 7, lua: SETTLE_SCRIPT },
  ofFailure: { keys: 2, lua: FAILURE_SCRIPT },
  ofCoolDown: { keys: 1, lua: COOL_DOWN_SCRIPT },
  ofCooldowns: { keys: 1, lua: COOLDOWNS_SCRIPT },
  ofLookup: { keys: 2, lua: LOOKUP_KEY_SCRIPT },
  ofSwap: { keys: 2, lua: SWAP_KEY_SCRIPT },
} as const;

/** Scripts whose number of keys depends on the call (the limited budget windows). */
const VARIADIC = { ofReserve: RESERVE_SCRIPT, ofUsage: USAGE_SCRIPT, ofAdmit: ADMIT_SCRIPT } as const;

const KEY_CACHE_LIMIT = 10_000;
const PENDING_LIMIT = 10_000;

/**
 * Creates the Redis-backed state. It connects in the background; until it is connected (and whenever the
 * connection drops) each concern follows its failure policy.
 *
 * @example
 * ```ts
 * const state = createRedisState({ url: 'redis://127.0.0.1:6379', keyPrefix: 'openfugu:prod:' });
 * await state.ready(2_000);
 * const decision = await state.takeRate('key:alice', { requestsPerMinute: 60, burst: 10 });
 * ```
 */
export function createRedisState(settings: RedisStateSettings): RedisState {
  const now = settings.now ?? Date.now;
  const policy = { ...DEFAULT_FAILURE_POLICY, ...settings.failurePolicy };
  const keyCacheMs = settings.keyCacheMs ?? 600_000;
  const initialDelay = settings.reconnect?.initialDelayMs ?? 50;
  const maxDelay = settings.reconnect?.maxDelayMs ?? 2_000;
  const local = createMemoryState({ now });
  const degraded = zeroCounts();
  let connected = false;
  let since = now();
  let lastError: string | undefined;
  let closing = false;
  const readyWaiters = new Set<() => void>();
  /** Settlements that could not reach Redis, replayed on reconnect so spend is not lost. */
  const pending: Array<{ reservation: BudgetReservation; actualUsd: number; at: number; force: boolean }> =
    [];
  /** Keys seen valid, by hash, for the `local` key policy. */
  const keyCache = new Map<string, { record: KeyRecord; at: number }>();

  const client = new Redis(settings.url, {
    keyPrefix: settings.keyPrefix ?? 'openfugu:',
    // Commands issued while disconnected fail at once (the policy answers) instead of waiting in a queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: settings.commandTimeoutMs ?? 500,
    connectTimeout: settings.connectTimeoutMs ?? 2_000,
    retryStrategy: (times) => {
      if (closing) return null;
      const delay = Math.min(maxDelay, initialDelay * 2 ** Math.min(times - 1, 16));
      return Math.round(delay / 2 + (delay / 2) * Math.random());
    },
  });
  for (const [name, script] of Object.entries(SCRIPTS)) {
    client.defineCommand(name, { numberOfKeys: script.keys, lua: script.lua });
  }
  for (const [name, lua] of Object.entries(VARIADIC)) client.defineCommand(name, { lua });
  const script = (name: keyof typeof SCRIPTS | keyof typeof VARIADIC): Script =>
    (client as unknown as Record<string, Script>)[name]!.bind(client);

  const setConnected = (value: boolean): void => {
    if (connected === value) return;
    connected = value;
    since = now();
  };
  client.on('ready', () => {
    setConnected(true);
    for (const wake of readyWaiters) wake();
    readyWaiters.clear();
    void flushPending();
  });
  client.on('close', () => setConnected(false));
  client.on('end', () => setConnected(false));
  // Without an 'error' listener an unreachable Redis would crash the process (EventEmitter semantics).
  client.on('error', (error: Error) => {
    lastError = describeError(error, settings.url);
  });

  /** Runs `shared`; on any Redis failure (or while disconnected) answers by the concern's policy. */
  const guarded = async <T>(
    concern: StateConcern | readonly StateConcern[],
    shared: () => Promise<T>,
    fallback: () => Promise<T>,
  ): Promise<T> => {
    if (client.status === 'ready') {
      try {
        return await shared();
      } catch (error) {
        lastError = describeError(error, settings.url);
        return degrade(concern, fallback, error);
      }
    }
    return degrade(concern, fallback, new Error(`redis ${client.status}`));
  };
  const degrade = async <T>(
    concern: StateConcern | readonly StateConcern[],
    fallback: () => Promise<T>,
    cause: unknown,
  ): Promise<T> => {
    const concerns = typeof concern === 'string' ? [concern] : concern;
    for (const each of concerns) degraded[each]++;
    const closed = concerns.find((each) => policy[each] === 'closed');
    if (closed !== undefined) throw new StateUnavailableError(closed, cause);
    return fallback();
  };
  /** Writes that have no local meaning (admin): always closed. */
  const sharedOnly = async <T>(shared: () => Promise<T>): Promise<T> =>
    guarded('keys', shared, () => Promise.reject(new StateUnavailableError('keys')));

  const bucketKey = (scope: string) => `rl:${scope}`;
  const slotKey = (scope: string) => `slot:${scope}`;
  const reservationKeys = (scope: string) => [
    `res:${scope}`,
    `resamt:${scope}`,
    `ressum:${scope}`,
    `reslapsed:${scope}`,
  ];
  const spendKey = (scope: string, windowId: string) => `spend:${scope}:${windowId}`;
  const FAILURES = 'health:failures';
  const COOLDOWNS = 'health:cooldowns';
  const KEYS_BY_HASH = 'keys:byhash';
  const KEY_RECORDS = 'keys:records';
  const isLocal = (id: string) => id.startsWith('local:');

  const settleShared = async (
    reservation: BudgetReservation,
    actualUsd: number,
    at: number,
    force: boolean,
  ): Promise<void> => {
    const slots = windowSlots(at);
    const day = slots[0]!.resetAt! + 86_400_000;
    const month = slots[1]!.resetAt! + 86_400_000;
    await script('ofSettle')(
      ...reservationKeys(reservation.scope),
      ...slots.map((slot) => spendKey(reservation.scope, slot.id)),
      reservation.id,
      toNano(actualUsd),
      day,
      month,
      force ? '1' : '0',
    );
  };

  let flushing = false;
  const flushPending = async (): Promise<void> => {
    // One replay at a time: a reconnect during a replay must not settle the same entry twice.
    if (flushing) return;
    flushing = true;
    try {
      while (pending.length > 0 && client.status === 'ready') {
        const next = pending[0]!;
        try {
          await settleShared(next.reservation, next.actualUsd, next.at, next.force);
          pending.shift();
        } catch (error) {
          lastError = describeError(error, settings.url);
          return;
        }
      }
    } finally {
      flushing = false;
    }
  };

  const readKey = async (id: string): Promise<StoredKey | undefined> =>
    parseStoredKey(await client.hget(KEY_RECORDS, id));

  /** Compare-and-set loop over a key record (a concurrent admin write makes it read again). */
  const swapKey = async (
    id: string,
    change: (stored: StoredKey) => StoredKey | undefined,
    unlink: boolean,
  ): Promise<StoredKey | undefined> => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const raw = await client.hget(KEY_RECORDS, id);
      const stored = parseStoredKey(raw);
      if (!stored || raw === null) return undefined;
      const next = change(stored);
      if (!next) return undefined;
      const args = [
        KEY_RECORDS,
        KEYS_BY_HASH,
        id,
        raw,
        JSON.stringify(next),
        ...(unlink ? [stored.hash] : []),
      ];
      if ((await script('ofSwap')(...args)) === 1) return next;
    }
    throw new StateUnavailableError('keys', new Error('key record kept changing'));
  };

  return {
    backend: 'redis',

    async ready(timeoutMs = settings.connectTimeoutMs ?? 2_000) {
      if (client.status === 'ready') return true;
      return new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          readyWaiters.delete(wake);
          resolve(false);
        }, timeoutMs);
        readyWaiters.add(wake);
      });
    },

    takeRate(scope, limits, cost) {
      const p = bucketParameters(limits);
      if (p.requestsPerMs === 0 && p.tokensPerMs === 0) return Promise.resolve({ allowed: true });
      return guarded(
        'rateLimits',
        async () => {
          const reply = (await script('ofRate')(
            bucketKey(scope),
            p.requestsPerMs,
            p.requestCapacity,
            p.tokensPerMs,
            p.tokenCapacity,
            cost?.tokens ?? 0,
            'take',
          )) as [number, string?, number?];
          return reply[0] === 1
            ? { allowed: true as const }
            : {
                allowed: false as const,
                limit: reply[1] as 'requests' | 'tokens',
                retryAfterMs: Number(reply[2]),
              };
        },
        () => local.takeRate(scope, limits, cost),
      );
    },

    async adjustTokens(scope, limits, delta) {
      const p = bucketParameters(limits);
      if (p.tokensPerMs === 0) return;
      await guarded(
        'rateLimits',
        async () => {
          await script('ofRate')(
            bucketKey(scope),
            p.requestsPerMs,
            p.requestCapacity,
            p.tokensPerMs,
            p.tokenCapacity,
            delta,
            'adjust',
          );
        },
        () => local.adjustTokens(scope, limits, delta),
      );
    },

    acquireSlot(scope, limits) {
      return guarded(
        'concurrency',
        async () => {
          const leaseMs = limits.leaseMs ?? DEFAULT_LEASE_MS;
          const id = randomBytes(12).toString('hex');
          const reply = (await script('ofAcquire')(slotKey(scope), limits.max, leaseMs, id)) as [
            number,
            number,
          ];
          return reply[0] === 1
            ? { acquired: true as const, lease: { scope, id, leaseMs } }
            : { acquired: false as const, active: reply[1] };
        },
        async () => {
          const decision = await local.acquireSlot(scope, limits);
          return decision.acquired
            ? { acquired: true, lease: { ...decision.lease, id: `local:${decision.lease.id}` } }
            : decision;
        },
      );
    },

    async releaseSlot(lease) {
      if (isLocal(lease.id)) return local.releaseSlot({ ...lease, id: lease.id.slice(6) });
      // A release that cannot reach Redis is not an error for the request: the lease expires on its own.
      await guarded(
        'concurrency',
        async () => {
          await client.zrem(slotKey(lease.scope), lease.id);
        },
        async () => {},
      ).catch(() => {});
    },

    reserveBudget(scope, budgets, estimateUsd, options) {
      return guarded(
        'budgets',
        async () => {
          const at = now();
          const slots = limitedSlots(budgets, at);
          const id = randomBytes(12).toString('hex');
          const reply = (await script('ofReserve')(
            4 + slots.length,
            ...reservationKeys(scope),
            ...slots.map((slot) => spendKey(scope, slot.id)),
            id,
            toNano(estimateUsd, 'up'),
            options?.leaseMs ?? DEFAULT_LEASE_MS,
            ...slots.map((slot) => slot.limitNano),
          )) as number[];
          if (reply[0] === 1) return { reserved: true as const, reservation: { scope, id, estimateUsd } };
          const slot = slots[reply[1]! - 1]!;
          return { reserved: false as const, exceeded: usageOf(slot, reply[2]!, reply[3]!) };
        },
        async () => {
          const decision = await local.reserveBudget(scope, budgets, estimateUsd, options);
          return decision.reserved
            ? {
                reserved: true,
                reservation: { ...decision.reservation, id: `local:${decision.reservation.id}` },
              }
            : decision;
        },
      );
    },

    async settleBudget(reservation, actualUsd) {
      if (isLocal(reservation.id)) {
        return local.settleBudget({ ...reservation, id: reservation.id.slice(6) }, actualUsd);
      }
      const at = now();
      // Not sent at all (disconnected): the replay may count it even if Redis lost the reservation meanwhile.
      // Sent but failed (a timeout may hide a settlement that ran): the replay counts only what Redis still
      // holds, so it cannot count twice.
      const sent = client.status === 'ready';
      try {
        if (!sent) throw new Error(`redis ${client.status}`);
        await settleShared(reservation, actualUsd, at, false);
      } catch (error) {
        lastError = describeError(error, settings.url);
        degraded.budgets++;
        // The request already ran: its cost is kept and replayed when Redis is back.
        if (pending.length < PENDING_LIMIT) pending.push({ reservation, actualUsd, at, force: !sent });
      }
    },

    budgetUsage(scope, budgets) {
      return guarded(
        'budgets',
        async () => {
          const slots = limitedSlots(budgets, now());
          const reply = (await script('ofUsage')(
            4 + slots.length,
            ...reservationKeys(scope),
            ...slots.map((slot) => spendKey(scope, slot.id)),
          )) as number[];
          return slots.map((slot, index) => usageOf(slot, reply[index + 1]!, reply[0]!));
        },
        () => local.budgetUsage(scope, budgets),
      );
    },

    admit(request) {
      const { scope } = request;
      const rate = request.rate ? bucketParameters(request.rate) : undefined;
      const rateOn = rate !== undefined && (rate.requestsPerMs > 0 || rate.tokensPerMs > 0);
      const concerns: StateConcern[] = [
        'health',
        ...(rateOn ? (['rateLimits'] as const) : []),
        ...(request.slot ? (['concurrency'] as const) : []),
        ...(request.budget ? (['budgets'] as const) : []),
      ];
      return guarded(
        concerns,
        async () => {
          const slots = request.budget ? limitedSlots(request.budget.budgets, now()) : [];
          const slotId = randomBytes(12).toString('hex');
          const reservationId = randomBytes(12).toString('hex');
          const slotLeaseMs = request.slot?.leaseMs ?? DEFAULT_LEASE_MS;
          const reply = (await script('ofAdmit')(
            7 + slots.length,
            bucketKey(scope),
            slotKey(scope),
            ...reservationKeys(scope),
            COOLDOWNS,
            ...slots.map((slot) => spendKey(scope, slot.id)),
            rateOn ? 1 : 0,
            rate?.requestsPerMs ?? 0,
            rate?.requestCapacity ?? 0,
            rate?.tokensPerMs ?? 0,
            rate?.tokenCapacity ?? 0,
            request.tokens ?? 0,
            request.slot ? request.slot.max : -1,
            slotLeaseMs,
            slotId,
            request.budget ? toNano(request.budget.estimateUsd, 'up') : -1,
            request.budget?.leaseMs ?? DEFAULT_LEASE_MS,
            reservationId,
            ...slots.map((slot) => slot.limitNano),
          )) as unknown[];
          const cooldowns = cooldownMap(reply[reply.length - 1] as Array<string | number>);
          if (reply[0] === 1) {
            return {
              cooldowns,
              admitted: true as const,
              lease: request.slot ? { scope, id: slotId, leaseMs: slotLeaseMs } : undefined,
              reservation: request.budget
                ? { scope, id: reservationId, estimateUsd: request.budget.estimateUsd }
                : undefined,
            };
          }
          if (reply[1] === 'rate') {
            return {
              cooldowns,
              admitted: false as const,
              refusedBy: 'rate' as const,
              rate: {
                allowed: false as const,
                limit: reply[2] as 'requests' | 'tokens',
                retryAfterMs: Number(reply[3]),
              },
            };
          }
          if (reply[1] === 'concurrency') {
            return {
              cooldowns,
              admitted: false as const,
              refusedBy: 'concurrency' as const,
              active: Number(reply[2]),
            };
          }
          const slot = slots[Number(reply[2]) - 1]!;
          return {
            cooldowns,
            admitted: false as const,
            refusedBy: 'budget' as const,
            exceeded: usageOf(slot, Number(reply[3]), Number(reply[4])),
          };
        },
        async () => {
          const decision = await local.admit(request);
          if (!decision.admitted) return decision;
          return {
            ...decision,
            lease: decision.lease && { ...decision.lease, id: `local:${decision.lease.id}` },
            reservation: decision.reservation && {
              ...decision.reservation,
              id: `local:${decision.reservation.id}`,
            },
          };
        },
      );
    },

    reportFailure(workerId, breaker, options) {
      return guarded(
        'health',
        async () =>
          Number(
            await script('ofFailure')(
              FAILURES,
              COOLDOWNS,
              workerId,
              breaker.failureThreshold,
              breaker.cooldownMs,
              Math.max(0, options?.cooldownMs ?? 0),
            ),
          ),
        () => local.reportFailure(workerId, breaker, options),
      );
    },

    reportSuccess(workerId) {
      return guarded(
        'health',
        async () => {
          await client.multi().hdel(FAILURES, workerId).hdel(COOLDOWNS, workerId).exec();
        },
        () => local.reportSuccess(workerId),
      );
    },

    coolDown(workerId, cooldownMs) {
      return guarded(
        'health',
        async () => {
          await script('ofCoolDown')(COOLDOWNS, workerId, cooldownMs);
        },
        () => local.coolDown(workerId, cooldownMs),
      );
    },

    cooldowns() {
      return guarded(
        'health',
        async () => {
          return cooldownMap((await script('ofCooldowns')(COOLDOWNS)) as Array<string | number>);
        },
        () => local.cooldowns(),
      );
    },

    createKey(key) {
      return sharedOnly(async () => {
        const { secret, stored } = buildKey(key, now());
        await client
          .multi()
          .hset(KEY_RECORDS, stored.id, JSON.stringify(stored))
          .hset(KEYS_BY_HASH, stored.hash, stored.id)
          .exec();
        return { key: secret, record: publicRecord(stored) };
      });
    },

    lookupKey(presented) {
      const hash = hashSecret(presented);
      return guarded(
        'keys',
        async () => {
          const stored = parseStoredKey(
            (await script('ofLookup')(KEYS_BY_HASH, KEY_RECORDS, hash)) as string | null,
          );
          if (!stored || stored.revokedAt !== undefined) {
            keyCache.delete(hash);
            return undefined;
          }
          const record = publicRecord(stored);
          keyCache.delete(hash);
          keyCache.set(hash, { record, at: now() });
          if (keyCache.size > KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value!);
          return record;
        },
        async () => {
          // A key this replica has not seen lately cannot be verified: 503, not a misleading 401.
          const cached = keyCache.get(hash);
          if (cached && now() - cached.at <= keyCacheMs) return structuredClone(cached.record);
          throw new StateUnavailableError('keys');
        },
      );
    },

    listKeys() {
      return sharedOnly(async () => {
        const values = await client.hvals(KEY_RECORDS);
        return values.flatMap((value) => {
          const stored = parseStoredKey(value);
          return stored ? [publicRecord(stored)] : [];
        });
      });
    },

    getKey(id) {
      return sharedOnly(async () => {
        const stored = await readKey(id);
        return stored ? publicRecord(stored) : undefined;
      });
    },

    updateKey(id, patch) {
      return sharedOnly(async () => {
        const next = await swapKey(
          id,
          (stored) => (stored.revokedAt === undefined ? patchKey(stored, patch) : undefined),
          false,
        );
        if (next) keyCache.delete(next.hash);
        return next ? publicRecord(next) : undefined;
      });
    },

    revokeKey(id) {
      return sharedOnly(async () => {
        const next = await swapKey(
          id,
          (stored) => (stored.revokedAt === undefined ? { ...stored, revokedAt: now() } : undefined),
          true,
        );
        if (next) keyCache.delete(next.hash);
        return next !== undefined;
      });
    },

    status(): StateStatus {
      return { backend: 'redis', connected, since, lastError, degraded: { ...degraded } };
    },

    async close() {
      closing = true;
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

/** `{worker, msLeft, ...}` from a script → a map. */
function cooldownMap(flat: ReadonlyArray<string | number>): Map<string, number> {
  const left = new Map<string, number>();
  for (let index = 0; index + 1 < flat.length; index += 2)
    left.set(String(flat[index]), Number(flat[index + 1]));
  return left;
}

/** An error as one line, with any password in the URL masked. */
function describeError(error: unknown, url: string): string {
  const text = error instanceof Error ? error.message : String(error);
  let masked = text;
  try {
    const password = new URL(url).password;
    if (password) masked = masked.split(password).join('***');
  } catch {}
  return masked.slice(0, 300);
}
