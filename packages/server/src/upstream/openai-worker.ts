/**
 * An upstream OpenAI-compatible model (LiteLLM proxy, vLLM, SGLang, Ollama, any provider) as a `Worker`.
 * Built on undici keep-alive pools (tests inject a `fetch` instead) so the hot path stays lean: per-call timeout,
 * retries with exponential backoff and full jitter on 429/5xx/connection errors (honouring `Retry-After`),
 * malformed answers turned into typed `UpstreamError`s, and a streaming variant with an idle timeout.
 */
import {
  AbortedError,
  type AbortSignalLike,
  type ChatCompletionChunk,
  type ChatCompletionResponse,
  OpenFuguError,
  type Price,
  type Random,
  TimeoutError,
  type ToolCall,
  UpstreamError,
  type Worker,
  type WorkerCallOptions,
  type WorkerDescriptor,
  type WorkerRequest,
  type WorkerResponse,
} from '@openfugu/schema';
import { AbortScope, follow } from '../abort.js';
import { createSseParser } from '../sse.js';
import { fetchTransport, type Transport, type TransportResponse, undiciTransport } from './transport.js';

/** A JSON object as sent to / received from an upstream. */
export type JsonObject = Record<string, unknown>;

/** A pool member the gateway can also call raw (direct mode) and stream from. */
export interface UpstreamWorker extends Worker {
  /** Public id (alias) and internal upstream model name and price. */
  readonly descriptor: WorkerDescriptor;
  /** Sends an OpenAI chat-completion body (its `model` is replaced by the upstream's) and returns the answer. */
  chat(body: JsonObject, options?: WorkerCallOptions): Promise<ChatCompletionResponse>;
  /**
   * Starts a streamed completion. Resolves once the upstream accepted the request (so failures before the
   * first byte can still be retried or answered with a proper status); iterating yields parsed chunks
   * until `[DONE]`.
   */
  chatStream(body: JsonObject, options?: WorkerCallOptions): Promise<AsyncIterable<ChatCompletionChunk>>;
}

/** Settings of `createOpenAIWorker`. */
export interface OpenAIWorkerSettings {
  /** Public id (alias) of this pool member. */
  id: string;
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:4000/v1`. */
  baseURL: string;
  /** Upstream model name (internal; never shown to clients). */
  model: string;
  /** Bearer token, if the upstream needs one. */
  apiKey?: string;
  /** Extra headers sent with every call. */
  headers?: Record<string, string>;
  /** Price in USD per 1M tokens, for cost accounting. */
  price?: Price;
  description?: string;
  /** Per-attempt timeout in ms (default 60 000). For streams it bounds the wait for the response head. */
  timeoutMs?: number;
  /** Longest silence between two stream chunks before the stream is abandoned (default 30 000 ms). */
  streamIdleTimeoutMs?: number;
  /** Retries after the first attempt on 429/5xx/connection errors (default 2). */
  maxRetries?: number;
  /** First backoff in ms; doubles each retry, full jitter (default 200). */
  initialBackoffMs?: number;
  /** Cap of one backoff, and the longest `Retry-After` honoured; longer ones are not retried (default 5 000). */
  maxBackoffMs?: number;
  /**
   * Largest upstream answer read, in bytes (default 16 MiB): a longer body is cut and the call fails as an
   * upstream fault (a hostile or broken upstream is input too).
   */
  maxResponseBytes?: number;
  /**
   * Longest line or event of an upstream stream, in characters (default 4 MiB): the SSE parser's buffer never
   * grows past it; a longer one fails the stream as an upstream fault.
   */
  maxStreamEventBytes?: number;
  /** Injected fetch (tests, custom dispatchers). Default: undici keep-alive `Pool`s shared per origin. */
  fetch?: typeof fetch;
  /** Injected randomness for jitter (default Math.random). */
  random?: Random;
}

/** One accepted attempt: the response, the scope that aborts it, and the cleanup of its timer. */
interface Attempt {
  response: TransportResponse;
  scope: AbortScope;
  clear: () => void;
}

const DEFAULTS = {
  timeoutMs: 60_000,
  streamIdleTimeoutMs: 30_000,
  maxRetries: 2,
  initialBackoffMs: 200,
  maxBackoffMs: 5_000,
  maxResponseBytes: 16 * 1024 * 1024,
  maxStreamEventBytes: 4 * 1024 * 1024,
};

/**
 * Creates a pool member that calls an OpenAI-compatible upstream.
 *
 * @example
 * ```ts
 * const worker = createOpenAIWorker({ id: 'fast', baseURL: 'http://127.0.0.1:4000/v1', model: 'gpt-4o-mini',
 *   apiKey: process.env.LITELLM_KEY, price: { input: 0.15, output: 0.6 } });
 * const { content } = await worker.complete({ messages: [{ role: 'user', content: 'hi' }] });
 * ```
 */
export function createOpenAIWorker(settings: OpenAIWorkerSettings): UpstreamWorker {
  const transport: Transport = settings.fetch ? fetchTransport(settings.fetch) : undiciTransport;
  const random = settings.random ?? Math.random;
  const timeoutMs = settings.timeoutMs ?? DEFAULTS.timeoutMs;
  const idleMs = settings.streamIdleTimeoutMs ?? DEFAULTS.streamIdleTimeoutMs;
  const maxRetries = settings.maxRetries ?? DEFAULTS.maxRetries;
  const initialBackoff = settings.initialBackoffMs ?? DEFAULTS.initialBackoffMs;
  const maxBackoff = settings.maxBackoffMs ?? DEFAULTS.maxBackoffMs;
  const maxResponseBytes = settings.maxResponseBytes ?? DEFAULTS.maxResponseBytes;
  const maxEvent = settings.maxStreamEventBytes ?? DEFAULTS.maxStreamEventBytes;
  const url = `${settings.baseURL.replace(/\/+$/, '')}/chat/completions`;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...settings.headers };
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`;
  const descriptor: WorkerDescriptor = { id: settings.id, model: settings.model };
  if (settings.price) descriptor.price = settings.price;
  if (settings.description) descriptor.description = settings.description;
  const id = settings.id;

