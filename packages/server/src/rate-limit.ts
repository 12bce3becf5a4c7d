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
}

/**
 * Creates an in-memory token-bucket limiter. Buckets idle long enough to be full are dropped, so memory
 * stays bounded by the number of active keys.
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
  return {
    take(key, limit) {
      const t = now();
      const capacity = Math.max(1, limit.burst ?? limit.requestsPerMinute);
      const perMs = limit.requestsPerMinute / 60_000;
      if (t - lastSweep > 60_000) {
        for (const [name, bucket] of buckets) {
          if (bucket.tokens + (t - bucket.at) * perMs >= capacity) buckets.delete(name);
        }
        lastSweep = t;
      }
      const bucket = buckets.get(key) ?? { tokens: capacity, at: t };
      bucket.tokens = Math.min(capacity, bucket.tokens + (t - bucket.at) * perMs);
      bucket.at = t;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return perMs > 0 ? (1 - bucket.tokens) / perMs / 1000 : Number.POSITIVE_INFINITY;
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
