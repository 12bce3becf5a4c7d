/**
 * `POST /v1/chat/completions`: validation, the request's deadline and abort scope, then one of direct
 * passthrough, a route decision, `n > 1` runs or a `run` mode (its final call streamed), and the metrics of it.
 */
import type { ServerResponse } from 'node:http';
import {
  AbortedError,
  type ChatCompletionRequest,
  type ChatCompletionResponse,
  TimeoutError,
  type Validator,
  type Worker,
} from '@openfugu/schema';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AbortScope } from './abort.js';
import { completionFromResult, isUpstreamWorker, rewriteCompletion, toWireUsage } from './completion.js';
import { GatewayError, toErrorResponse } from './errors.js';
import { clip, invalidRequest, passthroughBody, toWorkerRequest } from './intake.js';
import { readRoutingHints } from './knob.js';
import type { GatewayLimits } from './limits.js';
import type { GatewayMetrics } from './metrics.js';
import {
  createFinalStream,
  decideWorker,
  endFinalStream,
  type FinalStream,
  runChoices,
} from './mode-runs.js';
import type { GatewayMode, ModeContext, ModeInput, ModeResult } from './modes.js';
import type { OpsRequestDone } from './ops/ops-hub.js';
import { callOnce, openStream, pipeStream } from './passthrough.js';
import { createLedger, type Ledger, type WorkerPool } from './pool.js';
import { sseData } from './sse.js';
import { endStream, limitOutput, writeCompletionAsStream } from './sse-writer.js';
import type { JsonObject } from './upstream/openai-worker.js';

const DEBUG_HEADER = 'x-openfugu-debug';

/** What the chat route needs from its gateway. */
export interface ChatRouteContext {
  readonly pool: WorkerPool;
  readonly metrics: GatewayMetrics;
  readonly limits: GatewayLimits;
  readonly validator: Validator<ChatCompletionRequest>;
  /** Public model names served by modes. */
  readonly modes: ReadonlyMap<string, GatewayMode>;
  /** Pool members served directly under their alias. */
  readonly direct: ReadonlyMap<string, Worker>;
  /** Allow the per-request debug trace. */
  readonly debugTrace: boolean;
  /** Most bytes of an answer queued for a client that does not read (`maxOutputBufferBytes`). */
  readonly limitOutput: number;
  /** Logs the cause of a failure answered with `status`. */
  logFailure(request: FastifyRequest, error: unknown, status: number): void;
  /**
   * The checks of a validated request before it runs (tokens, concurrency, budget; docs/deploy.md); the ticket's
   * `finish` settles them after the run.
   */
  admit?(request: FastifyRequest, chat: ChatCompletionRequest): Promise<{ finish(ledger: Ledger): void }>;
  /** The name of the client key the request was admitted with (undefined: admitted by its address). */
  keyName?(request: FastifyRequest): string | undefined;
  /** Counts a request in flight; the returned function ends it. */
  begin(): () => void;
  /** A fresh public completion id. */
  nextId(): string;
  /** Sees every request that reached a model, once it has ended (the operations page). */
  observe?: (request: OpsRequestDone) => void;
}

