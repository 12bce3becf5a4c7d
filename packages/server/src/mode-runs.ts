/**
 * Mode runs beyond a single call: `n > 1` (independent runs answered together) and a `run` mode's final call
 * streamed to the client as it arrives.
 */
import type {
  AbortSignalLike,
  ChatCompletionChunk,
  Worker,
  WorkerCallOptions,
  WorkerRequest,
  WorkerResponse,
} from '@openfugu/schema';
import type { FastifyReply } from 'fastify';
import { AbortScope, follow } from './abort.js';
import {
  type Choice,
  completionFromResult,
  fromWireUsage,
  isUpstreamWorker,
  toWireUsage,
} from './completion.js';
import { GatewayError } from './errors.js';
import { passthroughBody } from './intake.js';
import type { GatewayMode, ModeContext, ModeInput } from './modes.js';
import { callOnce, orderFrom } from './passthrough.js';
import { isFallbackWorthy, type Ledger, type WorkerPool } from './pool.js';
import { sseData } from './sse.js';
import { chunkOf, closeSse, startStream, write } from './sse-writer.js';
import { type JsonObject, toChatBody } from './upstream/openai-worker.js';

/**
 * Serves `n > 1` for a mode: `count` independent runs of the whole request (route decision or passthrough,
 * else the mode's `run`), at most `concurrency` at once, all on the request's deadline and ledger (usage and
 * cost summed over every call). The first failure cuts the other runs and is the request's error.
 */
export async function runChoices(
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

/**
 * The per-call options of `runCoordinator` (TRINITY) and `executeWorkflow` (Conductor): `final: true` marks the
 * call whose reply becomes the answer unchanged. Defined here as a local extension of `WorkerCallOptions`.
 */
type FinalCallOptions = WorkerCallOptions & { final?: boolean };

/** A `run` mode's streamed final call: the workers that stream it and what happened to it. */
export interface FinalStream {
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
export function createFinalStream(
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
      if (signal.aborted || !isFallbackWorthy(error)) throw error;
    }
  }
  throw lastError ?? new GatewayError({ kind: 'no_available_worker' });
}

/** Closes a streamed final call: finish chunk when the upstream sent none, the run's summed usage, `[DONE]`. */
export async function endFinalStream(
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
