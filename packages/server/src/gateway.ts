/**
 * The OpenAI-compatible gateway: the fastify app, its routes (health, models, metrics, chat completions),
 * error shaping and graceful shutdown. What each request goes through lives beside it: admission and limits
 * (`limits.ts`), intake (`intake.ts`), the chat route (`chat-route.ts`), direct passthrough (`passthrough.ts`),
 * mode runs (`mode-runs.ts`) and SSE writing (`sse-writer.ts`).
 */
import { randomBytes } from 'node:crypto';
import {
  ChatCompletionRequestSchema,
  createAjv,
  createValidator,
  type Price,
  type Worker,
} from '@openfugu/schema';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { adminRoutes } from './admin.js';
import { createChatHandler } from './chat-route.js';
import { GatewayError, toErrorResponse } from './errors.js';
import { checkJsonShape, clip, shapeError } from './intake.js';
import {
  type Admission,
  type ClientGate,
  createClientGate,
  type LimitsConfig,
  resolveLimits,
  serverTimeouts,
} from './limits.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import type { GatewayMode } from './modes.js';
import { attachOpsUi, createGatewayOpsHub, type OpsUiConfig } from './ops/ui-routes.js';
import { createWorkerPool, DEFAULT_BREAKER, type WorkerPool, type WorkerPoolSettings } from './pool.js';
import type { ClientKey, RateLimit } from './rate-limit.js';
import { createMemoryState } from './state/memory-state.js';
import { registerStateMetrics } from './state/state-metrics.js';
import type { SharedState } from './state/types.js';
import {
  createRequestAdmitter,
  createSharedHealth,
  createUpstreamQuotas,
  type UpstreamLimits,
} from './state-gateway.js';

export { pointerToParam } from './intake.js';

/**
 * Gateway options (what a config file sets). The limits (`bodyLimitBytes`, `maxDepth`, `maxArrayItems`,
 * `maxMessages`, `requestTimeoutMs`, `headersTimeoutMs`, `bodyTimeoutMs`, …) are documented with their defaults
 * in `GatewayLimits` (limits.ts).
 */
export interface GatewayConfig extends LimitsConfig {
  /** Serve pool members directly under their public alias (default false). */
  exposeWorkers?: boolean;
  /** Client API keys; empty or absent: no authentication. */
  apiKeys?: readonly ClientKey[];
  /** Default per-client rate limit (per key; per IP address when there are no keys). */
  rateLimit?: RateLimit;
  /**
   * Failed authentications allowed per client address (default 30 a minute, burst 10); beyond it the address
   * gets 429 until its budget refills.
   */
  authFailureLimit?: RateLimit;
  /**
   * Which proxies' `X-Forwarded-For` to believe for the client address (fastify's `trustProxy`: `true`, or
   * addresses/CIDRs; default none). Per-address limits (rate limit without keys, failed-auth budget)
   * need it behind a reverse proxy, or every client shares the proxy's address.
   */
  trustProxy?: boolean | string | string[];
  /** How long `close()` waits for in-flight requests before cutting them (default 30 000). */
  shutdownTimeoutMs?: number;
  /** Allow the per-request debug trace (`x-openfugu-debug: 1`), default false. */
  debugTrace?: boolean;
  /** Serve `/metrics` (default true). */
  metrics?: boolean;
  /** `/metrics` needs a client key (default: true when `apiKeys` are configured, else false). */
  metricsRequireAuth?: boolean;
  /**
   * The admin API's master key (`/admin/keys`, 16 to 4096 characters); absent: no admin API. With it, keys
   * stored in the state are accepted beside `apiKeys`.
   */
  adminMasterKey?: string;
  /** Accept keys stored in the state (default: true when `adminMasterKey` is set). */
  storedKeys?: boolean;
  /** Provider quotas per upstream id, held across replicas through the state. */
  upstreamLimits?: Readonly<Record<string, UpstreamLimits>>;
  /** Breaker and fallback settings of the pool. */
  pool?: Omit<WorkerPoolSettings, 'workers' | 'observer'>;
  /** Shown in `/health` (e.g. that the pool is the embedded simulation). */
  description?: string;
  /** Fastify (pino) logger: `true`, or options such as `{ level, stream }` (default off). */
  logger?: boolean | { level?: string; stream?: { write(line: string): void } };
  /** The operations page at `/ui` (default off; see `ops/ui-routes.ts`). */
  ui?: OpsUiConfig;
}

