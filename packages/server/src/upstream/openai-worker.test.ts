import { OpenFuguError } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { completionOf } from '../../test/hostile-helpers.js';
import { createOpenAIWorker, parseRetryAfter } from './openai-worker.js';

const completion = completionOf;

/** A scripted fetch: each call takes the next responder; records bodies and times. */
function scripted(responders: ((init: RequestInit) => Response | Promise<Response>)[]) {
  const calls: { body: Record<string, unknown>; headers: Record<string, string>; at: number }[] = [];
  const fetchImpl = (async (_url: string | URL | Request, init?: RequestInit) => {
    calls.push({
      body: JSON.parse(String(init?.body)),
      headers: init?.headers as Record<string, string>,
      at: performance.now(),
    });
    const next = responders[Math.min(calls.length - 1, responders.length - 1)]!;
    return next(init ?? {});
  }) as typeof fetch;
  return { fetchImpl, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('createOpenAIWorker', () => {
  it('sends the upstream model, auth and sampling settings, and decodes the answer', async () => {
    const { fetchImpl, calls } = scripted([() => json(200, completion('hi'))]);
    const worker = createOpenAIWorker({
      id: 'a',
      baseURL: 'http://up/v1/',
      model: 'up-model',
      apiKey: 'k',
      fetch: fetchImpl,
    });
    const response = await worker.complete({
      messages: [{ role: 'user', content: 'q' }],
      maxTokens: 7,
      temperature: 0.2,
    });
    expect(response).toEqual({
      content: 'hi',
      usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 },
      finishReason: 'stop',
    });
    expect(calls[0]?.body).toMatchObject({ model: 'up-model', max_tokens: 7, temperature: 0.2 });
    expect(calls[0]?.headers.authorization).toBe('Bearer k');
  });

  it('retries 429 and 5xx with backoff, honouring Retry-After', async () => {
    const { fetchImpl, calls } = scripted([
      () => json(429, { error: {} }, { 'retry-after': '0.05' }),
      () => json(503, { error: {} }),
      () => json(200, completion('ok')),
    ]);
    const worker = createOpenAIWorker({
      id: 'a',
      baseURL: 'http://up/v1',
      model: 'm',
      fetch: fetchImpl,
      initialBackoffMs: 10,
      random: () => 1,
    });
    expect((await worker.complete({ messages: [{ role: 'user', content: 'q' }] })).content).toBe('ok');
    expect(calls).toHaveLength(3);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(45); // Retry-After: 50 ms
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(15); // 2nd backoff: 10 · 2¹ · jitter(1)
  });

  it('does not retry 4xx other than 429, and gives a typed UpstreamError', async () => {
    const { fetchImpl, calls } = scripted([() => json(400, { error: { message: 'bad' } })]);
    const worker = createOpenAIWorker({ id: 'a', baseURL: 'http://up/v1', model: 'm', fetch: fetchImpl });
    const error = await worker
      .complete({ messages: [{ role: 'user', content: 'q' }] })
      .catch((caught: unknown) => caught);
    expect(OpenFuguError.hasCode(error, 'upstream_error')).toBe(true);
    expect(error).toMatchObject({ statusCode: 400, isRetryable: false, workerId: 'a' });
    expect(calls).toHaveLength(1);
  });

  it('gives up when Retry-After is longer than the backoff cap', async () => {
    const { fetchImpl, calls } = scripted([() => json(429, {}, { 'retry-after': '120' })]);
    const worker = createOpenAIWorker({
      id: 'a',
      baseURL: 'http://up/v1',
      model: 'm',
      fetch: fetchImpl,
      maxBackoffMs: 1_000,
    });
    await expect(worker.complete({ messages: [{ role: 'user', content: 'q' }] })).rejects.toMatchObject({
      statusCode: 429,
    });
    expect(calls).toHaveLength(1);
  });

  it('turns malformed JSON and non-completions into retryable upstream errors', async () => {
    const { fetchImpl, calls } = scripted([
      () => new Response('{"choices": [', { status: 200 }),
      () => json(200, { hello: 'world' }),
      () => json(200, completion('fine')),
    ]);
    const worker = createOpenAIWorker({
      id: 'a',
      baseURL: 'http://up/v1',
      model: 'm',
      fetch: fetchImpl,
      maxRetries: 2,
    });
    expect((await worker.complete({ messages: [{ role: 'user', content: 'q' }] })).content).toBe('fine');
    expect(calls).toHaveLength(3);
  });

  it('times out a hanging call with a TimeoutError', async () => {
    const hanging = ((_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      })) as typeof fetch;
    const worker = createOpenAIWorker({
      id: 'a',
      baseURL: 'http://up/v1',
      model: 'm',
      fetch: hanging,
      timeoutMs: 30,
      maxRetries: 0,
    });
    const error = await worker
      .complete({ messages: [{ role: 'user', content: 'q' }] })
      .catch((caught: unknown) => caught);
    expect(OpenFuguError.hasCode(error, 'timeout')).toBe(true);
  });

  it('honours the caller abort signal', async () => {
    const hanging = ((_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      })) as typeof fetch;
    const worker = createOpenAIWorker({ id: 'a', baseURL: 'http://up/v1', model: 'm', fetch: hanging });
    const controller = new AbortController();
    const pending = worker.complete(
      { messages: [{ role: 'user', content: 'q' }] },
      { signal: controller.signal },
    );
    controller.abort();
    const error = await pending.catch((caught: unknown) => caught);
    expect(OpenFuguError.hasCode(error, 'aborted')).toBe(true);
  });

  it('decodes tool calls (arguments as objects)', async () => {
    const body = completion('');
    (body.choices[0]!.message as Record<string, unknown>).tool_calls = [
      { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
    ];
    body.choices[0]!.finish_reason = 'tool_calls';
    const { fetchImpl } = scripted([() => json(200, body)]);
    const worker = createOpenAIWorker({ id: 'a', baseURL: 'http://up/v1', model: 'm', fetch: fetchImpl });
    const response = await worker.complete({ messages: [{ role: 'user', content: 'q' }] });
    expect(response.toolCalls).toEqual([{ id: 'c1', name: 'f', arguments: { x: 1 } }]);
    expect(response.finishReason).toBe('tool_calls');
  });

  it('streams SSE chunks split at arbitrary byte boundaries, and fails on an early end', async () => {
    const events = [
      {
        id: 'x',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta: { content: 'héllo 😀' }, finish_reason: null }],
      },
      {
        id: 'x',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      },
    ];
    const text = `${events.map((event) => `data: ${JSON.stringify(event)}\r\n\r\n`).join('')}data: [DONE]\n\n`;
    const bytes = new TextEncoder().encode(text);
    const sse = (body: Uint8Array): Response =>
      new Response(
        new ReadableStream({
          start(controller) {
            for (let i = 0; i < body.length; i += 7) controller.enqueue(body.slice(i, i + 7));
            controller.close();
          },
        }),
        { status: 200 },
      );
    const { fetchImpl } = scripted([() => sse(bytes), () => sse(bytes.slice(0, bytes.length - 20))]);
    const worker = createOpenAIWorker({ id: 'a', baseURL: 'http://up/v1', model: 'm', fetch: fetchImpl });
    let content = '';
    for await (const chunk of await worker.chatStream({ messages: [] }))
      content += chunk.choices[0]?.delta.content ?? '';
    expect(content).toBe('héllo 😀');
    const broken = async (): Promise<void> => {
      for await (const _chunk of await worker.chatStream({ messages: [] })) {
        // drain
      }
    };
    await expect(broken()).rejects.toMatchObject({ code: 'upstream_error' });
  });
});