  /** One attempt: a POST with a timeout; returns the OK response or throws a typed error. */
  const attempt = async (payload: string, signal: AbortSignalLike | undefined): Promise<Attempt> => {
    const scope = new AbortScope();
    const unlink = follow(scope, signal);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      scope.abort();
    }, timeoutMs);
    const clear = (): void => {
      clearTimeout(timer);
      unlink();
    };
    try {
      const response = await transport(url, { headers, body: payload, signal: scope });
      if (response.status < 200 || response.status >= 300) {
        const text = await readCapped(response, 4096, true).catch(() => '');
        clear();
        throw new UpstreamError({
          message: `upstream answered HTTP ${response.status}`,
          statusCode: response.status,
          workerId: id,
          cause: { body: text, retryAfterMs: parseRetryAfter(response.header('retry-after')) },
        });
      }
      return { response, scope, clear };
    } catch (error) {
      clear();
      if (signal?.aborted) throw new AbortedError({ cause: error });
      if (timedOut) throw new TimeoutError({ message: 'upstream call timed out', timeoutMs, cause: error });
      if (UpstreamError.isInstance(error)) throw error;
      throw new UpstreamError({ message: 'upstream connection failed', workerId: id, cause: error });
    }
  };

  /** Attempts with retries; returns the first OK response. */
  const send = async (body: JsonObject, signal: AbortSignalLike | undefined): Promise<Attempt> => {
    let payload: string;
    try {
      payload = JSON.stringify({ ...body, model: settings.model });
    } catch (error) {
      // Too deep (stack overflow), too large or cyclic: the request's fault, never the upstream's.
      throw new OpenFuguError({
        code: 'invalid_argument',
        message: 'The request body cannot be serialised.',
        cause: error,
      });
    }
    for (let retry = 0; ; retry++) {
      try {
        return await attempt(payload, signal);
      } catch (error) {
        if (retry >= maxRetries || !(error instanceof UpstreamError) || !error.isRetryable) throw error;
        const retryAfter = (error.cause as { retryAfterMs?: number } | undefined)?.retryAfterMs;
        if (retryAfter !== undefined && retryAfter > maxBackoff) throw error;
        const backoff = Math.min(maxBackoff, initialBackoff * 2 ** retry);
        await sleep(retryAfter ?? random() * backoff, signal);
      }
    }
  };

  const chat = async (body: JsonObject, options?: WorkerCallOptions): Promise<ChatCompletionResponse> => {
    const { stream: _stream, stream_options: _options, ...rest } = body;
    for (let retry = 0; ; retry++) {
      const { response, scope, clear } = await send(rest, options?.signal);
      let text: string;
      try {
        text = await readCapped(response, maxResponseBytes, false);
      } catch (error) {
        clear();
        if (options?.signal?.aborted) throw new AbortedError({ cause: error });
        if (error === TOO_LARGE) {
          scope.abort(); // drop the connection rather than read the rest
          throw new UpstreamError({
            message: `upstream answer larger than ${maxResponseBytes} bytes`,
            workerId: id,
            isRetryable: true,
          });
        }
        if (retry < maxRetries) continue;
        throw new UpstreamError({ message: 'upstream connection dropped', workerId: id, cause: error });
      }
      clear();
      const parsed = parseCompletion(text);
      if (parsed) return parsed;
      if (retry < maxRetries) continue;
      throw new UpstreamError({
        message: 'upstream answered malformed JSON',
        workerId: id,
        isRetryable: true,
      });
    }
  };

  const chatStream = async (
    body: JsonObject,
    options?: WorkerCallOptions,
  ): Promise<AsyncIterable<ChatCompletionChunk>> => {
    const { response, scope, clear } = await send({ ...body, stream: true }, options?.signal);
    clear(); // the per-attempt timeout covered the head; the idle timeout covers the body
    return streamChunks(response, scope, { idleMs, maxEvent }, id, follow(scope, options?.signal));
  };

  return {
    id,
    descriptor,
    chat,
    chatStream,
    async complete(request: WorkerRequest, options?: WorkerCallOptions): Promise<WorkerResponse> {
      return toWorkerResponse(await chat(toChatBody(request), options));
    },
  };
}

