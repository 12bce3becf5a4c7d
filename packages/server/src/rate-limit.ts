/** Per-key token buckets and constant-time API-key lookup. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** A rate limit: sustained requests per minute and a burst size (default: the per-minute figure). */
export interface RateLimit {
  requestsPerMinute: number;
  burst?: number;
}

/** A token bucket keyed by client. */
export interface RateLimiter {
  /** Takes one token; returns 0 when allowed, else the seconds until a token is available. */
  take(key: string, limit: RateLimit): number;
  /** Seconds until `key` has a token again, taking none (0: it has one, or has no bucket yet). */
  wait(key: string, limit: RateLimit): number;
  /** Takes one token whatever the bucket holds (it may go below zero: a debt that refills like tokens). */
  charge(key: string, limit: RateLimit): void;
}

/**
 * Creates an in-memory token-bucket limiter. Buckets idle long enough to be full are dropped (swept at most
 * once a minute), so memory stays bounded by the number of active keys.
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter();
 * limiter.take('alice', { requestsPerMinute: 60, burst: 10 }); // 0 → allowed
 * ```
 */
export function createRateLimiter(now: () => number = () => performance.now()): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = now();
  /** The bucket of `key` refilled to now (a new full one when `create`, else undefined when absent). */
  const refilled = (key: string, limit: RateLimit, create: boolean) => {
    const t = now();
    const capacity = Math.max(1, limit.burst ?? limit.requestsPerMinute);
    const perMs = limit.requestsPerMinute / 60_000;
    if (t - lastSweep > 60_000) {
      for (const [name, bucket] of buckets) {
        if (bucket.tokens + (t - bucket.at) * perMs >= capacity) buckets.delete(name);
      }
      lastSweep = t;
    }
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      if (!create) return undefined;
      bucket = { tokens: capacity, at: t };
      buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(capacity, bucket.tokens + (t - bucket.at) * perMs);
    bucket.at = t;
    return { bucket, perMs };
  };
  const secondsUntilToken = (tokens: number, perMs: number): number =>
    perMs > 0 ? (1 - tokens) / perMs / 1000 : Number.POSITIVE_INFINITY;
  return {
    take(key, limit) {
      const { bucket, perMs } = refilled(key, limit, true)!;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return secondsUntilToken(bucket.tokens, perMs);
    },
    wait(key, limit) {
      const state = refilled(key, limit, false);
      return state === undefined || state.bucket.tokens >= 1
        ? 0
        : secondsUntilToken(state.bucket.tokens, state.perMs);
    },
    charge(key, limit) {
      refilled(key, limit, true)!.bucket.tokens -= 1;
    },
  };
}

/** A configured client key. */
export interface ClientKey {
  /** The secret (read from the environment by the app; never logged). */
  key: string;
  /** Name used in rate-limit buckets and logs. */
  name: string;
  rateLimit?: RateLimit;
}

/**
 * Looks up a presented key among the configured ones in constant time per key: both sides are hashed
 * to fixed-length digests and compared with `timingSafeEqual`, and every key is compared (no early exit).
 */
export function createKeyMatcher(keys: readonly ClientKey[]): (presented: string) => ClientKey | undefined {
  const digests = keys.map((entry) => ({ entry, digest: createHash('sha256').update(entry.key).digest() }));
  return (presented) => {
    const digest = createHash('sha256').update(presented).digest();
    let found: ClientKey | undefined;
    for (const candidate of digests) {
      if (timingSafeEqual(candidate.digest, digest) && found === undefined) found = candidate.entry;
    }
    return found;
  };
}

/** The longest key a request may present (4096 characters); longer is refused before any hashing. */
export const MAX_PRESENTED_KEY_LENGTH = 4096;

/**
 * The key a request presents: the token of `Authorization: Bearer …` (scheme in any case, trimmed), else
 * `x-api-key`; undefined when there is none, or when it is empty or longer than `MAX_PRESENTED_KEY_LENGTH`.
 * The one parser of client, operator and admin credentials.
 *
 * @example
 * ```ts
 * presentedKey({ authorization: 'bearer  sk-alice ' }); // 'sk-alice'
 * presentedKey({ authorization: undefined, apiKey: 'sk-bob' }); // 'sk-bob'
 * ```
 */
export function presentedKey(headers: { authorization: unknown; apiKey?: unknown }): string | undefined {
  const { authorization, apiKey } = headers;
  return usableKey(
    typeof authorization === 'string' && /^bearer /i.test(authorization)
      ? authorization.slice(7).trim()
      : apiKey,
  );
}

/**
 * `presented` when it is a string of 1 to `MAX_PRESENTED_KEY_LENGTH` characters, else undefined.
 *
 * @example
 * ```ts
 * usableKey(request.query.key); // a key given in a URL, checked like a header's
 * ```
 */
export function usableKey(presented: unknown): string | undefined {
  return typeof presented === 'string' && presented.length > 0 && presented.length <= MAX_PRESENTED_KEY_LENGTH
    ? presented
    : undefined;
}
