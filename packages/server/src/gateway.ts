/**
 * The OpenAI-compatible gateway: the fastify app, its routes (health, models, metrics, chat completions),
 * error shaping and graceful shutdown. What each request goes through lives beside it: admission and limits
 * (`limits.ts`), intake (`intake.ts`), the chat route (`chat-route.ts`), direct passthrough (`passthrough.ts`),
 * mode runs (`mode-runs.ts`) and SSE writing (`sse-writer.ts`).
 */
import { randomBytes } from 'node:crypto';
import { ChatCompletionRequestSchema, createValidator, type Worker } from '@openfugu/schema';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createChatHandler } from './chat-route.js';
import { GatewayError, toErrorResponse } from './errors.js';
import { clip } from './intake.js';
import { createClientGate, resolveLimits } from './limits.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import type { GatewayMode } from './modes.js';
import { attachOpsUi, createGatewayOpsHub, type OpsUiConfig } from './ops/ui-routes.js';
import { createWorkerPool, type WorkerPool, type WorkerPoolSettings } from './pool.js';
import type { ClientKey, RateLimit } from './rate-limit.js';

export { pointerToParam } from './intake.js';

/** Gateway options (what a config file sets). */
export interface GatewayConfig {
  /** Serve pool members directly under their public alias (default false). */
  exposeWorkers?: boolean;
  /** Client API keys; empty or absent: no authentication. */
  apiKeys?: readonly ClientKey[];
  /** Default per-client rate limit (per key; per IP address when there are no keys). */
  rateLimit?: RateLimit;
  /** Largest request body in bytes (default 4 MiB). */
  bodyLimitBytes?: number;
  /** Most messages accepted in one request (default 4096). */
  maxMessages?: number;
  /** Total deadline of one request in ms, all worker calls included (default 120 000). */
  requestTimeoutMs?: number;
  /**
   * Largest `n` (choices per request) a mode (`fugu`, `fugu-ultra`) serves, each choice one independent run;
   * larger is a 400 (default 8). Direct mode passes `n` to the upstream unchecked.
   */
  maxChoices?: number;
  /** Most of one request's `n` runs in flight at once (default 4). */
  choiceConcurrency?: number;
  /** How long `close()` waits for in-flight requests before cutting them (default 30 000). */
  shutdownTimeoutMs?: number;
  /** Allow the per-request debug trace (`x-openfugu-debug: 1`), default false. */
  debugTrace?: boolean;
  /** Serve `/metrics` (default true); with `metricsRequireAuth` it needs a client key. */
  metrics?: boolean;
  metricsRequireAuth?: boolean;
  /** Breaker and fallback settings of the pool. */
  pool?: Omit<WorkerPoolSettings, 'workers' | 'observer'>;
  /** Shown in `/health` (e.g. that the pool is the embedded simulation). */
  description?: string;
  /** Fastify logger (default off). */
  logger?: boolean;
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
  const ops = createGatewayOpsHub(config.ui, {
    ...config.pool,
    ...(config.apiKeys ? { apiKeys: config.apiKeys } : {}),
  });
  const pool = createWorkerPool({
    ...config.pool,
    workers: settings.workers,
    observer: {
      onCall(call) {
        metrics.observeUpstream(call);
        ops?.onCall(call);
      },
    },
  });
  const modes = new Map((settings.modes ?? []).map((mode) => [mode.model, mode]));
  const direct = new Map<string, Worker>(
    config.exposeWorkers ? settings.workers.map((worker) => [worker.id, worker]) : [],
  );
  for (const name of modes.keys()) direct.delete(name);
  const validator = createValidator(ChatCompletionRequestSchema);
  const limits = resolveLimits(config);
  const gate = createClientGate(config);
  const created = Math.floor(Date.now() / 1000);
  const idPrefix = randomBytes(6).toString('hex');
  let counter = 0;
  let inFlight = 0;
  let closing = false;
  const idle: (() => void)[] = [];

  const app = Fastify({
    logger: config.logger ?? false,
    bodyLimit: limits.bodyLimitBytes,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Keep-alive must outlive typical client pools; headers are bounded by Node's maxHeaderSize.
    keepAliveTimeout: 65_000,
  });

  // JSON only: a text/plain body is a client mistake (415), not a string to validate.
  app.removeContentTypeParser('text/plain');

  const sendError = (reply: FastifyReply, error: unknown): FastifyReply => {
    const response = toErrorResponse(error);
    return reply.code(response.status).headers(response.headers).send(response.body);
  };
  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  app.setNotFoundHandler((_request, reply) =>
    sendError(reply, new GatewayError({ kind: 'route_not_found' })),
  );

  const authenticate = (request: FastifyRequest): void => {
    if (closing) throw new GatewayError({ kind: 'shutting_down' });
    const apiKey = request.headers['x-api-key'];
    gate.admit({
      ip: request.ip,
      authorization: request.headers.authorization,
      apiKey: typeof apiKey === 'string' ? apiKey : undefined,
    });
  };

  app.get('/health', async () => {
    const status = pool.status();
    return {
      status: closing ? 'shutting_down' : status.available > 0 ? 'ok' : 'degraded',
      ...(config.description ? { description: config.description } : {}),
      models: [...modes.keys(), ...direct.keys()],
      pool: status,
      inFlight,
    };
  });

  if (config.metrics !== false) {
    app.get('/metrics', async (request, reply) => {
      if (config.metricsRequireAuth) authenticate(request);
      metrics.setInFlight(inFlight);
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  }

  app.get('/v1/models', async (request) => {
    authenticate(request);
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

  app.get('/v1/models/:model', async (request) => {
    authenticate(request);
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
    createChatHandler({
      pool,
      metrics,
      limits,
      validator,
      modes,
      direct,
      debugTrace: config.debugTrace === true,
      admit: authenticate,
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