describe('stream idle timeout', () => {
  const chunk = (content: string): string =>
    `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
  const encoder = new TextEncoder();
  /** An SSE body that sends `first`, then waits `pauseMs` (aborting the stream if the signal fires), then the rest. */
  const pausing =
    (pauseMs: number) =>
    (init: RequestInit): Response =>
      new Response(
        new ReadableStream({
          async start(controller) {
            controller.enqueue(encoder.encode(chunk('a')));
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, pauseMs);
              init.signal?.addEventListener('abort', () => {
                clearTimeout(timer);
                resolve();
              });
            });
            if (init.signal?.aborted) return;
            controller.enqueue(encoder.encode(`${chunk('b')}data: [DONE]\n\n`));
            controller.close();
          },
        }),
        { status: 200 },
      );

  it('abandons an upstream that goes silent for longer than streamIdleTimeoutMs', async () => {
    const { fetchImpl } = scripted([pausing(120_000)]);
    const worker = createOpenAIWorker({
      id: 'a',
      baseURL: 'http://up/v1',
      model: 'm',
      fetch: fetchImpl,
      streamIdleTimeoutMs: 60,
    });
    // The pause outlasts the test's own timeout: only the idle timeout can end the read in time.
    const read = async (): Promise<string> => {
      let text = '';
      for await (const part of await worker.chatStream({ messages: [] }))
        text += part.choices[0]?.delta.content ?? '';
      return text;
    };
    await expect(read()).rejects.toMatchObject({ code: 'timeout' });
  });

  it('does not count the time a slow consumer takes between reads', async () => {
    let signal: AbortSignal | undefined;
    const { fetchImpl } = scripted([
      (init) => {
        signal = init.signal ?? undefined;
        return pausing(10)(init);
      },
    ]);
    const worker = createOpenAIWorker({
      id: 'a',
      baseURL: 'http://up/v1',
      model: 'm',
      fetch: fetchImpl,
      streamIdleTimeoutMs: 60,
    });
    let text = '';
    for await (const part of await worker.chatStream({ messages: [] })) {
      text += part.choices[0]?.delta.content ?? '';
      await new Promise((resolve) => setTimeout(resolve, 150)); // the client is slow, the upstream is not
    }
    expect(text).toBe('ab');
    expect(signal?.aborted).toBe(false); // the upstream request was never cut
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(10_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
