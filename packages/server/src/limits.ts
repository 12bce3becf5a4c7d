/**
 * The gateway's limits in one place: their documented defaults, and the admission decision (client key, rate
 * limit) each request passes before anything else runs. The decisions sit behind narrow calls so that a shared
 * store (several gateway processes) can replace the in-memory one later.
 */
import { GatewayError } from './errors.js';
import { type ClientKey, createKeyMatcher, createRateLimiter, type RateLimit } from './rate-limit.js';

/** Every limit of a gateway, resolved from its config (see `resolveLimits` for the defaults). */
export interface GatewayLimits {
  /** Largest request body in bytes (`bodyLimitBytes`, default 4 MiB). */
  bodyLimitBytes: number;
  /** Most messages in one request (`maxMessages`, default 4096). */
  maxMessages: number;
  /** Total deadline of one request in ms (`requestTimeoutMs`, default 120 000). */
  requestTimeoutMs: number;
  /** Largest `n` a mode serves (`maxChoices`, default 8). */
  maxChoices: number;
  /** Most of one request's `n` runs at once (`choiceConcurrency`, default 4). */
  choiceConcurrency: number;
}

/** The limit fields of a gateway config (all optional; absent means the default). */
export type LimitsConfig = { [K in keyof GatewayLimits]?: number };

/** The defaults of every limit. */
export const DEFAULT_LIMITS: Readonly<GatewayLimits> = {
  bodyLimitBytes: 4 * 1024 * 1024,
  maxMessages: 4096,
  requestTimeoutMs: 120_000,
  maxChoices: 8,
  choiceConcurrency: 4,
};

/** Resolves a config's limits against the defaults. */
export function resolveLimits(config: LimitsConfig): GatewayLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const name of Object.keys(DEFAULT_LIMITS) as (keyof GatewayLimits)[]) {
    const value = config[name];
    if (value !== undefined) limits[name] = value;
  }
  limits.choiceConcurrency = Math.max(1, limits.choiceConcurrency);
  return limits;
}

/** The request facts admission looks at (no body: it runs before the body is read). */
export interface AdmissionInput {
  ip: string;
  authorization: string | undefined;
  apiKey: string | undefined;
}

/** Decides whether a request may proceed. */
export interface ClientGate {
  /** Throws a `GatewayError` (401, 429) when the request may not proceed. */
  admit(input: AdmissionInput): void;
}

/**
 * Creates the in-memory gate: with keys, a request must present one (`Authorization: Bearer` or `x-api-key`,
 * compared in constant time) and is limited per key; without keys, per client address.
 */
export function createClientGate(options: {
  apiKeys?: readonly ClientKey[];
  rateLimit?: RateLimit;
}): ClientGate {
  const keys = options.apiKeys ?? [];
  const matchKey = keys.length > 0 ? createKeyMatcher(keys) : undefined;
  const limiter = createRateLimiter();
  return {
    admit(input) {
      let bucket = `ip:${input.ip}`;
      let limit = options.rateLimit;
      if (matchKey) {
        const header = input.authorization;
        const presented =
          typeof header === 'string' && /^bearer /i.test(header)
            ? header.slice(7).trim()
            : typeof input.apiKey === 'string'
              ? input.apiKey
              : undefined;
        const key = presented === undefined || presented.length > 4096 ? undefined : matchKey(presented);
        if (!key) throw new GatewayError({ kind: 'unauthorized' });
        bucket = `key:${key.name}`;
        limit = key.rateLimit ?? options.rateLimit;
      }
      if (limit) {
        const wait = limiter.take(bucket, limit);
        if (wait > 0) throw new GatewayError({ kind: 'rate_limited', retryAfterSeconds: wait });
      }
    },
  };
}
