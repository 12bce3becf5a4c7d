/**
 * The gateway's limits in one place: their documented defaults, and the admission decision (client key, rate
 * limit) each request passes before anything else runs. The decisions sit behind narrow calls so that a shared
 * store (several gateway processes) can replace the in-memory one later.
 */
import { GatewayError } from './errors.js';
import {
  type ClientKey,
  createKeyMatcher,
  createRateLimiter,
  presentedKey,
  type RateLimit,
} from './rate-limit.js';
import { keyScope } from './state/common.js';
import type { KeyLimits, SharedState } from './state/types.js';

/**
 * Every limit of a gateway, resolved from its config (`GatewayConfig`, the same names; `server.*` in a config
 * file). The defaults are `DEFAULT_LIMITS`; the package README's threat model says what each one defends.
 */
export interface GatewayLimits {
  /** Largest request body in bytes (default 4 MiB); larger is a 413 while it is read. */
  bodyLimitBytes: number;
  /** Deepest nesting of a request body's JSON (default 64); deeper is a 400 before the body is parsed. */
  maxDepth: number;
  /**
   * Most items in any one array, and members in any one object, of a request body (default 4096, and never
   * below `maxMessages`); more is a 400 before the body is parsed.
   */
  maxArrayItems: number;
  /** Most messages in one request (default 4096). */
  maxMessages: number;
  /** Longest model id accepted (default 256 characters). */
  maxModelIdLength: number;
  /** Total deadline of one request in ms, all worker calls and the answer's writing included (default 120 000). */
  requestTimeoutMs: number;
  /** Time a client has to send the request headers, in ms (default 10 000; Node's `headersTimeout`). */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request, headers and body, in ms (default 30 000; Node's `requestTimeout`). */
  bodyTimeoutMs: number;
  /**
   * Longest inactivity of a connection, in ms (default `requestTimeoutMs` + 30 000): a socket with no byte in or
   * out for that long is destroyed (a client that stopped reading a finished answer).
   */
  socketTimeoutMs: number;
  /**
   * Most bytes of an answer queued for one client that does not read them (default 8 MiB); beyond it the
   * response is cut and its request freed.
   */
  maxOutputBufferBytes: number;
  /** Largest `n` a mode serves (default 8). */
  maxChoices: number;
  /** Most of one request's `n` runs at once (default 4). */
  choiceConcurrency: number;
}

/** The limit fields of a gateway config (all optional; absent means the default). */
export type LimitsConfig = { [K in keyof GatewayLimits]?: number };

/** The defaults of every limit (`socketTimeoutMs`: `requestTimeoutMs` + 30 000 unless set). */
export const DEFAULT_LIMITS: Readonly<GatewayLimits> = {
  bodyLimitBytes: 4 * 1024 * 1024,
  maxDepth: 64,
  maxArrayItems: 4096,
  maxMessages: 4096,
  maxModelIdLength: 256,
  requestTimeoutMs: 120_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  socketTimeoutMs: 150_000,
  maxOutputBufferBytes: 8 * 1024 * 1024,
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
  if (config.socketTimeoutMs === undefined) limits.socketTimeoutMs = limits.requestTimeoutMs + 30_000;
  limits.maxArrayItems = Math.max(limits.maxArrayItems, limits.maxMessages);
  limits.headersTimeoutMs = Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs);
  limits.choiceConcurrency = Math.max(1, limits.choiceConcurrency);
  return limits;
}

