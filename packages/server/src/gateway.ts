/**
 * The OpenAI-compatible gateway: fastify routes, validation, auth, rate limits, deadlines, modes,
 * direct passthrough (stream and non-stream), metrics, health and graceful shutdown.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  AbortedError,
  type AbortSignalLike,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  ChatCompletionRequestSchema,
  type ChatCompletionResponse,
  createValidator,
  TimeoutError,
  type ToolCall,
  type Usage,
  type ValidationIssue,
  type Worker,
  type WorkerCallOptions,
  type WorkerRequest,
  type WorkerResponse,
} from '@openfugu/schema';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AbortScope, follow } from './abort.js';
import { GatewayError, toErrorResponse } from './errors.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import type { GatewayMode, ModeContext, ModeInput, ModeResult } from './modes.js';
import {
  createLedger,
  createWorkerPool,
  type Ledger,
  type WorkerPool,
  type WorkerPoolSettings,
} from './pool.js';
import { type ClientKey, createKeyMatcher, createRateLimiter, type RateLimit } from './rate-limit.js';
import { SSE_DONE, sseData } from './sse.js';
import { type JsonObject, toChatBody, type UpstreamWorker } from './upstream/openai-worker.js';

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

const DEBUG_HEADER = 'x-openfugu-debug';

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
  const pool = createWorkerPool({
    ...config.pool,
    workers: settings.workers,
    observer: { onCall: (call) => metrics.observeUpstream(call) },
  });
  const modes = new Map((settings.modes ?? []).map((mode) => [mode.model, mode]));
  const direct = new Map<string, Worker>(
    config.exposeWorkers ? settings.workers.map((worker) => [worker.id, worker]) : [],
  );
  for (const name of modes.keys()) direct.delete(name);
  const validator = createValidator(ChatCompletionRequestSchema);
  const keys = config.apiKeys ?? [];
  const matchKey = keys.length > 0 ? createKeyMatcher(keys) : undefined;
  const limiter = createRateLimiter();
  const maxMessages = config.maxMessages ?? 4096;
  const requestTimeoutMs = config.requestTimeoutMs ?? 120_000;
  const maxChoices = config.maxChoices ?? 8;
  const choiceConcurrency = Math.max(1, config.choiceConcurrency ?? 4);
  const created = Math.floor(Date.now() / 1000);
  const idPrefix = randomBytes(6).toString('hex');
  let counter = 0;
  let inFlight = 0;
  let closing = false;
  const idle: (() => void)[] = [];

  const app = Fastify({
    logger: config.logger ?? false,
    bodyLimit: config.bodyLimitBytes ?? 4 * 1024 * 1024,
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
    let bucket = `ip:${request.ip}`;
    let limit = config.rateLimit;
    if (matchKey) {
      const header = request.headers.authorization;
      const alternative = request.headers['x-api-key'];
      const presented =
        typeof header === 'string' && /^bearer /i.test(header)
          ? header.slice(7).trim()
          : typeof alternative === 'string'
            ? alternative
            : undefined;
      const key = presented === undefined || presented.length > 4096 ? undefined : matchKey(presented);
      if (!key) throw new GatewayError({ kind: 'unauthorized' });
      bucket = `key:${key.name}`;
      limit = key.rateLimit ?? config.rateLimit;
    }
    if (limit) {
      const wait = limiter.take(bucket, limit);
      if (wait > 0) throw new GatewayError({ kind: 'rate_limited', retryAfterSeconds: wait });
    }
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

  app.post('/v1/chat/completions', async (request, reply) => {
    const started = performance.now();
    authenticate(request);
    const body = request.body;
    const result = validator.validate(body);
    if (!result.ok) throw invalidRequest(result.issues);
    const chat = result.value;
    if (chat.messages.length > maxMessages) {
      throw new GatewayError({
        kind: 'invalid_request',
        message: `Too many messages: ${chat.messages.length} (at most ${maxMessages}).`,
        param: 'messages',
      });
    }
    const mode = modes.get(chat.model);
    const choices = mode ? (chat.n ?? 1) : 1;
    if (choices > maxChoices) {
      throw new GatewayError({
        kind: 'invalid_request',
        message: `n = ${choices} is too large for this model: at most ${maxChoices} choices per request.`,
        param: 'n',
      });
    }
    const worker = mode ? undefined : direct.get(chat.model);
    if (!mode && !worker) {
      throw new GatewayError({
        kind: 'model_not_found',
        message: `The model '${clip(chat.model)}' does not exist or you do not have access to it.`,
        param: 'model',
      });
    }

    const id = `chatcmpl-${idPrefix}${(counter++).toString(36)}`;
    const debug = config.debugTrace === true && request.headers[DEBUG_HEADER] === '1';
    const publicModel = chat.model;
    const scope = new AbortScope();
    const timer = setTimeout(abortOnDeadline, requestTimeoutMs, scope, requestTimeoutMs);
    const raw = reply.raw as ResponseWithScope;
    raw[kScope] = scope;
    raw.once('close', abortOnEarlyClose);
    const ledger = createLedger();
    const input: ModeInput = { request: chat, workerRequest: toWorkerRequest(chat) };
    const stream = chat.stream === true;
    const includeUsage = stream && chat.stream_options?.include_usage === true;
    let status = 200;
    let finalStream: FinalStream | undefined;
    inFlight++;

    try {
      let target: Worker | undefined = worker;
      let modeTrace: unknown;
      // Modes get a context (bound workers, routing metric); direct passthrough needs none.
      const context: ModeContext | undefined = mode
        ? {
            workers: pool.bind(ledger),
            pool,
            ledger,
            signal: scope,
            observeRouting: (seconds) => metrics.observeRouting(publicModel, seconds),
          }
        : undefined;
      if (mode && context && choices > 1) {
        // n independent runs (bounded concurrency, one deadline, one ledger), answered together.
        const runs = await runChoices(mode, input, context, choices, choiceConcurrency);
        const answer: ChatCompletionResponse & JsonObject = {
          id,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: publicModel,
          choices: runs.map((run, index) => ({ ...run.choice, index })),
          usage: toWireUsage(ledger.usage),
        };
        if (debug) {
          answer.openfugu_trace = {
            mode: mode.kind,
            calls: ledger.calls,
            modeTrace: runs.map((run) => run.trace),
            usage: ledger.usage,
            costUsd: ledger.costUsd,
          };
        }
        if (stream) {
          reply.hijack();
          await writeCompletionAsStream(reply, answer, includeUsage, answer.openfugu_trace);
          return reply;
        }
        return reply.send(answer);
      }
      if (mode?.kind === 'route' && context) {
        const routeStart = performance.now();
        const decision = await mode.route(input, context);
        metrics.observeRouting(publicModel, (performance.now() - routeStart) / 1000);
        target = pool.get(decision.workerId);
        modeTrace = decision.trace;
      } else if (mode?.kind === 'run' && mode.passthrough && context) {
        const routeStart = performance.now();
        const decision = await mode.passthrough(input, context);
        if (decision) {
          metrics.observeRouting(publicModel, (performance.now() - routeStart) / 1000);
          target = pool.get(decision.workerId);
          if (!target) throw new GatewayError({ kind: 'internal_error' });
          modeTrace = decision.trace;
        }
      }
      const trace = debug
        ? (): unknown => ({
            mode: mode ? mode.kind : 'direct',
            calls: ledger.calls,
            modeTrace,
            usage: ledger.usage,
            costUsd: ledger.costUsd,
          })
        : noTrace;

      if (target) {
        const upstreamBody = passthroughBody(chat, includeUsage || stream);
        const fallback = mode !== undefined; // a client that names a pool member gets exactly that member
        if (stream && isUpstreamWorker(target)) {
          const { chunks, workerId } = await openStream(
            pool,
            target.id,
            upstreamBody,
            ledger,
            scope,
            fallback,
          );
          reply.hijack();
          await pipeStream(reply, chunks, {
            id,
            model: publicModel,
            includeUsage,
            ledger,
            pool,
            workerId,
            trace,
            debug,
          });
          return reply;
        }
        const response = await callOnce(
          pool,
          target.id,
          upstreamBody,
          input.workerRequest,
          ledger,
          scope,
          fallback,
        );
        const answer = rewriteCompletion(response, id, publicModel, ledger, trace());
        if (stream) {
          reply.hijack();
          await writeCompletionAsStream(reply, answer, includeUsage, trace());
          return reply;
        }
        return reply.send(answer);
      }
      if (mode?.kind !== 'run' || !context) throw new GatewayError({ kind: 'internal_error' });
      let outcome: ModeResult;
      if (stream) {
        // The run's final call (`final: true`, see FinalCallOptions) streams to the client as it arrives.
        finalStream = createFinalStream(reply, context, { id, model: publicModel });
        try {
          outcome = await mode.run(input, {
            ...context,
            workers: finalStream.workers,
            signal: finalStream.signal,
          });
        } finally {
          finalStream.dispose();
        }
      } else {
        outcome = await mode.run(input, context);
      }
      modeTrace = outcome.trace;
      if (finalStream?.started) {
        // A final stream that did not complete cannot be closed as an answer, whatever the run made of it.
        if (!finalStream.completed) {
          throw finalStream.error ?? new GatewayError({ kind: 'internal_error' });
        }
        reply.hijack();
        await endFinalStream(
          reply,
          finalStream,
          { id, model: publicModel, includeUsage, ledger, debug },
          trace(),
        );
        return reply;
      }
      const answer = completionFromResult(outcome, id, publicModel, ledger, trace());
      if (stream) {
        reply.hijack();
        await writeCompletionAsStream(reply, answer, includeUsage, trace());
        return reply;
      }
      return reply.send(answer);
    } catch (error) {
      const mapped =
        scope.reason instanceof DeadlineError
          ? new GatewayError({ kind: 'timeout', message: 'The request exceeded its deadline.', cause: error })
          : (finalStream?.error ?? error);
      status = toErrorResponse(mapped).status;
      if (raw.headersSent) {
        // Mid-stream failure: tell the client in-band (the openai SDK raises it as an APIError) and end.
        if (!raw.destroyed) endStream(raw, sseData(toErrorResponse(mapped).body));
        return reply;
      }
      throw mapped;
    } finally {
      clearTimeout(timer);
      raw.off('close', abortOnEarlyClose);
      raw[kScope] = undefined;
      inFlight--;
      metrics.observeRequest(publicModel, status, (performance.now() - started) / 1000);
      metrics.observeTokens(
        publicModel,
        ledger.usage.promptTokens,
        ledger.usage.completionTokens,
        ledger.costUsd,
      );
      if (inFlight === 0) for (const resolve of idle.splice(0)) resolve();
    }
  });

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

/** The abort reason of a request that ran past `requestTimeoutMs` (workers and modes see it as `signal.reason`). */
class DeadlineError extends TimeoutError {}
const kScope: unique symbol = Symbol('openfugu.scope');
type ResponseWithScope = ServerResponse & { [kScope]?: AbortScope | undefined };