/** Settings of `createGateway`. */
export interface GatewaySettings {
  /** The pool (router order). `UpstreamWorker`s get raw passthrough; plain `Worker`s are adapted. */
  workers: readonly Worker[];
  /** Public model names served by routers/workflows (`fugu`, `fugu-ultra`). */
  modes?: readonly GatewayMode[];
  config?: GatewayConfig;
  /**
   * Admission (key, rate limit, failed-auth throttle). Default: the in-memory `createClientGate(config)`; a gate
   * over a shared store lets several gateway processes share limits.
   */
  gate?: ClientGate;
  /**
   * Limits, budgets, worker health and stored keys (`createRedisState` shares them between replicas). Default:
   * `createMemoryState()`. The caller that creates it closes it after `close()`.
   */
  state?: SharedState;
}

/** A created gateway. */
export interface Gateway {
  readonly app: FastifyInstance;
  readonly pool: WorkerPool;
  readonly metrics: GatewayMetrics;
  /** Starts listening; resolves with the base URL (e.g. `http://127.0.0.1:8088`). */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  /** Stops accepting, lets in-flight requests finish (up to `shutdownTimeoutMs`), then closes. */
  close(): Promise<void>;
}

/**
 * Creates the gateway.
 *
 * @example
 * ```ts
 * const gateway = createGateway({ workers: [createOpenAIWorker({ id: 'fast', baseURL, model: 'gpt-4o-mini' })],
 *   modes: [createRoutedMode({ model: 'fugu', route: () => 0 })], config: { exposeWorkers: true } });
 * const url = await gateway.listen({ port: 8088 });
 * ```
 */