/** Builds an OpenAI request body from a `WorkerRequest`. */
export function toChatBody(request: WorkerRequest): JsonObject {
  const body: JsonObject = { messages: request.messages };
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.tools !== undefined && request.tools.length > 0) body.tools = request.tools;
  if (request.toolChoice !== undefined) body.tool_choice = request.toolChoice;
  return body;
}

/** Converts an OpenAI response to a `WorkerResponse` (tool-call arguments decoded). */
export function toWorkerResponse(completion: ChatCompletionResponse): WorkerResponse {
  const choice = completion.choices[0];
  const message = choice?.message;
  const result: WorkerResponse = { content: message?.content ?? '' };
  if (completion.usage) {
    result.usage = {
      promptTokens: completion.usage.prompt_tokens,
      completionTokens: completion.usage.completion_tokens,
      totalTokens: completion.usage.total_tokens,
    };
  }
  if (message?.tool_calls && message.tool_calls.length > 0) {
    result.toolCalls = message.tool_calls.map((call): ToolCall => {
      let args: Record<string, unknown> = {};
      try {
        const decoded: unknown = JSON.parse(call.function.arguments || '{}');
        if (decoded && typeof decoded === 'object' && !Array.isArray(decoded))
          args = decoded as Record<string, unknown>;
      } catch {
        // Keep the call with empty arguments; the raw string is not valid JSON.
      }
      return { id: call.id, name: call.function.name, arguments: args };
    });
  }
  const finish = choice?.finish_reason;
  if (finish === 'stop' || finish === 'length' || finish === 'tool_calls' || finish === 'content_filter') {
    result.finishReason = finish;
  }
  return result;
}

/** Parses and sanity-checks an upstream completion; undefined when it is not one. */
function parseCompletion(text: string): ChatCompletionResponse | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const choices = (value as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  const first = choices[0] as { message?: unknown } | undefined;
  if (typeof first?.message !== 'object' || first.message === null) return undefined;
  return value as ChatCompletionResponse;
}