function abortOnDeadline(scope: AbortScope, timeoutMs: number): void {
  scope.abort(new DeadlineError({ message: 'The request exceeded its deadline.', timeoutMs }));
}

/** `close` before the response finished: the client went away, so its upstream work is abandoned. */
function abortOnEarlyClose(this: ResponseWithScope): void {
  if (!this.writableFinished) {
    this[kScope]?.abort(new AbortedError({ message: 'The client closed the connection.' }));
  }
}

function noTrace(): undefined {
  return undefined;
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

function isUpstreamWorker(worker: Worker): worker is UpstreamWorker {
  return typeof (worker as Partial<UpstreamWorker>).chat === 'function';
}

/** Converts ajv issues into one 400 with `param` at the most specific offending field. */
function invalidRequest(issues: readonly ValidationIssue[]): GatewayError {
  // Union branches produce several issues; the deepest path is the most useful one to show.
  let best = issues[0];
  for (const issue of issues)
    if (best && issue.path.split('/').length > best.path.split('/').length) best = issue;
  const param = best ? pointerToParam(best.path) : null;
  const detail =
    best && /\/messages\/\d+\/role$/.test(best.path)
      ? 'must be one of system, developer, user, assistant, tool'
      : best?.message;
  return new GatewayError({
    kind: 'invalid_request',
    message: best ? `Invalid request: '${param || 'body'}' ${detail}.` : 'Invalid request body.',
    param: param || null,
  });
}

/** `/messages/0/content` → `messages[0].content` (OpenAI's `param` style). */
export function pointerToParam(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

function toWorkerRequest(chat: ChatCompletionRequest): WorkerRequest {
  const request: WorkerRequest = { messages: chat.messages };
  const maxTokens = chat.max_completion_tokens ?? chat.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) request.maxTokens = maxTokens;
  if (chat.temperature !== undefined && chat.temperature !== null) request.temperature = chat.temperature;
  if (chat.tools !== undefined && chat.tools.length > 0) request.tools = chat.tools;
  if (chat.tool_choice !== undefined) request.toolChoice = chat.tool_choice;
  return request;
}

/** The client's body minus `model` (set by the worker) and with usage requested from streaming upstreams. */
function passthroughBody(chat: ChatCompletionRequest, wantUsage: boolean): JsonObject {
  const {
    model: _model,
    stream_options: _streamOptions,
    ...rest
  } = chat as ChatCompletionRequest & JsonObject;
  const body: JsonObject = rest;
  if (wantUsage) body.stream_options = { include_usage: true };
  return body;
}

async function callOnce(
  pool: WorkerPool,
  workerId: string,
  body: JsonObject,
  workerRequest: WorkerRequest,
  ledger: Ledger,
  signal: AbortSignalLike,
  fallback: boolean,
): Promise<ChatCompletionResponse> {
  const order = fallback ? orderFrom(pool, workerId) : [workerId];
  let lastError: unknown;
  for (const id of order) {
    if (!pool.isAvailable(id)) continue;
    try {
      return await pool.run(
        id,
        ledger,
        async (worker) =>
          isUpstreamWorker(worker)
            ? worker.chat(body, { signal })
            : completionFromWorker(await worker.complete(workerRequest, { signal })),
        (response) => usageOf(response),
      );
    } catch (error) {
      lastError = error;
      if (signal.aborted || !fallback) throw error;
    }
  }
  throw lastError ?? new GatewayError({ kind: 'no_available_worker' });
}

async function openStream(
  pool: WorkerPool,
  workerId: string,
  body: JsonObject,
  ledger: Ledger,
  signal: AbortSignalLike,
  fallback: boolean,
): Promise<{ chunks: AsyncIterable<ChatCompletionChunk>; workerId: string }> {
  const order = fallback ? orderFrom(pool, workerId) : [workerId];
  let lastError: unknown;
  for (const id of order) {
    if (!pool.isAvailable(id)) continue;
    const worker = pool.get(id);
    if (!worker || !isUpstreamWorker(worker)) continue;
    const started = performance.now();
    try {
      // Success is reported once the body has been streamed (pipeStream), with its usage.
      return { chunks: await worker.chatStream(body, { signal }), workerId: id };
    } catch (error) {
      pool.report(id, ledger, { ms: performance.now() - started, error });
      lastError = error;
      if (signal.aborted || !fallback) throw error;
    }
  }
  throw lastError ?? new GatewayError({ kind: 'no_available_worker' });
}

function orderFrom(pool: WorkerPool, first: string): string[] {
  return [first, ...pool.workers.map((worker) => worker.id).filter((id) => id !== first)].slice(0, 3);
}

function usageOf(response: ChatCompletionResponse): WorkerResponse['usage'] {
  return response.usage ? fromWireUsage(response.usage) : undefined;
}

type WireUsage = NonNullable<ChatCompletionResponse['usage']>;

/** OpenAI's `usage` object from summed usage. */
function toWireUsage(usage: Usage): WireUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
  };
}

