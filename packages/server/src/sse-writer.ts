/**
 * Writing SSE answers to the client: batched writes with backpressure, the stream head, the closing usage chunk
 * and `[DONE]`, and a finished answer streamed in pieces.
 */
import type { ServerResponse } from 'node:http';
import type { ChatCompletionResponse } from '@openfugu/schema';
import type { FastifyReply } from 'fastify';
import { SSE_DONE, sseData } from './sse.js';
import type { JsonObject } from './upstream/openai-worker.js';

const kPending: unique symbol = Symbol('openfugu.pending');
const kLimit: unique symbol = Symbol('openfugu.outputLimit');
type BatchedResponse = ServerResponse & { [kPending]?: string | undefined; [kLimit]?: number };

/**
 * Caps the bytes queued for this response's client while it is not draining (`maxOutputBufferBytes`): a write
 * that would queue more on an undrained socket destroys the response instead, so a client that stopped reading
 * cannot make the gateway hold its answer. Keep the cap at least twice the largest event written at once.
 */
export function limitOutput(raw: ServerResponse, bytes: number): void {
  (raw as BatchedResponse)[kLimit] = bytes;
}

/**
 * Queues SSE text for the client. Everything queued within one tick (all the events of one upstream read,
 * a whole answer streamed after a run) leaves in one socket write: a write is a syscall, and on loopback the
 * largest single cost of a streamed request. Resolves once the client has room again (backpressure).
 */
export function write(reply: FastifyReply, text: string): Promise<void> | undefined {
  const raw = reply.raw as BatchedResponse;
  if (raw.destroyed) return undefined;
  const pending = raw[kPending];
  const queued = pending === undefined ? text : pending + text;
  if (
    raw.writableNeedDrain &&
    raw.writableLength + queued.length > (raw[kLimit] ?? Number.POSITIVE_INFINITY)
  ) {
    raw[kPending] = undefined;
    raw.destroy();
    return undefined;
  }
  raw[kPending] = queued;
  if (pending === undefined) process.nextTick(flushPending, raw);
  return raw.writableNeedDrain ? drained(raw) : undefined;
}

function flushPending(raw: BatchedResponse): void {
  const text = raw[kPending];
  raw[kPending] = undefined;
  if (text !== undefined && !raw.destroyed && !raw.writableEnded) raw.write(text);
}

/** Ends the response with `text` after whatever is still queued. */
export function endStream(raw: BatchedResponse, text: string): void {
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

export function startStream(reply: FastifyReply): void {
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    // No `connection` header of our own: Node answers `keep-alive` or, when the client asked, `close` (and
    // closes the socket after the answer).
    'x-accel-buffering': 'no',
  });
}

/**
 * Ends an SSE answer as OpenAI does: a finish chunk when `finished` is false (a forwarded stream whose upstream
 * sent none); with `include_usage`, a last chunk with no choices and the usage (and the debug trace, when there
 * is one); without it, the debug trace as an SSE comment when `traceComment`; then `[DONE]`.
 */
export async function closeSse(
  reply: FastifyReply,
  o: {
    id: string;
    model: string;
    created?: number;
    /** Whether a finish reason went out already (default true). */
    finished?: boolean;
    includeUsage: boolean;
    usage: JsonObject;
    trace: unknown;
    traceComment: boolean;
  },
): Promise<void> {
  if (o.finished === false) await write(reply, sseData(chunkOf(o.id, o.model, {}, 'stop')));
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

export function chunkOf(
  id: string,
  model: string,
  delta: JsonObject,
  finish: string | null,
  index = 0,
): JsonObject {
  return {
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index, delta, finish_reason: finish, logprobs: null }],
  };
}

/** Streams a finished answer: role chunk, content in pieces, tool calls, finish, optional usage, `[DONE]`. */
export async function writeCompletionAsStream(
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
