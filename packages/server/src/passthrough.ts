/**
 * Direct passthrough to one upstream (a pool member by alias, or the worker a route decision chose): one call
 * with fallback to other workers when allowed, or an upstream stream piped to the client chunk by chunk. The
 * stream's opening (`openStream`) and forwarding (`forwardStream`) also serve a `run` mode's streamed final
 * call (mode-runs.ts).
 */
import type {
  AbortSignalLike,
  ChatCompletionChunk,
  ChatCompletionResponse,
  WorkerRequest,
  WorkerResponse,
} from '@openfugu/schema';
import type { FastifyReply } from 'fastify';
import { completionFromWorker, fromWireUsage, isUpstreamWorker, usageOf } from './completion.js';
import { GatewayError } from './errors.js';
import { isFallbackWorthy, type Ledger, type WorkerPool } from './pool.js';
import { sseData } from './sse.js';
import { closeSse, startStream, write } from './sse-writer.js';
import type { JsonObject } from './upstream/openai-worker.js';

export async function callOnce(
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
      if (signal.aborted || !fallback || !isFallbackWorthy(error)) throw error;
    }
  }
  throw lastError ?? new GatewayError({ kind: 'no_available_worker' });
}

/** An upstream stream opened by `openStream`. */
export interface OpenedStream {
  iterator: AsyncIterator<ChatCompletionChunk>;
  /** The first chunk, when `openStream` waited for it (`toFirstChunk`). */
  first?: IteratorResult<ChatCompletionChunk>;
  /** The worker that answered (another one than asked after a fallback). */
  workerId: string;
  /** `performance.now()` when the call was opened (the call's time in the trace counts from it). */
  started: number;
}

/**
 * Opens an upstream stream on `workerId`, or with `fallback` on the next available upstream worker (up to 3 in
 * all) when opening fails in a way another worker may not. With `toFirstChunk` it also waits for the first
 * chunk, and a failure before it falls back too (nothing has reached the client yet). A failure is reported to
 * the pool here; success is reported by `forwardStream` once the body has been forwarded, with its usage.
 */
export async function openStream(
  pool: WorkerPool,
  workerId: string,
  body: JsonObject,
  ledger: Ledger,
  signal: AbortSignalLike,
  options: { fallback: boolean; toFirstChunk?: boolean },
): Promise<OpenedStream> {
  const order = options.fallback ? orderFrom(pool, workerId) : [workerId];
  let lastError: unknown;
  for (const id of order) {
    if (!pool.isAvailable(id)) continue;
    const worker = pool.get(id);
    if (!worker || !isUpstreamWorker(worker)) continue;
    const started = performance.now();
    let iterator: AsyncIterator<ChatCompletionChunk> | undefined;
    try {
      iterator = (await worker.chatStream(body, { signal }))[Symbol.asyncIterator]();
      if (!options.toFirstChunk) return { iterator, workerId: id, started };
      const first = await iterator.next();
      return { iterator, first, workerId: id, started };
    } catch (error) {
      pool.report(id, ledger, { ms: performance.now() - started, error });
      void iterator?.return?.()?.catch(() => {});
      lastError = error;
      if (signal.aborted || !options.fallback || !isFallbackWorthy(error)) throw error;
    }
  }
  throw lastError ?? new GatewayError({ kind: 'no_available_worker' });
}

/** What `forwardStream` saw of a stream it forwarded. */
export interface ForwardedStream {
  /** The upstream's usage (from its usage chunk), when it sent one. */
  usage: ChatCompletionChunk['usage'];
  /** True when a chunk carried a finish reason. */
  finished: boolean;
  /** The last finish reason among `stop`, `length`, `content_filter`. */
  finishReason: WorkerResponse['finishReason'];
  /** The content deltas joined (only with `collect`). */
  content: string;
}

/**
 * Starts the SSE answer (the reply is hijacked) and forwards an opened upstream stream to it chunk by chunk, with
 * the public id and model. The upstream's usage-only chunk is held back: the caller's closing chunk carries the
 * usage. Reports the call's end to the pool (its usage, or the failure, which is rethrown).
 */
export async function forwardStream(
  reply: FastifyReply,
  opened: OpenedStream,
  options: { id: string; model: string; pool: WorkerPool; ledger: Ledger; collect?: boolean },
): Promise<ForwardedStream> {
  const { iterator } = opened;
  const seen: ForwardedStream = { usage: undefined, finished: false, finishReason: undefined, content: '' };
  reply.hijack();
  startStream(reply);
  try {
    for (
      let next = opened.first ?? (await iterator.next());
      next.done !== true;
      next = await iterator.next()
    ) {
      const chunk = next.value;
      if (chunk.usage) seen.usage = chunk.usage;
      const { system_fingerprint: _fingerprint, usage: _usage, ...rest } = chunk;
      if (rest.choices?.length === 0) continue; // the usage-only chunk: the total goes out at the end
      for (const choice of rest.choices ?? []) {
        if (options.collect && typeof choice.delta?.content === 'string')
          seen.content += choice.delta.content;
        const finish = choice.finish_reason;
        if (finish) {
          seen.finished = true;
          if (finish === 'stop' || finish === 'length' || finish === 'content_filter')
            seen.finishReason = finish;
        }
      }
      await write(reply, sseData({ ...rest, id: options.id, model: options.model }));
    }
  } catch (error) {
    options.pool.report(opened.workerId, options.ledger, { ms: performance.now() - opened.started, error });
    void iterator.return?.()?.catch(() => {});
    throw error;
  }
  options.pool.report(opened.workerId, options.ledger, {
    ms: performance.now() - opened.started,
    ...(seen.usage ? { usage: fromWireUsage(seen.usage) } : {}),
  });
  return seen;
}

export function orderFrom(pool: WorkerPool, first: string): string[] {
  return [first, ...pool.workers.map((worker) => worker.id).filter((id) => id !== first)].slice(0, 3);
}

/** Forwards an opened upstream stream as the whole answer (direct passthrough, a route decision) and ends it. */
export async function pipeStream(
  reply: FastifyReply,
  opened: OpenedStream,
  options: {
    id: string;
    model: string;
    includeUsage: boolean;
    ledger: Ledger;
    pool: WorkerPool;
    trace: () => unknown;
    debug: boolean;
  },
): Promise<void> {
  const forwarded = await forwardStream(reply, opened, options);
  await closeSse(reply, {
    id: options.id,
    model: options.model,
    finished: forwarded.finished,
    includeUsage: options.includeUsage,
    usage: forwarded.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    trace: options.includeUsage || options.debug ? options.trace() : undefined,
    traceComment: options.debug,
  });
}