/** Node http server options enforcing the read timeouts (checked at least every second). */
export function serverTimeouts(limits: GatewayLimits): {
  requestTimeout: number;
  headersTimeout: number;
  connectionTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    requestTimeout: limits.bodyTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    connectionTimeout: limits.socketTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** Failed authentications allowed per client address before it is refused with 429 for a while. */
export const DEFAULT_AUTH_FAILURE_LIMIT: Readonly<RateLimit> = { requestsPerMinute: 30, burst: 10 };

/** The request facts admission looks at (no body: it runs before the body is read). */
export interface AdmissionInput {
  ip: string;
  authorization: string | undefined;
  apiKey: string | undefined;
}

/**
 * Who a request was admitted as: the scope its limits are counted in (`key:config:<name>` for a configured
 * key, `key:<id>` for a stored key, `ip:<address>` without keys) and the limits that apply to it.
 */
export interface Admission {
  scope: string;
  limits: KeyLimits;
  /**
   * The client key's name (a configured key's `name`, a stored key's `name`), as the operations page shows it;
   * absent for a request admitted by its address.
   */
  name?: string;
}

/**
 * Decides whether a request may proceed. The one call the gateway makes per request (awaited, so a gate backed
 * by a shared store may answer asynchronously).
 */
export interface ClientGate {
  /**
   * Throws (or rejects with) a `GatewayError` (401, 429, 503) when the request may not proceed; may say who it
   * admitted (the scope of the later checks: tokens, concurrency, budget).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a gate that only refuses may return nothing (`async admit() {}`).
  admit(input: AdmissionInput): void | Admission | Promise<void | Admission>;
}

/**
 * Creates the gate: with keys, a request must present one (`Authorization: Bearer` or `x-api-key`, compared in
 * constant time) and is limited per key; without keys, per client address. Without `state` the request limit
 * is counted in this process; with it (`SharedState`), in the state — shared by every replica on the Redis
 * state — and keys stored in it (admin API) are accepted beside the configured ones.
 */
export function createClientGate(options: {
  apiKeys?: readonly ClientKey[];
  rateLimit?: RateLimit;
  /** Failed authentications allowed per client address (default 30 a minute, burst 10). */
  authFailureLimit?: RateLimit;
  now?: () => number;
  /** Where request limits are counted and stored keys are looked up (default: this process, no stored keys). */
  state?: SharedState;
  /** Accept keys stored in `state` (the admin API), and so require a key even when none is configured. */
  storedKeys?: boolean;
}): ClientGate {
  const keys = options.apiKeys ?? [];
  const state = options.state;
  const storedKeys = state !== undefined && options.storedKeys === true;
  const matchConfigured = keys.length > 0 ? createKeyMatcher(keys) : undefined;
  const matchKey = matchConfigured ?? (storedKeys ? () => undefined : undefined);
  const now = options.now ?? (() => performance.now());
  const limiter = createRateLimiter(now);
  const failureLimit = options.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT;
  /** Failed-authentication budget per client address (a token bucket; empty: the address is refused). */
  const failures = createRateLimiter(now);
  const refuseThrottled = (ip: string): void => {
    const wait = failures.wait(ip, failureLimit);
    if (wait > 0) {
      throw new GatewayError({
        kind: 'rate_limited',
        message: 'Too many failed authentications from this address; retry later.',
        retryAfterSeconds: wait,
      });
    }
  };
  const recordFailure = (ip: string): void => failures.charge(ip, failureLimit);
  const limitOf = (rateLimit: RateLimit | undefined): KeyLimits => (rateLimit ? { rateLimit } : {});
  /** The request limit of an admitted scope: in this process, or in the state. */
  const take = (admission: Admission): Admission | Promise<Admission> => {
    const limit = admission.limits.rateLimit;
    if (!limit) return admission;
    if (!state) {
      const wait = limiter.take(admission.scope, limit);
      if (wait > 0) throw new GatewayError({ kind: 'rate_limited', retryAfterSeconds: wait });
      return admission;
    }
    return state.takeRate(admission.scope, limit).then((decision) => {
      if (!decision.allowed) {
        throw new GatewayError({ kind: 'rate_limited', retryAfterSeconds: decision.retryAfterMs / 1000 });
      }
      return admission;
    });
  };
  return {
    admit(input) {
      if (!matchKey) return take({ scope: `ip:${input.ip}`, limits: limitOf(options.rateLimit) });
      refuseThrottled(input.ip);
      const presented = presentedKey(input);
      const key = presented !== undefined ? matchKey(presented) : undefined;
      if (key) {
        return take({
          scope: state ? `key:config:${key.name}` : `key:${key.name}`,
          limits: limitOf(key.rateLimit ?? options.rateLimit),
          name: key.name,
        });
      }
      if (!storedKeys || presented === undefined || !state) {
        recordFailure(input.ip);
        throw new GatewayError({ kind: 'unauthorized' });
      }
      return state.lookupKey(presented).then((record) => {
        if (!record) {
          recordFailure(input.ip);
          throw new GatewayError({ kind: 'unauthorized' });
        }
        const { id: _id, name, prefix: _prefix, createdAt: _c, revokedAt: _r, ...limits } = record;
        return take({
          scope: keyScope(record.id),
          name,
          limits: {
            ...limits,
            ...(limits.rateLimit || !options.rateLimit ? {} : { rateLimit: options.rateLimit }),
          },
        });
      });
    },
  };
}
