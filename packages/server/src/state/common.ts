/**
 * Pieces both state implementations share, so they agree to the nano-dollar and the millisecond: budget
 * windows, money units, bucket arithmetic, key secrets and the stored key record's schema.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createValidator } from '@openfugu/schema';
import { type Static, Type } from '@sinclair/typebox';
import type {
  Budgets,
  BudgetUsage,
  BudgetWindow,
  KeyPatch,
  KeyRecord,
  NewKey,
  RateDecision,
  RateLimits,
  StateConcern,
} from './types.js';

/** Money is kept as integer nano-USD: exact sums, and below 2^53 up to nine million dollars. */
export const NANO_PER_USD = 1e9;

/** USD → nano-USD; estimates round up so a reservation never under-counts. */
export function toNano(usd: number, round: 'up' | 'nearest' = 'nearest'): number {
  const value = Math.max(0, usd) * NANO_PER_USD;
  return round === 'up' ? Math.ceil(value - 1e-6) : Math.round(value);
}

/** Nano-USD → USD. */
export function toUsd(nano: number): number {
  return nano / NANO_PER_USD;
}

/** Default lease of a slot or a reservation: a replica that died releases its holdings after this. */
export const DEFAULT_LEASE_MS = 600_000;

/** The three spend counters every settlement adds to, in the order budgets are checked. */
export const BUDGET_WINDOWS: readonly BudgetWindow[] = ['daily', 'monthly', 'total'];

/** One budget window at a given instant: the counter's id, when it resets, and its limit. */
export interface WindowSlot {
  window: BudgetWindow;
  /** Suffix of the spend counter: `d:2026-12-04`, `m:2026-12` or `t`. */
  id: string;
  /** Start of the next window (epoch ms), undefined for `total`. */
  resetAt: number | undefined;
}

/** The current counter of each window at `now` (UTC calendar days and months). */
export function windowSlots(now: number): WindowSlot[] {
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const day = date.getUTCDate();
  const iso = date.toISOString();
  return [
    { window: 'daily', id: `d:${iso.slice(0, 10)}`, resetAt: Date.UTC(year, month, day + 1) },
    { window: 'monthly', id: `m:${iso.slice(0, 7)}`, resetAt: Date.UTC(year, month + 1, 1) },
    { window: 'total', id: 't', resetAt: undefined },
  ];
}

/** The configured windows of `budgets`, with their limits in nano-USD. */
export function limitedSlots(budgets: Budgets, now: number): Array<WindowSlot & { limitNano: number }> {
  return windowSlots(now).flatMap((slot) => {
    const limit = budgets[slot.window];
    return limit === undefined ? [] : [{ ...slot, limitNano: toNano(limit) }];
  });
}

/**
 * The budget rule both implementations apply: refused when the window is already used up, or when this
 * estimate on top of the settled spend and the running reservations would pass the limit.
 */
export function budgetRefuses(
  limitNano: number,
  spentNano: number,
  reservedNano: number,
  estimateNano: number,
): boolean {
  return spentNano + reservedNano >= limitNano || spentNano + reservedNano + estimateNano > limitNano;
}

/** A window's figures in USD. */
export function usageOf(
  slot: WindowSlot & { limitNano: number },
  spentNano: number,
  reservedNano: number,
): BudgetUsage {
  return {
    window: slot.window,
    limitUsd: toUsd(slot.limitNano),
    spentUsd: toUsd(spentNano),
    reservedUsd: toUsd(reservedNano),
    resetAt: slot.resetAt,
  };
}

/** Bucket parameters as numbers: rate 0 means "not limited". */
export interface BucketParameters {
  requestsPerMs: number;
  requestCapacity: number;
  tokensPerMs: number;
  tokenCapacity: number;
}

/** Normalises `RateLimits` (burst defaults to the per-minute figure, at least 1). */
export function bucketParameters(limits: RateLimits): BucketParameters {
  const rpm = limits.requestsPerMinute ?? 0;
  const tpm = limits.tokensPerMinute ?? 0;
  return {
    requestsPerMs: rpm > 0 ? rpm / 60_000 : 0,
    requestCapacity: rpm > 0 ? Math.max(1, limits.burst ?? rpm) : 0,
    tokensPerMs: tpm > 0 ? tpm / 60_000 : 0,
    tokenCapacity: tpm > 0 ? Math.max(1, limits.tokenBurst ?? tpm) : 0,
  };
}