export function createGateway(settings: GatewaySettings): Gateway {
  const config = settings.config ?? {};
  const metrics = createGatewayMetrics();
  const ops = createGatewayOpsHub(config.ui);
  const state = settings.state ?? createMemoryState();
  const health = createSharedHealth(state, {
    failureThreshold: config.pool?.failureThreshold ?? DEFAULT_BREAKER.failureThreshold,
    cooldownMs: config.pool?.cooldownMs ?? DEFAULT_BREAKER.cooldownMs,
  });
  const quotas = config.upstreamLimits ? createUpstreamQuotas(state, config.upstreamLimits) : undefined;
  const pool = createWorkerPool({
    ...config.pool,
    workers: settings.workers,
    health,
    ...(quotas ? { beforeCall: quotas.beforeCall } : {}),
    observer: {
      onCall: (call) => {
        metrics.observeUpstream(call);
        quotas?.observe(call);
        ops?.onCall(call);
      },
    },
  });
  const modes = new Map((settings.modes ?? []).map((mode) => [mode.model, mode]));
  const direct = new Map<string, Worker>(
    config.exposeWorkers ? settings.workers.map((worker) => [worker.id, worker]) : [],
  );
  for (const name of modes.keys()) direct.delete(name);
  const limits = resolveLimits(config);
  // First issue only: validation work stays bounded by the schema, not by how wrong the input is.
  const validator = createValidator(ChatCompletionRequestSchema, createAjv({ allErrors: false }));
  const gate =
    settings.gate ??
    createClientGate({
      ...config,
      state,
      storedKeys: config.storedKeys ?? config.adminMasterKey !== undefined,
    });
  const admissions = new WeakMap<FastifyRequest, Admission>();
  const admitRequest = createRequestAdmitter({
    state,
    health,
    maxPrice: dearestPrice(settings.workers, config.pool?.prices),
    leaseMs: Math.max(600_000, limits.requestTimeoutMs + 60_000),
  });
  const metricsRequireAuth = config.metricsRequireAuth ?? (config.apiKeys?.length ?? 0) > 0;
  const created = Math.floor(Date.now() / 1000);
  const idPrefix = randomBytes(6).toString('hex');
  let counter = 0;
  let inFlight = 0;
  let closing = false;
  const idle: (() => void)[] = [];

  const sendError = (request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply => {
    const response = toErrorResponse(error);
    logFailure(request, error, response.status);
    if (response.body.error.code === 'no_available_worker' && response.headers['retry-after'] === undefined) {
      response.headers['retry-after'] = String(Math.max(1, Math.ceil(pool.retryAfterMs() / 1000)));
    }
    return reply.code(response.status).headers(response.headers).send(response.body);
  };

  const timeouts = serverTimeouts(limits);
  const app = Fastify({
    logger: config.logger ?? false,
    bodyLimit: limits.bodyLimitBytes,
    routerOptions: { maxParamLength: limits.maxModelIdLength },
    trustProxy: config.trustProxy ?? false,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Keep-alive must outlive typical client pools; headers are bounded by Node's maxHeaderSize.
    keepAliveTimeout: 65_000,
    requestTimeout: timeouts.requestTimeout,
    connectionTimeout: timeouts.connectionTimeout,
    http: {
      headersTimeout: timeouts.headersTimeout,
      connectionsCheckingInterval: timeouts.connectionsCheckingInterval,
    },
    // The framework's own refusals (bad percent-encoding, a path parameter over `maxModelIdLength`).
    frameworkErrors: (error, request, reply) => {
      const code = (error as { code?: string }).code;
      sendError(
        request,
        reply,
        code === 'FST_ERR_BAD_URL'
          ? new GatewayError({ kind: 'invalid_request', message: 'The request URL is malformed.' })
          : code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? new GatewayError({
                kind: 'invalid_request',
                message: `A model id is at most ${limits.maxModelIdLength} characters.`,
                param: 'model',
              })
            : error,
      );
    },
  });

  // JSON only: a text/plain body is a client mistake (415), not a string to validate. A JSON body's depth and
  // collection sizes are checked in one pass before it is parsed (limits: maxDepth, maxArrayItems).
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const shape = { maxDepth: limits.maxDepth, maxItems: limits.maxArrayItems };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const violation = checkJsonShape(body as string, shape);
    if (violation) done(shapeError(violation, shape), undefined);
    else parseJson(request, body as string, done);
  });

  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new GatewayError({ kind: 'route_not_found' })),
  );

  const authenticate = async (request: FastifyRequest): Promise<void> => {
    if (closing) throw new GatewayError({ kind: 'shutting_down' });
    const apiKey = request.headers['x-api-key'];
    const admission = await gate.admit({
      ip: request.ip,
      authorization: request.headers.authorization,
      apiKey: typeof apiKey === 'string' ? apiKey : undefined,
    });
    if (admission) admissions.set(request, admission);
  };

  // Admission (key, rate limit, failed-auth throttle) and wrong methods are decided on the headers alone,
  // before the body is read or parsed.
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.config as RouteFlags;
    if (route.allow !== undefined) {
      reply.header('allow', route.allow);
      throw new GatewayError({
        kind: 'method_not_allowed',
        message: `Method ${clip(request.method)} is not allowed here; allowed: ${route.allow}.`,
      });
    }
    if (route.admit === true) await authenticate(request);
  });
  const admitted = { config: { admit: true } satisfies RouteFlags };

  app.get('/health', async () => {
    const status = pool.status();
    const shared = state.status();
    return {
      status: closing ? 'shutting_down' : status.available > 0 && shared.connected ? 'ok' : 'degraded',
      ...(config.description ? { description: config.description } : {}),
      models: [...modes.keys(), ...direct.keys()],
      pool: status,
      // The shared state: `connected: false` means each concern answers by its failure policy.
      state: shared,
      inFlight,
    };
  });

  if (config.adminMasterKey !== undefined) {
    app.register(adminRoutes, { state, masterKey: config.adminMasterKey });
  }

  if (config.metrics !== false) {
    registerStateMetrics(metrics.registry, state);
    app.get(
      '/metrics',
      { config: { admit: metricsRequireAuth } satisfies RouteFlags },
      async (_request, reply) => {
        metrics.setInFlight(inFlight);
        reply.header('content-type', metrics.registry.contentType);
        return metrics.registry.metrics();
      },
    );
  }

  app.get('/v1/models', admitted, async () => {
    return {
      object: 'list',
      data: [...modes.keys(), ...direct.keys()].map((id) => ({
        id,
        object: 'model',
        created,
        owned_by: 'openfugu',
      })),
    };
  });

  app.get('/v1/models/:model', admitted, async (request) => {
    const model = (request.params as { model: string }).model;
    if (!modes.has(model) && !direct.has(model)) {
      throw new GatewayError({
        kind: 'model_not_found',
        message: `The model '${clip(model)}' does not exist.`,
        param: 'model',
      });
    }
    return { id: model, object: 'model', created, owned_by: 'openfugu' };
  });

  app.post(
    '/v1/chat/completions',
    admitted,
    createChatHandler({
      pool,
      metrics,
      limits,
      validator,
      modes,
      direct,
      debugTrace: config.debugTrace === true,
      limitOutput: limits.maxOutputBufferBytes,
      logFailure,
      admit: (request, chat) =>
        admitRequest(admissions.get(request) ?? { scope: `ip:${request.ip}`, limits: {} }, chat),
      keyName: (request) => admissions.get(request)?.name,
      begin() {
        inFlight++;
        return () => {
          inFlight--;
          if (inFlight === 0) for (const resolve of idle.splice(0)) resolve();
        };
      },
      nextId: () => `chatcmpl-${idPrefix}${(counter++).toString(36)}`,
      ...(ops ? { observe: ops.onRequestDone } : {}),
    }),
  );
  attachOpsUi(app, ops, { ui: config.ui, pool, ...(config.apiKeys ? { apiKeys: config.apiKeys } : {}) });

  // Wrong methods on known routes: 405 with `Allow` (HEAD comes with every GET).
  const known: [string, string[]][] = [
    ['/health', ['GET', 'HEAD']],
    ['/v1/models', ['GET', 'HEAD']],
    ['/v1/models/:model', ['GET', 'HEAD']],
    ['/v1/chat/completions', ['POST']],
  ];
  if (config.metrics !== false) known.push(['/metrics', ['GET', 'HEAD']]);
  for (const [url, allowed] of known) {
    app.route({
      method: METHODS.filter((method) => !allowed.includes(method)),
      url,
      config: { allow: allowed.join(', ') } satisfies RouteFlags,
      handler: async () => {
        throw new GatewayError({ kind: 'method_not_allowed' });
      },
    });
  }

  return {
    app,
    pool,
    metrics,
    async listen(options = {}) {
      await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8088 });
      const address = app.server.address();
      if (address === null || typeof address === 'string') return String(address);
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${host}:${address.port}`;
    },
    async close() {
      closing = true;
      const timeout = config.shutdownTimeoutMs ?? 30_000;
      if (inFlight > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((resolve) => idle.push(resolve)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeout);
          }),
        ]);
        clearTimeout(timer);
      }
      const closed = app.close();
      app.server.closeIdleConnections?.();
      const force = setTimeout(() => app.server.closeAllConnections?.(), 1000);
      await closed;
      clearTimeout(force);
    },
  };
}

/** The dearest input and output prices of the pool (USD per 1M tokens): the bound of a request's cost. */
function dearestPrice(
  workers: readonly Worker[],
  prices: Readonly<Record<string, Price>> | undefined,
): Price | undefined {
  let dearest: Price | undefined;
  for (const worker of workers) {
    const price = prices?.[worker.id] ?? (worker as { descriptor?: { price?: Price } }).descriptor?.price;
    if (!price) continue;
    dearest = {
      input: Math.max(dearest?.input ?? 0, price.input),
      output: Math.max(dearest?.output ?? 0, price.output),
    };
  }
  return dearest;
}

/** What a route tells the `onRequest` hook: admission needed, or the methods it allows (a 405 route). */
interface RouteFlags {
  admit?: boolean;
  allow?: string;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** Logs the cause of a 5xx answer (the client only sees the safe message); 4xx are the client's own. */
function logFailure(request: FastifyRequest, error: unknown, status: number): void {
  if (status >= 500) request.log.error({ err: error }, 'request failed with HTTP %d', status);
}