/** Usage from OpenAI's `usage` object. */
function fromWireUsage(usage: WireUsage): Usage {
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    totalTokens: usage.total_tokens,
  };
}

function toWireToolCalls(
  calls: readonly ToolCall[],
): NonNullable<ChatCompletionResponse['choices'][number]['message']['tool_calls']> {
  return calls.map((call, index) => ({
    id: call.id ?? `call_${index}`,
    type: 'function' as const,
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
}

function completionFromWorker(response: WorkerResponse): ChatCompletionResponse {
  return completionFromResult(response, '', '', undefined, undefined);
}

function completionFromResult(
  result: ModeResult | WorkerResponse,
  id: string,
  model: string,
  ledger: Ledger | undefined,
  trace: unknown,
): ChatCompletionResponse {
  const toolCalls =
    result.toolCalls && result.toolCalls.length > 0 ? toWireToolCalls(result.toolCalls) : undefined;
  const answer: ChatCompletionResponse & JsonObject = {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: toolCalls && result.content === '' ? null : result.content,
          ...(toolCalls ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: result.finishReason ?? (toolCalls ? 'tool_calls' : 'stop'),
        logprobs: null,
      },
    ],
  };
  const usage = ledger?.usage ?? ('usage' in result ? result.usage : undefined);
  if (usage) {
    answer.usage = toWireUsage(usage);
  }
  if (trace !== undefined) answer.openfugu_trace = trace;
  return answer;
}

/** Replaces upstream identity (id, model, fingerprint) and puts the ledger's summed usage in. */
function rewriteCompletion(
  response: ChatCompletionResponse,
  id: string,
  model: string,
  ledger: Ledger,
  trace: unknown,
): ChatCompletionResponse {
  const { system_fingerprint: _fingerprint, ...rest } = response;
  const answer: ChatCompletionResponse & JsonObject = { ...rest, id, model, object: 'chat.completion' };
  if (ledger.calls.some((call) => call.usage)) {
    answer.usage = toWireUsage(ledger.usage);
  }
  if (trace !== undefined) answer.openfugu_trace = trace;
  return answer;
}

const kPending: unique symbol = Symbol('openfugu.pending');
type BatchedResponse = ServerResponse & { [kPending]?: string | undefined };

/**
 * Queues SSE text for the client. Everything queued within one tick (all the events of one upstream read,
 * a whole answer streamed after a run) leaves in one socket write: a write is a syscall, and on loopback the
 * largest single cost of a streamed request. Resolves once the client has room again (backpressure).
 */
function write(reply: FastifyReply, text: string): Promise<void> | undefined {
  const raw = reply.raw as BatchedResponse;
  if (raw.destroyed) return undefined;
  const pending = raw[kPending];
  if (pending === undefined) {
    raw[kPending] = text;
    process.nextTick(flushPending, raw);
  } else {
    raw[kPending] = pending + text;
  }
  return raw.writableNeedDrain ? drained(raw) : undefined;
}

function flushPending(raw: BatchedResponse): void {
  const text = raw[kPending];
  raw[kPending] = undefined;
  if (text !== undefined && !raw.destroyed && !raw.writableEnded) raw.write(text);
}

/** Ends the response with `text` after whatever is still queued. */
function endStream(raw: BatchedResponse, text: string): void {
  const pending = raw[kPending];
  raw[kPending] = undefined;
  raw.end(pending === undefined ? text : pending + text);
}

function drained(raw: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
  });
}