/** One bucket's level, when it was last brought up to date, and when it will be full again. */
export interface BucketLevel {
  level: number;
  at: number;
  fullAt: number;
}

/**
 * A scope's two buckets. Each is kept on its own (its own timestamp), so a call that limits only requests
 * leaves the token bucket as it was, and the other way round. Undefined: full (never used, or refilled).
 */
export interface BucketLevels {
  requests: BucketLevel | undefined;
  tokens: BucketLevel | undefined;
}

/**
 * One rate check on refilled `levels` (mutated when allowed). A token cost larger than the whole bucket is
 * clipped to it: such a request waits for a full bucket instead of never passing. The Lua script in
 * `redis-scripts.ts` is this function, line for line.
 */
export function takeFromBuckets(
  levels: BucketLevels,
  parameters: BucketParameters,
  tokens: number,
): RateDecision {
  const need = Math.min(Math.max(0, tokens), parameters.tokenCapacity);
  const requests = levels.requests?.level ?? parameters.requestCapacity;
  const available = levels.tokens?.level ?? parameters.tokenCapacity;
  const requestWait =
    parameters.requestsPerMs > 0 && requests < 1 ? (1 - requests) / parameters.requestsPerMs : 0;
  const tokenWait =
    parameters.tokensPerMs > 0 && available < need ? (need - available) / parameters.tokensPerMs : 0;
  if (requestWait > 0 || tokenWait > 0) {
    // Compared in whole milliseconds, so float noise of the refill cannot flip a tie between the buckets.
    const requestMs = Math.ceil(requestWait);
    const tokenMs = Math.ceil(tokenWait);
    return {
      allowed: false,
      limit: requestMs >= tokenMs ? 'requests' : 'tokens',
      retryAfterMs: Math.max(requestMs, tokenMs),
    };
  }
  if (levels.requests && parameters.requestsPerMs > 0) {
    setLevel(
      levels.requests,
      levels.requests.level - 1,
      parameters.requestsPerMs,
      parameters.requestCapacity,
    );
  }
  if (levels.tokens && parameters.tokensPerMs > 0) {
    setLevel(levels.tokens, levels.tokens.level - need, parameters.tokensPerMs, parameters.tokenCapacity);
  }
  return { allowed: true };
}

/** Sets a bucket's level (clamped to [-capacity, capacity]) and when it is full again. */
export function setLevel(bucket: BucketLevel, level: number, perMs: number, capacity: number): void {
  bucket.level = Math.max(-capacity, Math.min(capacity, level));
  bucket.fullAt = bucket.at + Math.ceil((capacity - bucket.level) / perMs);
}

/** Refills the buckets `parameters` limit up to `now` (a missing one starts full); the others stay as they were. */
export function refill(
  levels: BucketLevels | undefined,
  parameters: BucketParameters,
  now: number,
): BucketLevels {
  const fill = (
    bucket: BucketLevel | undefined,
    perMs: number,
    capacity: number,
  ): BucketLevel | undefined => {
    if (perMs <= 0) return bucket;
    const level = Math.min(
      capacity,
      (bucket?.level ?? capacity) + Math.max(0, now - (bucket?.at ?? now)) * perMs,
    );
    const next = { level, at: now, fullAt: now };
    setLevel(next, level, perMs, capacity);
    return next;
  };
  return {
    requests: fill(levels?.requests, parameters.requestsPerMs, parameters.requestCapacity),
    tokens: fill(levels?.tokens, parameters.tokensPerMs, parameters.tokenCapacity),
  };
}

/**
 * The scope of a client key's limits and budgets: `key:<id>` for a stored key, `key:config:<name>` for a key
 * from the configuration file (which has no id).
 */
export function keyScope(id: string): string {
  return `key:${id}`;
}

/** Hex SHA-256 of a presented secret: the only form in which keys are stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new secret (`sk-of-` and 32 url-safe characters, 192 bits) and its record id. */
export function newSecret(): { secret: string; id: string } {
  return {
    secret: `sk-of-${randomBytes(24).toString('base64url')}`,
    id: `key_${randomBytes(8).toString('hex')}`,
  };
}

