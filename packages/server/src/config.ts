/**
 * The server's configuration file (JSON or YAML): one TypeBox schema, validation errors that point at the
 * bad field, secrets only through environment variables (`apiKeyEnv`, `keyEnv`).
 */
import { readFile } from 'node:fs/promises';
import { createValidator, OpenFuguError, type ValidationIssue } from '@openfugu/schema';
import { type Static, Type } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { pointerToParam } from './intake.js';
import type { RedisStateSettings } from './state/redis-state.js';

const Positive = (description: string) => Type.Integer({ minimum: 1, description });

const RateLimitSchema = Type.Object(
  {
    requestsPerMinute: Type.Number({ exclusiveMinimum: 0 }),
    burst: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const PriceSchema = Type.Object(
  { input: Type.Number({ minimum: 0 }), output: Type.Number({ minimum: 0 }) },
  { additionalProperties: false },
);

const Policy = Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('closed')]));

/** Shared state of several replicas (`docs/deploy.md`). Absent: everything stays in this process. */
const StateSchema = Type.Object(
  {
    redis: Type.Optional(
      Type.Object(
        {
          url: Type.Optional(
            Type.String({
              pattern: '^rediss?://',
              description: 'Redis URL without credentials (else urlEnv)',
            }),
          ),
          urlEnv: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'Environment variable holding the URL (default OPENFUGU_REDIS_URL)',
            }),
          ),
          keyPrefix: Type.Optional(Type.String({ minLength: 1 })),
          commandTimeoutMs: Type.Optional(Positive('A slower Redis command follows the failure policy')),
          connectTimeoutMs: Type.Optional(Positive('Connection attempt timeout')),
          keyCacheMs: Type.Optional(
            Type.Integer({ minimum: 0, description: 'Keys seen valid stay usable while Redis is down' }),
          ),
          failurePolicy: Type.Optional(
            Type.Object(
              { rateLimits: Policy, concurrency: Policy, budgets: Policy, keys: Policy, health: Policy },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** One upstream pool member. */
export const UpstreamConfigSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._:/-]+$', description: 'Public alias' }),
    baseURL: Type.String({ pattern: '^https?://', description: 'OpenAI-compatible base URL, with /v1' }),
    model: Type.String({ minLength: 1, description: 'Upstream model name (internal)' }),
    apiKeyEnv: Type.Optional(
      Type.String({ minLength: 1, description: 'Environment variable holding the key' }),
    ),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    description: Type.Optional(Type.String()),
    price: Type.Optional(PriceSchema),
    timeoutMs: Type.Optional(Positive('Per-attempt timeout')),
    streamIdleTimeoutMs: Type.Optional(Positive('Longest silence inside a stream')),
    maxRetries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    maxResponseBytes: Type.Optional(Positive('Largest upstream answer read (bytes, default 16 MiB)')),
    maxStreamEventBytes: Type.Optional(
      Positive('Longest upstream SSE line or event (characters, default 4 MiB)'),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          requestsPerMinute: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          tokensPerMinute: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
        },
        {
          additionalProperties: false,
          description: "The provider's quota, held across all replicas (a worker over it is skipped)",
        },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The whole configuration file. Every object is closed, so a typo is reported at its path. */
export const ServerConfigSchema = Type.Object(
  {
    server: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ minLength: 1 })),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          bodyLimitBytes: Type.Optional(Positive('Largest request body')),
          maxMessages: Type.Optional(Positive('Most messages per request')),
          maxDepth: Type.Optional(Positive('Deepest JSON nesting of a request body (default 64)')),
          maxArrayItems: Type.Optional(
            Positive('Most items of any array or object in a request body (default 4096)'),
          ),
          maxModelIdLength: Type.Optional(Positive('Longest model id (default 256)')),
          headersTimeoutMs: Type.Optional(Positive('Time to receive the request headers (default 10 000)')),
          bodyTimeoutMs: Type.Optional(Positive('Time to receive the whole request (default 30 000)')),
          socketTimeoutMs: Type.Optional(
            Positive('Longest connection inactivity (default requestTimeoutMs + 30 000)'),
          ),
          maxOutputBufferBytes: Type.Optional(
            Positive('Most answer bytes queued for a client that is not reading (default 8 MiB)'),
          ),
          requestTimeoutMs: Type.Optional(Positive('Total request deadline')),
          maxChoices: Type.Optional(Positive('Largest n a mode serves (independent runs)')),
          choiceConcurrency: Type.Optional(Positive("Most of one request's n runs at once")),
          shutdownTimeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
          exposeWorkers: Type.Optional(Type.Boolean()),
          trustProxy: Type.Optional(
            Type.Union([Type.Boolean(), Type.String(), Type.Array(Type.String())], {
              description: 'Proxies whose X-Forwarded-For gives the client address (fastify trustProxy)',
            }),
          ),
          debugTrace: Type.Optional(Type.Boolean()),
          metrics: Type.Optional(Type.Boolean()),
          metricsRequireAuth: Type.Optional(Type.Boolean()),
          logger: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          keys: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  name: Type.String({ minLength: 1 }),
                  keyEnv: Type.String({ minLength: 1, description: 'Environment variable holding the key' }),
                  rateLimit: Type.Optional(RateLimitSchema),
                },
                { additionalProperties: false },
              ),
            ),
          ),
          rateLimit: Type.Optional(RateLimitSchema),
          /** Failed authentications allowed per client address (default 30 a minute, burst 10). */
          failureLimit: Type.Optional(RateLimitSchema),
        },
        { additionalProperties: false },
      ),
    ),
    pool: Type.Optional(
      Type.Object(
        {
          failureThreshold: Type.Optional(Positive('Failures that open a circuit')),
          cooldownMs: Type.Optional(Type.Integer({ minimum: 0 })),
          maxFallbacks: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    ui: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ description: 'Serve the operations page at /ui' })),
          adminKeyEnv: Type.Optional(
            Type.String({ minLength: 1, description: 'Environment variable holding the operator key' }),
          ),
          reportDir: Type.Optional(Type.String({ minLength: 1, description: 'Directory of SVG reports' })),
          traceCapacity: Type.Optional(Positive('Recent request traces kept')),
          maxViewers: Type.Optional(Positive('Most live-feed viewers at once')),
        },
        { additionalProperties: false },
      ),
    ),
    upstreams: Type.Optional(Type.Array(UpstreamConfigSchema, { minItems: 1 })),
    state: Type.Optional(StateSchema),
    admin: Type.Optional(
      Type.Object(
        {
          masterKeyEnv: Type.String({
            minLength: 1,
            description: 'Environment variable holding the admin master key',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    simulated: Type.Optional(
      Type.Object(
        {
          seed: Type.Optional(Type.Integer()),
          latency: Type.Optional(Type.Boolean({ description: 'Simulate model latency (default true)' })),
        },
        { additionalProperties: false },
      ),
    ),
    router: Type.Optional(
      Type.Object(
        {
          model: Type.Optional(Type.String({ minLength: 1, description: 'Public name, default fugu' })),
          maxTurns: Type.Optional(Positive('TRINITY turns')),
          headPath: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'Trained head file (hashing backbone; agents = upstream ids in order)',
            }),
          ),
          hashingSeed: Type.Optional(
            Type.Integer({ description: 'Seed of the hashing backbone the head was trained with' }),
          ),
          trainingTasks: Type.Optional(Positive('Simulated tasks used to train the head at start-up')),
          lambda: Type.Optional(
            Type.Number({
              minimum: 0,
              maximum: 100,
              description:
                'Default cost–quality knob λ of the router model: predicted quality − λ · price / max price (default 0.05)',
            }),
          ),
          presets: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  model: Type.String({ minLength: 1, description: 'Public model name' }),
                  lambda: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
                  maxStrongShare: Type.Optional(
                    Type.Number({
                      minimum: 0,
                      maximum: 1,
                      description:
                        'At most this share of traffic to the most expensive worker, calibrated on the embedded head’s training prompts',
                    }),
                  ),
                  description: Type.Optional(Type.String()),
                },
                { additionalProperties: false },
              ),
              {
                minItems: 1,
                maxItems: 16,
                description: 'Preset model names over the router (default fugu-fast, <model>, fugu-max)',
              },
            ),
          ),
          seed: Type.Optional(Type.Integer()),
        },
        { additionalProperties: false },
      ),
    ),
    conductor: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          model: Type.Optional(Type.String({ minLength: 1, description: 'Public name, default fugu-ultra' })),
          planner: Type.Optional(Type.String({ minLength: 1, description: 'Upstream id of the planner' })),
          maxRounds: Type.Optional(Positive('Planning rounds')),
          maxSteps: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
          numberedWorkers: Type.Optional(
            Type.Boolean({
              description:
                'Show the planner a numbered worker list and read integer worker ids (model_id: [1, 0, 2]) as indices into it',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** A validated configuration. */
export type ServerConfig = Static<typeof ServerConfigSchema>;

const validator = createValidator(ServerConfigSchema);

/** A configuration problem, with every issue's path. */
export class ConfigError extends OpenFuguError {
  readonly issues: readonly ValidationIssue[];
  constructor(options: { message: string; issues?: readonly ValidationIssue[]; cause?: unknown }) {
    super({ code: 'config_error', message: options.message, cause: options.cause });
    this.name = 'ConfigError';
    this.issues = options.issues ?? [];
  }
}

/**
 * Validates a parsed configuration object; throws a `ConfigError` whose message lists each bad field
 * as a path (`upstreams[0].baseURL: must match pattern "^https?://"`).
 *
 * @example
 * ```ts
 * const config = parseConfig({ upstreams: [{ id: 'fast', baseURL: 'http://127.0.0.1:4000/v1', model: 'gpt-4o-mini' }] });
 * ```
 */
export function parseConfig(value: unknown, source = 'configuration'): ServerConfig {
  const result = validator.validate(value ?? {});
  if (result.ok) {
    const config = result.value;
    const ids = new Set<string>();
    for (const [index, upstream] of (config.upstreams ?? []).entries()) {
      if (ids.has(upstream.id)) {
        throw new ConfigError({
          message: `${source}: upstreams[${index}].id: duplicate id '${upstream.id}'`,
          issues: [{ code: 'duplicate', path: `/upstreams/${index}/id`, message: 'duplicate id' }],
        });
      }
      ids.add(upstream.id);
    }
    const planner = config.conductor?.planner;
    if (planner !== undefined && config.upstreams && !ids.has(planner)) {
      throw new ConfigError({
        message: `${source}: conductor.planner: no upstream has id '${planner}'`,
        issues: [{ code: 'unknown_reference', path: '/conductor/planner', message: 'unknown upstream id' }],
      });
    }
    return config;
  }
  const lines = result.issues.map((issue) => `  ${pointerToParam(issue.path) || '(root)'}: ${issue.message}`);
  throw new ConfigError({ message: `${source} is invalid:\n${lines.join('\n')}`, issues: result.issues });
}

/**
 * Reads a JSON or YAML configuration file (by extension: `.yaml`/`.yml` are YAML, anything else JSON)
 * and validates it.
 */
export async function loadConfigFile(path: string): Promise<ServerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError({ message: `cannot read configuration file ${path}`, cause: error });
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ConfigError({
      message: `${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
      cause: error,
    });
  }
  return parseConfig(value, path);
}

/** Reads a secret from the environment; a missing variable is a `ConfigError` naming the field. */
export function secretFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  field: string,
): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ConfigError({ message: `${field}: environment variable ${name} is not set` });
  }
  return value;
}

/** The environment variable that enables the Redis state without a configuration file. */
export const REDIS_URL_ENV = 'OPENFUGU_REDIS_URL';

/**
 * The Redis state settings of a configuration: `state.redis` (URL from `url`, else from `urlEnv`, default
 * `OPENFUGU_REDIS_URL`), or only `OPENFUGU_REDIS_URL` in the environment. Undefined: the in-memory state.
 *
 * @example
 * ```ts
 * redisStateSettings({}, { OPENFUGU_REDIS_URL: 'redis://10.0.0.5:6379' }); // { url: 'redis://10.0.0.5:6379' }
 * ```
 */
export function redisStateSettings(
  config: ServerConfig,
  env: Readonly<Record<string, string | undefined>>,
): RedisStateSettings | undefined {
  const redis = config.state?.redis;
  if (!redis) {
    const url = env[REDIS_URL_ENV];
    return url ? { url } : undefined;
  }
  const url = redis.url ?? env[redis.urlEnv ?? REDIS_URL_ENV];
  if (!url) {
    throw new ConfigError({
      message: `state.redis: no URL: set state.redis.url or the environment variable ${redis.urlEnv ?? REDIS_URL_ENV}`,
    });
  }
  const { urlEnv: _urlEnv, url: _url, failurePolicy, ...rest } = redis;
  return {
    url,
    ...rest,
    ...(failurePolicy
      ? { failurePolicy: Object.fromEntries(Object.entries(failurePolicy).filter(([, v]) => v)) }
      : {}),
  };
}