function startStream(reply: FastifyReply): void {
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
}

async function pipeStream(
  reply: FastifyReply,
  chunks: AsyncIterable<ChatCompletionChunk>,
  options: {
    id: string;
    model: string;
    includeUsage: boolean;
    ledger: Ledger;
    pool: WorkerPool;
    workerId: string;
    trace: () => unknown;
    debug: boolean;
  },
): Promise<void> {
  startStream(reply);
  let usage: ChatCompletionChunk['usage'];
  let finished = false;
  const started = performance.now();
  try {
    for await (const chunk of chunks) {
      if (chunk.usage) usage = chunk.usage;
      const { system_fingerprint: _fingerprint, usage: _usage, ...rest } = chunk;
      if (rest.choices?.length === 0) continue; // the upstream's usage-only chunk: re-emitted below
      if (rest.choices?.some((choice) => choice.finish_reason)) finished = true;
      await write(reply, sseData({ ...rest, id: options.id, model: options.model }));
    }
  } catch (error) {
    options.pool.report(options.workerId, options.ledger, { ms: performance.now() - started, error });
    throw error;
  }
  options.pool.report(options.workerId, options.ledger, {
    ms: performance.now() - started,
    ...(usage ? { usage: fromWireUsage(usage) } : {}),
  });
  if (!finished) {
    await write(reply, sseData(chunkOf(options.id, options.model, {}, 'stop')));
  }
  await closeSse(reply, {
    id: options.id,
    model: options.model,
    includeUsage: options.includeUsage,
    usage: usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    trace: options.includeUsage || options.debug ? options.trace() : undefined,
    traceComment: options.debug,
  });
}