/** How many characters of the secret a listing shows. */
export const KEY_PREFIX_LENGTH = 10;

const UsdAmount = Type.Number({ minimum: 0, maximum: 1e6 });

/** Limits a key may carry (the admin API's body schema and the stored record's). */
export const KeyLimitsSchema = {
  rateLimit: Type.Optional(
    Type.Object(
      {
        requestsPerMinute: Type.Number({ exclusiveMinimum: 0 }),
        burst: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
  ),
  tokenLimit: Type.Optional(
    Type.Object(
      {
        tokensPerMinute: Type.Number({ exclusiveMinimum: 0 }),
        burst: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
  ),
  maxConcurrent: Type.Optional(Type.Integer({ minimum: 1 })),
  budgets: Type.Optional(
    Type.Object(
      { daily: Type.Optional(UsdAmount), monthly: Type.Optional(UsdAmount), total: Type.Optional(UsdAmount) },
      { additionalProperties: false },
    ),
  ),
};

const KeyName = Type.String({ minLength: 1, maxLength: 200 });

/** A key as stored (the record plus the secret's hash). */
export const StoredKeySchema = Type.Object(
  {
    id: Type.String(),
    name: KeyName,
    prefix: Type.String(),
    hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    createdAt: Type.Number(),
    revokedAt: Type.Optional(Type.Number()),
    ...KeyLimitsSchema,
  },
  { additionalProperties: false },
);

/** A stored key. */
export type StoredKey = Static<typeof StoredKeySchema>;

/** Body of a key creation. */
export const NewKeySchema = Type.Object(
  { name: KeyName, ...KeyLimitsSchema },
  { additionalProperties: false },
);

const Nullable = <T extends import('@sinclair/typebox').TSchema>(schema: T) =>
  Type.Optional(Type.Union([schema, Type.Null()]));

/** Body of a key update: each field replaces the stored one; `null` removes a limit. */
export const KeyPatchSchema = Type.Object(
  {
    name: Type.Optional(KeyName),
    rateLimit: Nullable(KeyLimitsSchema.rateLimit),
    tokenLimit: Nullable(KeyLimitsSchema.tokenLimit),
    maxConcurrent: Nullable(KeyLimitsSchema.maxConcurrent),
    budgets: Nullable(KeyLimitsSchema.budgets),
  },
  { additionalProperties: false },
);

const storedKeyValidator = createValidator(StoredKeySchema);

/** Parses a stored record read back from the store; undefined when it is not one (never trusted blindly). */
export function parseStoredKey(text: string | null | undefined): StoredKey | undefined {
  if (typeof text !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const result = storedKeyValidator.validate(value);
  return result.ok ? result.value : undefined;
}

/** A new stored key and its secret. */
export function buildKey(key: NewKey, now: number): { secret: string; stored: StoredKey } {
  const { secret, id } = newSecret();
  const stored: StoredKey = {
    ...copyLimits(key),
    id,
    name: key.name,
    prefix: secret.slice(0, KEY_PREFIX_LENGTH),
    hash: hashSecret(secret),
    createdAt: now,
  };
  return { secret, stored };
}

function copyLimits(
  limits: NewKey | StoredKey,
): Omit<StoredKey, 'id' | 'name' | 'prefix' | 'hash' | 'createdAt'> {
  return {
    ...(limits.rateLimit ? { rateLimit: { ...limits.rateLimit } } : {}),
    ...(limits.tokenLimit ? { tokenLimit: { ...limits.tokenLimit } } : {}),
    ...(limits.maxConcurrent !== undefined ? { maxConcurrent: limits.maxConcurrent } : {}),
    ...(limits.budgets ? { budgets: { ...limits.budgets } } : {}),
  };
}

/** `stored` with `patch` applied. */
export function patchKey(stored: StoredKey, patch: KeyPatch): StoredKey {
  const next: Record<string, unknown> = { ...stored };
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete next[field];
    else next[field] = value;
  }
  return next as StoredKey;
}

/** The public record: the stored key without its hash. */
export function publicRecord(stored: StoredKey): KeyRecord {
  const { hash: _hash, ...record } = stored;
  return record;
}

/** A zeroed counter per concern. */
export function zeroCounts(): Record<StateConcern, number> {
  return { rateLimits: 0, concurrency: 0, budgets: 0, keys: 0, health: 0 };
}