async function* streamChunks(
  response: TransportResponse,
  controller: AbortScope,
  limits: { idleMs: number; maxEvent: number },
  workerId: string,
  cleanup: () => void,
): AsyncGenerator<ChatCompletionChunk> {
  const { idleMs } = limits;
  const iterator = response.chunks();
  const decoder = new TextDecoder();
  const parser = createSseParser({ maxEventLength: limits.maxEvent });
  let done = false;
  // One idle timer per stream, re-armed before every read (not a timer and a race promise per read). It only
  // counts time spent waiting for the upstream, not time the consumer takes (e.g. a slow client).
  let waiting = false;
  let rejectIdle: (reason: unknown) => void = noop;
  const idle = new Promise<never>((_resolve, reject) => {
    rejectIdle = reject;
  });
  idle.catch(noop);
  const timer = setTimeout(() => {
    if (!waiting) return;
    controller.abort();
    rejectIdle(STALLED);
  }, idleMs);
  try {
    while (!done) {
      let read: IteratorResult<Uint8Array>;
      waiting = true;
      timer.refresh();
      try {
        const next = iterator.next();
        // If the idle timer wins, the pending read rejects later on abort: keep that from going unhandled.
        next.catch(noop);
        read = await Promise.race([next, idle]);
      } catch (error) {
        if (error === STALLED)
          throw new TimeoutError({ message: 'upstream stream stalled', timeoutMs: idleMs });
        if (controller.aborted) throw new AbortedError({ cause: error });
        throw new UpstreamError({ message: 'upstream stream dropped', workerId, cause: error });
      } finally {
        waiting = false;
      }
      let events: string[];
      try {
        events = read.done ? parser.flush() : parser.push(decoder.decode(read.value, { stream: true }));
      } catch (error) {
        throw new UpstreamError({
          message: 'upstream sent an over-long stream event',
          workerId,
          cause: error,
        });
      }
      for (const data of events) {
        if (data === '[DONE]') {
          done = true;
          break;
        }
        let chunk: unknown;
        try {
          chunk = JSON.parse(data);
        } catch (error) {
          throw new UpstreamError({
            message: 'upstream sent a malformed stream chunk',
            workerId,
            cause: error,
          });
        }
        if (typeof chunk !== 'object' || chunk === null) {
          throw new UpstreamError({ message: 'upstream sent a malformed stream chunk', workerId });
        }
        if ('error' in chunk)
          throw new UpstreamError({ message: 'upstream stream reported an error', workerId });
        yield chunk as ChatCompletionChunk;
      }
      if (read.done && !done) {
        throw new UpstreamError({ message: 'upstream stream ended before [DONE]', workerId });
      }
    }
  } finally {
    clearTimeout(timer);
    cleanup();
    if (done) {
      // Drain the (normally empty) rest so the keep-alive connection goes back to the pool.
      void drain(iterator);
    } else {
      iterator.return?.()?.catch(() => undefined);
      controller.abort();
    }
  }
}

function noop(): void {}

/** Rejection of a stream's idle race when the upstream went silent for `streamIdleTimeoutMs`. */
const STALLED: unique symbol = Symbol('stalled');

async function drain(iterator: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    for (let i = 0; i < 64; i++) if ((await iterator.next()).done) return;
    await iterator.return?.();
  } catch {
    // The connection is gone either way.
  }
}

/** Rejection of `readCapped` when the body is longer than its cap. */
const TOO_LARGE: unique symbol = Symbol('too large');

/**
 * Reads a body as UTF-8 text, at most `limit` bytes: past it, the rest is dropped and the read either ends with
 * what it has (`truncate`, for error bodies) or rejects with `TOO_LARGE`. Never buffers more than the cap.
 */
async function readCapped(response: TransportResponse, limit: number, truncate: boolean): Promise<string> {
  const iterator = response.chunks();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
    const chunk = next.value;
    if (bytes + chunk.byteLength > limit) {
      void iterator.return?.()?.catch(noop);
      response.discard();
      if (!truncate) throw TOO_LARGE;
      text += decoder.decode(chunk.subarray(0, limit - bytes));
      return text;
    }
    bytes += chunk.byteLength;
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/** `Retry-After` as milliseconds (seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function sleep(ms: number, signal: AbortSignalLike | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