/**
 * Ends an SSE answer as OpenAI does: with `include_usage`, a last chunk with no choices and the usage (and the
 * debug trace, when there is one); without it, the debug trace as an SSE comment when `traceComment`; then
 * `[DONE]`.
 */
async function closeSse(
  reply: FastifyReply,
  o: {
    id: string;
    model: string;
    created?: number;
    includeUsage: boolean;
    usage: JsonObject;
    trace: unknown;
    traceComment: boolean;
  },
): Promise<void> {
  if (o.includeUsage) {
    const final: JsonObject = {
      id: o.id,
      object: 'chat.completion.chunk',
      created: o.created ?? Math.floor(Date.now() / 1000),
      model: o.model,
      choices: [],
      usage: o.usage,
    };
    if (o.trace !== undefined) final.openfugu_trace = o.trace as JsonObject;
    await write(reply, sseData(final));
  } else if (o.traceComment) {
    await write(reply, `: openfugu_trace ${JSON.stringify(o.trace)}\n\n`);
  }
  endStream(reply.raw, SSE_DONE);
}

function chunkOf(id: string, model: string, delta: JsonObject, finish: string | null, index = 0): JsonObject {
  return {
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index, delta, finish_reason: finish, logprobs: null }],
  };
}

type Choice = ChatCompletionResponse['choices'][number];

