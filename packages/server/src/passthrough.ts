/**
 * Direct passthrough to one upstream (a pool member by alias, or the worker a route decision chose): one call
 * with fallback to other workers when allowed, or an upstream stream piped to the client chunk by chunk.
 */
import type {
  AbortSignalLike,
  ChatCompletionChunk,
  ChatCompletionResponse,
  WorkerRequest,
} from '@openfugu/schema';
import type { FastifyReply } from 'fastify';
import { completionFromWorker, fromWireUsage, isUpstreamWorker, usageOf } from './completion.js';
import { GatewayError } from './errors.js';
import { isFallbackWorthy, type Ledger, type WorkerPool } from './pool.js';
import { sseData } from './sse.js';
import { chunkOf, closeSse, startStream, write } from './sse-writer.js';
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

export async function openStream(
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
      if (signal.aborted || !fallback || !isFallbackWorthy(error)) throw error;
    }
  }
  throw lastError ?? new GatewayError({ kind: 'no_available_worker' });
}

export function orderFrom(pool: WorkerPool, first: string): string[] {
  return [first, ...pool.workers.map((worker) => worker.id).filter((id) => id !== first)].slice(0, 3);
}

export async function pipeStream(
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
