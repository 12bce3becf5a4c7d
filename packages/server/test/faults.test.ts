import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createSseParser } from '../src/index.js';
import { type Harness, startHarness } from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const user = (content: string) => [{ role: 'user' as const, content }];

function clientFor(h: Harness, apiKey = 'unused'): OpenAI {
  return new OpenAI({ baseURL: `${h.url}/v1`, apiKey, maxRetries: 0, timeout: 10_000 });
}

describe('auth and rate limits', () => {
  it('401 without or with a wrong key, 200 with the right one, 429 with Retry-After past the burst', async () => {
    harness = await startHarness({
      config: {
        apiKeys: [{ key: 'sk-alice-123', name: 'alice', rateLimit: { requestsPerMinute: 6, burst: 2 } }],
      },
    });
    const anonymous = await fetch(`${harness.url}/v1/models`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
    await expect(clientFor(harness, 'sk-alice-124').models.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    const alice = clientFor(harness, 'sk-alice-123');
    await alice.chat.completions.create({ model: 'fugu', messages: user('hi') });
    await alice.chat.completions.create({ model: 'fugu', messages: user('hi') });
    const limited = await alice.chat.completions
      .create({ model: 'fugu', messages: user('hi') })
      .catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(
      Number((limited as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')),
    ).toBeGreaterThanOrEqual(1);
    // x-api-key works too
    const viaHeader = await fetch(`${harness.url}/v1/models`, { headers: { 'x-api-key': 'sk-alice-123' } });
    expect(viaHeader.status).toBe(429);
  });
});

describe('upstream faults', () => {
  it('retries 5xx, then answers 502 without naming the upstream', async () => {
    harness = await startHarness({ faults: { 'sim-math-7b': { rate500: 1 } } });
    const error = await clientFor(harness)
      .chat.completions.create({ model: 'math', messages: user('What is 1 + 1?') })
      .catch((caught: unknown) => caught as InstanceType<typeof OpenAI.APIError>);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(JSON.stringify((error as InstanceType<typeof OpenAI.APIError>).error)).not.toMatch(/sim-|math/);
    expect(harness.upstream.requests.get('sim-math-7b')).toBe(3); // 1 attempt + 2 retries
  });

  it('falls back to another worker in a routed mode and cools the failing one down', async () => {
    harness = await startHarness({
      faults: { 'sim-math-7b': { rate500: 1 } },
      config: { pool: { failureThreshold: 2, cooldownMs: 60_000 } },
    });
    const client = clientFor(harness);
    for (let i = 0; i < 3; i++) {
      const answer = await client.chat.completions.create({
        model: 'fugu',
        messages: user(`What is ${i} + 1?`),
      });
      expect(answer.choices[0]?.message.content).toBeTruthy();
    }
    const health = (await (await fetch(`${harness.url}/health`)).json()) as { pool: { coolingDown: number } };
    expect(health.pool.coolingDown).toBe(1);
    // Once cooling down, the failing worker is not called any more.
    expect(harness.upstream.requests.get('sim-math-7b')).toBe(6);
  });

  it('rides out 429s with Retry-After: 0', async () => {
    harness = await startHarness({
      faults: { 'sim-writer-8b': { rate429: 0.5 } },
      worker: { maxRetries: 6 },
    });
    const client = clientFor(harness);
    for (let i = 0; i < 5; i++) {
      const answer = await client.chat.completions.create({
        model: 'writer',
        messages: user(`Write a poem #${i}`),
      });
      expect(answer.choices[0]?.finish_reason).toBe('stop');
    }
  });

  it('malformed upstream JSON and dropped connections become 502 after retries', async () => {
    harness = await startHarness({
      faults: { 'sim-math-7b': { malformedRate: 1 }, 'sim-coder-14b': { dropRate: 1 } },
    });
    const client = clientFor(harness);
    await expect(
      client.chat.completions.create({ model: 'math', messages: user('1 + 1') }),
    ).rejects.toMatchObject({ status: 502 });
    await expect(
      client.chat.completions.create({ model: 'coder', messages: user('code') }),
    ).rejects.toMatchObject({ status: 502 });
  });

  it('a stalled upstream hits the request deadline: 504', async () => {
    harness = await startHarness({
      // The stall outlasts the test's own timeout: only the request deadline can end the request in time.
      faults: { 'sim-math-7b': { stallRate: 1, stallMs: 120_000 } },
      config: { requestTimeoutMs: 300 },
    });
    await expect(
      clientFor(harness).chat.completions.create({ model: 'math', messages: user('1 + 1') }),
    ).rejects.toMatchObject({
      status: 504,
      code: 'timeout',
    });
  });

  it('a stream that stalls after its first chunk ends with an in-band error the SDK raises', async () => {
    harness = await startHarness({
      faults: { 'sim-writer-8b': { stallRate: 1, stallMs: 5_000 } },
      worker: { streamIdleTimeoutMs: 200 },
    });
    const stream = await clientFor(harness).chat.completions.create({
      model: 'writer',
      messages: user('Write a poem'),
      stream: true,
    });
    const consume = async (): Promise<void> => {
      for await (const _chunk of stream) {
        // keep reading until the error arrives
      }
    };
    await expect(consume()).rejects.toBeInstanceOf(OpenAI.APIError);
    const metrics = await (await fetch(`${harness.url}/metrics`)).text();
    expect(metrics).toMatch(/openfugu_upstream_calls_total\{worker="writer",outcome="timeout"\} 1\n/);
  });
});

describe('client disconnects', () => {
  it('a client that goes away cancels the upstream work and frees the request', async () => {
    harness = await startHarness({ faults: { 'sim-math-7b': { stallRate: 1, stallMs: 10_000 } } });
    const controller = new AbortController();
    const pending = fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'math', messages: user('1 + 1') }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    const inFlight = async (): Promise<number> =>
      ((await (await fetch(`${harness!.url}/health`)).json()) as { inFlight: number }).inFlight;
    for (let i = 0; i < 100 && (await inFlight()) === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await inFlight()).toBe(1);
    controller.abort();
    await pending;
    let count = 1;
    for (let i = 0; i < 100 && count > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      count = await inFlight();
    }
    expect(count).toBe(0);
    const metrics = await (await fetch(`${harness.url}/metrics`)).text();
    expect(metrics).toMatch(/openfugu_upstream_calls_total\{worker="math",outcome="aborted"\} 1/);
  });
});

describe('under concurrent load with injected faults', () => {
  // Deadlines are what this test is about, not speed: the gateway owes every request an answer by
  // REQUEST_TIMEOUT_MS. The 300 clients, the gateway and the simulated pool share one event loop on a machine
  // that may be running everything else too, so the deadlines are wide enough that load alone does not trip them,
  // and "hangs" means no answer within 10 request deadlines.
  const REQUEST_TIMEOUT_MS = 5_000;
  const WORKER_TIMEOUT_MS = 2_000;
  const HANG_MS = 10 * REQUEST_TIMEOUT_MS;
  const REQUESTS = 300;
  const FAULTS = { rate429: 0.08, rate500: 0.08, malformedRate: 0.05, dropRate: 0.05, stallRate: 0.03 };

  it(
    'every request gets a valid completion or a proper OpenAI error; none hangs',
    async () => {
      harness = await startHarness({
        // A stall outlasts the hang bound, so only the gateway's deadlines can end it in time.
        faults: { '*': { ...FAULTS, stallMs: 2 * HANG_MS } },
        config: { requestTimeoutMs: REQUEST_TIMEOUT_MS, pool: { failureThreshold: 1_000 } },
        worker: { timeoutMs: WORKER_TIMEOUT_MS, streamIdleTimeoutMs: WORKER_TIMEOUT_MS, maxRetries: 1 },
      });
      const url = `${harness.url}/v1/chat/completions`;
      const models = ['fugu', 'math', 'coder', 'writer', 'generalist'];
      const outcomes = await Promise.all(
        Array.from({ length: REQUESTS }, async (_, i) => {
          const stream = i % 3 === 0;
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model: models[i % models.length],
              stream,
              messages: user(`What is ${i} * 3?`),
            }),
            signal: AbortSignal.timeout(HANG_MS),
          }).catch((error: unknown) => error as Error);
          if (response instanceof Error) return `no answer: ${response.name}`;
          const text = await response.text().catch((error: unknown) => error as Error);
          if (text instanceof Error) return `no full answer: ${text.name}`;
          if (response.status !== 200) {
            const body = JSON.parse(text) as { error: { code: string; type: string; message: string } };
            expect(body.error.type).toBeTypeOf('string');
            expect([502, 503, 504]).toContain(response.status);
            return `error ${response.status}`;
          }
          if (!stream) {
            const body = JSON.parse(text) as { choices: { message: { content: string } }[] };
            expect(body.choices[0]?.message.content).toMatch(/answer/);
            return 'ok';
          }
          const events = createSseParser().push(text);
          const last = events.at(-1);
          if (last === '[DONE]') return 'ok';
          expect(JSON.parse(last ?? '{}')).toHaveProperty('error');
          return 'stream error';
        }),
      );
      const counts = outcomes.reduce<Record<string, number>>((acc, outcome) => {
        acc[outcome] = (acc[outcome] ?? 0) + 1;
        return acc;
      }, {});
      // None hangs: every request was answered (no client-side abort) — the counts name any that were not.
      expect(Object.keys(counts).filter((outcome) => outcome.startsWith('no '))).toEqual([]);
      expect(outcomes).toHaveLength(REQUESTS);
      // Per attempt about 29% of calls fail; with one retry about 8% of requests still fail (~280 ok measured).
      // Two thirds is a wide floor; the retry rules themselves are tested one by one above.
      expect(counts.ok ?? 0, JSON.stringify(counts)).toBeGreaterThan((2 / 3) * REQUESTS);
      const health = await fetch(`${harness.url}/health`);
      expect(health.status).toBe(200);
    },
    HANG_MS + 30_000,
  );
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests, then refuses new connections', async () => {
    harness = await startHarness();
    harness.upstream.setFaults('sim-generalist-70b', { extraLatencyMs: 300 });
    const inFlight = fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'generalist', messages: user('Who was Ada Lovelace?') }),
    });
    for (let i = 0; i < 100; i++) {
      const health = (await (await fetch(`${harness.url}/health`)).json()) as { inFlight: number };
      if (health.inFlight === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const closing = harness.gateway.close();
    const response = await inFlight;
    expect(await response.text()).toMatch(/chat\.completion/);
    expect(response.status).toBe(200);
    await closing;
    await expect(fetch(`${harness.url}/health`)).rejects.toThrow();
    await harness.upstream.close();
    harness = undefined;
  });
});