/** Creates the handler of `POST /v1/chat/completions`. */
export function createChatHandler(
  ctx: ChatRouteContext,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | ChatCompletionResponse> {
  const { pool, metrics, validator, modes, direct } = ctx;
  const { maxMessages, maxChoices, requestTimeoutMs, choiceConcurrency, maxModelIdLength } = ctx.limits;
  return async (request, reply) => {
    const started = performance.now();
    const body = request.body as { messages?: unknown; model?: unknown } | null;
    // Sizes first, so validation never walks more than the limits allow.
    const count = Array.isArray(body?.messages) ? body.messages.length : 0;
    if (count > maxMessages) {
      throw new GatewayError({
        kind: 'invalid_request',
        message: `Too many messages: ${count} (at most ${maxMessages}).`,
        param: 'messages',
      });
    }
    if (typeof body?.model === 'string' && body.model.length > maxModelIdLength) {
      throw new GatewayError({
        kind: 'invalid_request',
        message: `A model id is at most ${maxModelIdLength} characters.`,
        param: 'model',
      });
    }
    const result = validator.validate(body);
    if (!result.ok) throw invalidRequest(result.issues);
    const chat = result.value;
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

    const routing = mode
      ? readRoutingHints(request.headers, chat as unknown as Record<string, unknown>)
      : undefined;
    const id = ctx.nextId();
    const debug = ctx.debugTrace && request.headers[DEBUG_HEADER] === '1';
    const publicModel = chat.model;
    const scope = new AbortScope();
    const raw = reply.raw as ResponseWithScope;
    const timer = setTimeout(abortOnDeadline, requestTimeoutMs, scope, raw, requestTimeoutMs);
    limitOutput(raw, ctx.limitOutput);
    raw[kScope] = scope;
    raw.once('close', abortOnEarlyClose);
    const ledger = createLedger();
    const input: ModeInput = {
      request: chat,
      workerRequest: toWorkerRequest(chat),
      ...(routing === undefined ? {} : { routing }),
    };
    const stream = chat.stream === true;
    const includeUsage = stream && chat.stream_options?.include_usage === true;
    let status = 200;
    let finalStream: FinalStream | undefined;
    /** Sends a finished answer: as JSON, or streamed in chunks when the client asked for a stream. */
    const respond = async (answer: ChatCompletionResponse, streamTrace: unknown): Promise<FastifyReply> => {
      if (!stream) return reply.send(answer);
      reply.hijack();
      await writeCompletionAsStream(reply, answer, includeUsage, streamTrace);
      return reply;
    };
    const end = ctx.begin();
    let modeTrace: unknown;
    let ticket: { finish(ledger: Ledger): void } | undefined;

    try {
      ticket = await ctx.admit?.(request, chat);
      let target: Worker | undefined = worker;
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
      // The opt-in debug trace, read when the answer is written (so it holds the run's trace and usage).
      const trace = debug
        ? (): unknown => ({
            mode: mode ? mode.kind : 'direct',
            calls: ledger.calls,
            modeTrace,
            usage: ledger.usage,
            costUsd: ledger.costUsd,
          })
        : noTrace;
      if (mode && context && choices > 1) {
        // n independent runs (bounded concurrency, one deadline, one ledger), answered together.
        const runs = await runChoices(mode, input, context, choices, choiceConcurrency);
        modeTrace = runs.map((run) => run.trace);
        const answer: ChatCompletionResponse & JsonObject = {
          id,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: publicModel,
          choices: runs.map((run, index) => ({ ...run.choice, index })),
          usage: toWireUsage(ledger.usage),
        };
        if (debug) answer.openfugu_trace = trace();
        return respond(answer, answer.openfugu_trace);
      }
      const decision = mode && context ? await decideWorker(mode, input, context) : undefined;
      if (decision) {
        target = pool.get(decision.workerId);
        modeTrace = decision.trace;
      }
      if (target) {
        const upstreamBody = passthroughBody(chat, includeUsage || stream);
        const fallback = mode !== undefined; // a client that names a pool member gets exactly that member
        if (stream && isUpstreamWorker(target)) {
          const opened = await openStream(pool, target.id, upstreamBody, ledger, scope, { fallback });
          await pipeStream(reply, opened, {
            id,
            model: publicModel,
            includeUsage,
            ledger,
            pool,
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
        const shown = trace();
        return respond(rewriteCompletion(response, id, publicModel, ledger, shown), shown);
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
      const shown = trace();
      return respond(completionFromResult(outcome, id, publicModel, ledger, shown), shown);
    } catch (error) {
      const mapped =
        scope.reason instanceof DeadlineError
          ? new GatewayError({ kind: 'timeout', message: 'The request exceeded its deadline.', cause: error })
          : (finalStream?.error ?? error);
      status = toErrorResponse(mapped).status;
      if (raw.headersSent) {
        ctx.logFailure(request, mapped, status);
        // Mid-stream failure: tell the client in-band (the openai SDK raises it as an APIError) and end; a
        // client that is not reading gets its connection cut instead of more queued bytes.
        if (raw.writableNeedDrain) raw.destroy();
        else if (!raw.destroyed) endStream(raw, sseData(toErrorResponse(mapped).body));
        return reply;
      }
      throw mapped;
    } finally {
      clearTimeout(timer);
      raw.off('close', abortOnEarlyClose);
      raw[kScope] = undefined;
      const ms = performance.now() - started;
      metrics.observeRequest(publicModel, status, ms / 1000);
      metrics.observeTokens(
        publicModel,
        ledger.usage.promptTokens,
        ledger.usage.completionTokens,
        ledger.costUsd,
      );
      ctx.observe?.({
        id,
        model: publicModel,
        mode: mode?.kind ?? 'direct',
        status,
        ms,
        stream,
        usage: ledger.usage,
        costUsd: ledger.costUsd,
        calls: ledger.calls,
        modeTrace,
        key: ctx.keyName?.(request),
      });
      ticket?.finish(ledger);
      end();
    }
  };
}

/** The abort reason of a request that ran past `requestTimeoutMs` (workers and modes see it as `signal.reason`). */
class DeadlineError extends TimeoutError {}
const kScope: unique symbol = Symbol('openfugu.scope');
type ResponseWithScope = ServerResponse & { [kScope]?: AbortScope | undefined };

/**
 * The deadline: aborts the request's work, and cuts an answer whose client stopped reading (its writes wait for
 * a drain that will not come; the cut frees the request).
 */
function abortOnDeadline(scope: AbortScope, raw: ServerResponse, timeoutMs: number): void {
  scope.abort(new DeadlineError({ message: 'The request exceeded its deadline.', timeoutMs }));
  if (raw.headersSent && raw.writableNeedDrain) raw.destroy();
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