/**
 * Serves `n > 1` for a mode: `count` independent runs of the whole request (route decision or passthrough,
 * else the mode's `run`), at most `concurrency` at once, all on the request's deadline and ledger (usage and
 * cost summed over every call). The first failure cuts the other runs and is the request's error.
 */
async function runChoices(
  mode: GatewayMode,
  input: ModeInput,
  context: ModeContext,
  count: number,
  concurrency: number,
): Promise<{ choice: Choice; trace: unknown }[]> {
  const signal = new AbortScope();
  const unlink = follow(signal, context.signal);
  const shared: ModeContext = { ...context, signal };
  const { n: _n, stream: _stream, ...body } = passthroughBody(input.request, false);
  const results: { choice: Choice; trace: unknown }[] = [];
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const lane = async (): Promise<void> => {
    while (next < count && !failed) {
      const at = next++;
      try {
        results[at] = await runChoice(mode, input, shared, body);
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
          signal.abort(error);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  } finally {
    unlink();
  }
  if (failed) throw firstError;
  return results;
}

/** One run of a mode, answered as one choice (its `index` set by the caller). */
async function runChoice(
  mode: GatewayMode,
  input: ModeInput,
  context: ModeContext,
  body: JsonObject,
): Promise<{ choice: Choice; trace: unknown }> {
  let decision: { workerId: string; trace?: unknown } | undefined;
  const routeStart = performance.now();
  if (mode.kind === 'route') decision = await mode.route(input, context);
  else if (mode.passthrough) decision = await mode.passthrough(input, context);
  if (decision) {
    context.observeRouting?.((performance.now() - routeStart) / 1000);
    if (!context.pool.get(decision.workerId)) throw new GatewayError({ kind: 'internal_error' });
    const response = await callOnce(
      context.pool,
      decision.workerId,
      body,
      input.workerRequest,
      context.ledger,
      context.signal,
      true,
    );
    const choice = response.choices[0];
    if (!choice) throw new GatewayError({ kind: 'internal_error', message: 'The upstream sent no choice.' });
    return { choice, trace: decision.trace };
  }
  if (mode.kind !== 'run') throw new GatewayError({ kind: 'internal_error' });
  const outcome = await mode.run(input, context);
  const choice = completionFromResult(outcome, '', '', undefined, undefined).choices[0];
  if (!choice) throw new GatewayError({ kind: 'internal_error' });
  return { choice, trace: outcome.trace };
}

/** Streams a finished answer: role chunk, content in pieces, tool calls, finish, optional usage, `[DONE]`. */
async function writeCompletionAsStream(
  reply: FastifyReply,
  answer: ChatCompletionResponse,
  includeUsage: boolean,
  trace: unknown,
): Promise<void> {
  startStream(reply);
  // One choice after the other, each chunk with its choice's `index` (n > 1: OpenAI clients sort them out).
  for (const choice of answer.choices.length > 0 ? answer.choices : [undefined]) {
    const at = choice?.index ?? 0;
    const message = choice?.message;
    await write(
      reply,
      sseData(chunkOf(answer.id, answer.model, { role: 'assistant', content: '' }, null, at)),
    );
    const content = message?.content ?? '';
    for (let i = 0; i < content.length; i += 256) {
      // Never split a surrogate pair across chunks.
      let end = Math.min(content.length, i + 256);
      const code = content.charCodeAt(end - 1);
      if (end < content.length && code >= 0xd800 && code <= 0xdbff) end++;
      await write(
        reply,
        sseData(chunkOf(answer.id, answer.model, { content: content.slice(i, end) }, null, at)),
      );
      i = end - 256;
    }
    const calls = message?.tool_calls ?? [];
    for (const [index, call] of calls.entries()) {
      await write(
        reply,
        sseData(
          chunkOf(
            answer.id,
            answer.model,
            { tool_calls: [{ index, id: call.id, type: 'function', function: call.function }] },
            null,
            at,
          ),
        ),
      );
    }
    await write(reply, sseData(chunkOf(answer.id, answer.model, {}, choice?.finish_reason ?? 'stop', at)));
  }
  await closeSse(reply, {
    id: answer.id,
    model: answer.model,
    created: answer.created,
    includeUsage,
    usage: answer.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    trace,
    traceComment: trace !== undefined,
  });
}

/**
 * The per-call options of `runCoordinator` (TRINITY) and `executeWorkflow` (Conductor): `final: true` marks the
 * call whose reply becomes the answer unchanged. Defined here as a local extension of `WorkerCallOptions`.
 */
type FinalCallOptions = WorkerCallOptions & { final?: boolean };

/** A `run` mode's streamed final call: the workers that stream it and what happened to it. */
interface FinalStream {
  /** The pool's bound workers; a `final: true` call on an upstream worker is streamed to the client. */
  readonly workers: Worker[];
  /** The run's signal: the request's, plus an abort when the final stream fails after its first byte. */
  readonly signal: AbortScope;
  /** True once the first chunk of the final call went to the client. */
  started: boolean;
  /** True once a chunk carried a finish reason. */
  finished: boolean;
  /** True once the final stream ended normally. */
  completed: boolean;
  /** The failure of the final stream after its first byte (the run is cut; the client gets it in-band). */
  error: unknown;
  dispose(): void;
}

/**
 * Binds the pool's workers for a streamed `run`: ordinary calls go through `pool.bind` (breaker, fallback,
 * ledger); the call marked `final: true` opens an upstream stream instead (falling back to other workers until
 * its first chunk has arrived), starts the SSE response and forwards each chunk as it comes, with the public id
 * and model. It still returns the whole reply, so the mode's run ends as usual. A failure after the first byte
 * cannot be replaced any more: it aborts the run (`signal`), and the request ends with an in-band error event.
 */
function createFinalStream(
  reply: FastifyReply,
  context: ModeContext,
  names: { id: string; model: string },
): FinalStream {
  const { pool, ledger } = context;
  const signal = new AbortScope();
  const unlink = follow(signal, context.signal);
  const state: FinalStream = {
    workers: [],
    signal,
    started: false,
    finished: false,
    completed: false,
    error: undefined,
    dispose: unlink,
  };
  const streamFinal = async (workerId: string, request: WorkerRequest, callSignal: AbortSignalLike) => {
    if (state.started) {
      // A second final call (a mode that retried a cut final call): the first one's chunks are already out.
      const error = new GatewayError({ kind: 'internal_error', message: 'A second final call in one run.' });
      state.error ??= error;
      signal.abort(error);
      throw error;
    }
    const body = toChatBody(request);
    body.stream_options = { include_usage: true };
    const opened = await openStreamToFirstChunk(pool, workerId, body, ledger, callSignal);
    state.started = true;
    reply.hijack();
    startStream(reply);
    let content = '';
    let usage: ChatCompletionChunk['usage'];
    let finishReason: WorkerResponse['finishReason'];
    try {
      for (let next = opened.first; next.done !== true; next = await opened.iterator.next()) {
        const chunk = next.value;
        if (chunk.usage) usage = chunk.usage;
        const { system_fingerprint: _fingerprint, usage: _usage, ...rest } = chunk;
        if (rest.choices?.length === 0) continue; // the usage-only chunk: the run's total goes out at the end
        for (const choice of rest.choices ?? []) {
          if (typeof choice.delta?.content === 'string') content += choice.delta.content;
          const finish = choice.finish_reason;
          if (finish) {
            state.finished = true;
            if (finish === 'stop' || finish === 'length' || finish === 'content_filter')
              finishReason = finish;
          }
        }
        await write(reply, sseData({ ...rest, id: names.id, model: names.model }));
      }
    } catch (error) {
      pool.report(opened.workerId, ledger, { ms: performance.now() - opened.started, error });
      state.error ??= error;
      signal.abort(error);
      throw error;
    }
    state.completed = true;
    const summed = usage ? fromWireUsage(usage) : undefined;
    pool.report(opened.workerId, ledger, {
      ms: performance.now() - opened.started,
      ...(summed ? { usage: summed } : {}),
    });
    const response: WorkerResponse = { content };
    if (summed) response.usage = summed;
    if (finishReason) response.finishReason = finishReason;
    return response;
  };
  for (const bound of pool.bind(ledger)) {
    const member = pool.get(bound.id);
    state.workers.push(
      member && isUpstreamWorker(member)
        ? {
            id: bound.id,
            complete: (request, options) =>
              (options as FinalCallOptions | undefined)?.final === true
                ? streamFinal(bound.id, request, options?.signal ?? signal)
                : bound.complete(request, options),
          }
        : bound,
    );
  }
  return state;
}

/**
 * Opens an upstream stream and waits for its first chunk; until that chunk has arrived, a failure (at the head
 * or in the body) falls back to the next available worker (up to 3 in all), so nothing has reached the client.
 */
async function openStreamToFirstChunk(
  pool: WorkerPool,
  workerId: string,
  body: JsonObject,
  ledger: Ledger,
  signal: AbortSignalLike,
): Promise<{
  iterator: AsyncIterator<ChatCompletionChunk>;
  first: IteratorResult<ChatCompletionChunk>;
  workerId: string;
  started: number;
}> {
  let lastError: unknown;
  for (const id of orderFrom(pool, workerId)) {
    if (!pool.isAvailable(id)) continue;
    const worker = pool.get(id);
    if (!worker || !isUpstreamWorker(worker)) continue;
    const started = performance.now();
    let iterator: AsyncIterator<ChatCompletionChunk> | undefined;
    try {
      iterator = (await worker.chatStream(body, { signal }))[Symbol.asyncIterator]();
      const first = await iterator.next();
      return { iterator, first, workerId: id, started };
    } catch (error) {
      pool.report(id, ledger, { ms: performance.now() - started, error });
      void iterator?.return?.()?.catch(() => {});
      lastError = error;
      if (signal.aborted) throw error;
    }
  }
  throw lastError ?? new GatewayError({ kind: 'no_available_worker' });
}

/** Closes a streamed final call: finish chunk when the upstream sent none, the run's summed usage, `[DONE]`. */
async function endFinalStream(
  reply: FastifyReply,
  state: FinalStream,
  options: { id: string; model: string; includeUsage: boolean; ledger: Ledger; debug: boolean },
  trace: unknown,
): Promise<void> {
  if (!state.finished) await write(reply, sseData(chunkOf(options.id, options.model, {}, 'stop')));
  await closeSse(reply, {
    id: options.id,
    model: options.model,
    includeUsage: options.includeUsage,
    usage: toWireUsage(options.ledger.usage),
    trace,
    traceComment: options.debug,
  });
}
