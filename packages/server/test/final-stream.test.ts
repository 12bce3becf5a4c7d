/**
 * True streaming of a run's final call (`fugu` TRINITY loop, `fugu-ultra` Conductor): the call the coordinator
 * or the workflow marks `final: true` goes to the client chunk by chunk as the upstream sends it, while the
 * earlier calls stay non-streamed; usage in the last chunk is summed over every call of the run.
 */
import { createHashingBackbone, createRouter, createRouterHead } from '@openfugu/trinity';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createConductorMode,
  createGateway,
  createOpenAIWorker,
  createSimulatedUpstream,
  createTrinityMode,
  DEFAULT_SIMULATED_POOL,
  type FaultSpec,
  type Gateway,
  type SimulatedUpstream,
  type UpstreamWorker,
} from '../src/index.js';

const CHUNK_DELAY_MS = 25;

/**
 * Order of events across the client and the gateway (both run in this process): a counter, not a clock, so
 * "the client had content before the upstream finished" holds or fails the same on a loaded machine.
 */
let sequence = 0;
const nextInOrder = (): number => ++sequence;

interface Setup {
  url: string;
  upstream: SimulatedUpstream;
  gateway: Gateway;
  /** When, in event order (`nextInOrder`), the gateway received each upstream stream's finish chunk. */
  upstreamFinishedAt: number[];
  /** Upstream stream requests (non-streamed calls are not counted). */
  streams: string[];
  close(): Promise<void>;
}

let setup: Setup | undefined;
afterEach(async () => {
  await setup?.close();
  setup = undefined;
});

/**
 * The simulated pool with slow streams (one chunk every CHUNK_DELAY_MS), workers that record when their
 * stream finished, and three modes over them: `fugu` (2 turns: Worker, then the final Worker), `fugu-1`
 * (1 turn, final) and `fugu-ultra` (Conductor, one round).
 */
async function start(
  faults: Record<string, FaultSpec> = {},
  timing: { chunkDelayMs?: number; streamIdleTimeoutMs?: number; turnTimeoutMs?: number } = {},
): Promise<Setup> {
  const upstream = await createSimulatedUpstream({
    models: DEFAULT_SIMULATED_POOL.map((entry) => ({
      ...entry.spec,
      latencyMs: 0,
      latencyJitterMs: 0,
      chunkDelayMs: timing.chunkDelayMs ?? CHUNK_DELAY_MS,
    })),
    seed: 7,
    faults,
  });
  const upstreamFinishedAt: number[] = [];
  const streams: string[] = [];
  const workers = DEFAULT_SIMULATED_POOL.map((entry): UpstreamWorker => {
    const worker = createOpenAIWorker({
      id: entry.id,
      baseURL: upstream.baseURL,
      model: entry.spec.model,
      price: entry.price,
      timeoutMs: 2_000,
      maxRetries: 0,
      streamIdleTimeoutMs: timing.streamIdleTimeoutMs ?? 400,
    });
    return {
      ...worker,
      async chatStream(body, options) {
        streams.push(entry.id);
        const chunks = await worker.chatStream(body, options);
        return (async function* () {
          for await (const chunk of chunks) {
            if (chunk.choices?.some((choice) => choice.finish_reason)) upstreamFinishedAt.push(nextInOrder());
            yield chunk;
          }
        })();
      },
    };
  });
  // A zero head: every turn picks the first agent (`writer`, long answers) and the first role (Worker).
  const backbone = createHashingBackbone({ dimension: 16 });
  const agents = ['writer', 'math', 'coder', 'generalist'];
  const router = createRouter({
    backbone,
    head: createRouterHead({ agentCount: agents.length, dimension: 16 }),
    agents,
  });
  const gateway = createGateway({
    workers,
    modes: [
      createTrinityMode({ router, maxTurns: 2 }),
      createTrinityMode({ model: 'fugu-1', router, maxTurns: 1 }),
      createTrinityMode({
        model: 'fugu-timed',
        router,
        maxTurns: 1,
        turnTimeoutMs: timing.turnTimeoutMs ?? 120,
      }),
      createConductorMode({
        planner: 'generalist',
        descriptions: Object.fromEntries(
          DEFAULT_SIMULATED_POOL.map((entry) => [entry.id, entry.description]),
        ),
      }),
    ],
    config: { debugTrace: true, pool: { failureThreshold: 100 } },
  });
  const url = await gateway.listen({ port: 0 });
  return {
    url,
    upstream,
    gateway,
    upstreamFinishedAt,
    streams,
    async close() {
      await gateway.close();
      await upstream.close();
    },
  };
}

interface StreamedChunk {
  id?: string;
  model?: string;
  choices?: { delta?: { content?: string; role?: string }; finish_reason?: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  openfugu_trace?: { calls: { workerId: string; outcome: string; usage?: { totalTokens: number } }[] };
  error?: { message: string; type: string };
}

/** Streams one request with fetch, parsing SSE events as they arrive and ordering the first content chunk. */
async function streamRequest(
  url: string,
  model: string,
  content: string,
  options: { debug?: boolean; includeUsage?: boolean } = {},
): Promise<{ events: StreamedChunk[]; raw: string; done: boolean; firstContentAt: number | undefined }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.debug ? { 'x-openfugu-debug': '1' } : {}) },
    body: JSON.stringify({
      model,
      stream: true,
      ...(options.includeUsage === false ? {} : { stream_options: { include_usage: true } }),
      messages: [{ role: 'user', content }],
    }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: StreamedChunk[] = [];
  let raw = '';
  let buffer = '';
  let done = false;
  let firstContentAt: number | undefined;
  for (;;) {
    const read = await reader.read();
    if (read.done) break;
    const text = decoder.decode(read.value, { stream: true });
    raw += text;
    buffer += text;
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      if (!event.startsWith('data: ')) continue;
      const data = event.slice(6);
      if (data === '[DONE]') {
        done = true;
        continue;
      }
      const chunk = JSON.parse(data) as StreamedChunk;
      if (firstContentAt === undefined && (chunk.choices?.[0]?.delta?.content ?? '') !== '') {
        firstContentAt = nextInOrder();
      }
      events.push(chunk);
    }
  }
  return { events, raw, done, firstContentAt };
}

async function plain(
  url: string,
  model: string,
  content: string,
): Promise<{
  choices: { message: { content: string } }[];
  usage: { total_tokens: number; prompt_tokens: number; completion_tokens: number };
}> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Awaited<ReturnType<typeof plain>>;
}

const textOf = (events: StreamedChunk[]): string =>
  events.map((event) => event.choices?.[0]?.delta?.content ?? '').join('');

describe.each([
  ['fugu', 'Write a short poem about the sea and the wind', 2],
  ['fugu-ultra', 'Write a haiku about trains', 3],
] as const)('%s: the final call streams through', (model, question, calls) => {
  it('sends the first content chunk before the upstream sent its last one; same text, usage summed over every call', async () => {
    setup = await start();
    const streamed = await streamRequest(setup.url, model, question, { debug: true });
    // Only the final call was streamed upstream; the earlier calls were not.
    expect(setup.streams).toHaveLength(1);
    expect(setup.upstreamFinishedAt).toHaveLength(1);
    expect(streamed.firstContentAt).toBeDefined();
    expect(textOf(streamed.events).split(' ').length, textOf(streamed.events)).toBeGreaterThan(6); // several upstream chunks
    // True streaming: the client had content before the upstream had even sent its finish chunk (in event
    // order, not by the clock).
    expect(streamed.firstContentAt!).toBeLessThan(setup.upstreamFinishedAt[0]!);
    expect(streamed.done).toBe(true);

    const content = streamed.events.filter((event) => (event.choices?.length ?? 0) > 0);
    expect(content.length).toBeGreaterThan(2);
    expect(content.at(-1)?.choices?.[0]?.finish_reason).toBe('stop');
    const last = streamed.events.at(-1)!;
    expect(last.choices).toEqual([]);
    const trace = last.openfugu_trace!;
    expect(trace.calls).toHaveLength(calls);
    const summed = trace.calls.reduce((sum, call) => sum + (call.usage?.totalTokens ?? 0), 0);
    expect(last.usage?.total_tokens).toBe(summed);

    // The same request non-streamed: the same answer and the same summed usage.
    const answer = await plain(setup.url, model, question);
    expect(textOf(streamed.events)).toBe(answer.choices[0]?.message.content);
    expect(last.usage).toEqual({
      prompt_tokens: answer.usage.prompt_tokens,
      completion_tokens: answer.usage.completion_tokens,
      total_tokens: answer.usage.total_tokens,
    });
  });

  it('hides the pool: one public id and model, no upstream names or fingerprints in the stream', async () => {
    setup = await start();
    const streamed = await streamRequest(setup.url, model, question);
    const ids = new Set(streamed.events.map((event) => event.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^chatcmpl-/);
    expect(new Set(streamed.events.map((event) => event.model))).toEqual(new Set([model]));
    expect(streamed.raw).not.toMatch(/sim-|chatcmpl-sim|system_fingerprint|openfugu_trace/);
    for (const entry of DEFAULT_SIMULATED_POOL) expect(streamed.raw).not.toContain(`"${entry.id}"`);
  });

  it('is parsed by the official openai client, usage included', async () => {
    setup = await start();
    const client = new OpenAI({ baseURL: `${setup.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: question }],
    });
    let text = '';
    let total = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      total = chunk.usage?.total_tokens ?? total;
    }
    const answer = await plain(setup.url, model, question);
    expect(text).toBe(answer.choices[0]?.message.content);
    expect(finish).toBe('stop');
    expect(total).toBe(answer.usage.total_tokens);
  });
});

describe('fugu: failures of the final call', () => {
  it('falls back to another worker before the first byte', async () => {
    setup = await start({ 'sim-writer-8b': { rate500: 1 } });
    const streamed = await streamRequest(setup.url, 'fugu-1', 'What is 17 * 23?', { debug: true });
    expect(streamed.done).toBe(true);
    // writer answered 500, math (the first other worker in pool order) streamed the answer.
    expect(setup.streams).toEqual(['writer', 'math']);
    expect(textOf(streamed.events)).toMatch(/^The answer is \d+\.$/);
    const last = streamed.events.at(-1)!;
    expect(last.openfugu_trace?.calls.map((call) => [call.workerId, call.outcome])).toEqual([
      ['writer', 'error'],
      ['math', 'ok'],
    ]);
    expect(last.usage?.total_tokens).toBe(last.openfugu_trace?.calls[1]?.usage?.totalTokens);
    expect(streamed.events.some((event) => event.error !== undefined)).toBe(false);
  });

  it('ends the stream with an in-band OpenAI error after the first byte, and routes no second stream', async () => {
    setup = await start({ 'sim-writer-8b': { stallRate: 1, stallMs: 5_000 } });
    const streamed = await streamRequest(setup.url, 'fugu-1', 'What is 17 * 23?');
    expect(setup.streams).toEqual(['writer']);
    expect(streamed.done).toBe(false);
    expect(streamed.events[0]?.choices?.[0]?.delta?.role).toBe('assistant');
    const error = streamed.events.at(-1)?.error;
    expect(error?.type).toBeDefined();
    expect(error?.message).not.toMatch(/sim-|writer/);

    const client = new OpenAI({ baseURL: `${setup.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await expect(
      (async () => {
        const stream = await client.chat.completions.create({
          model: 'fugu-1',
          stream: true,
          messages: [{ role: 'user', content: 'What is 17 * 23?' }],
        });
        for await (const _chunk of stream) {
          // drain
        }
      })(),
    ).rejects.toThrow();
  });

  it('a turn timeout during the final stream ends it with an error, never with a cut answer and [DONE]', async () => {
    // One chunk a second and a 5 s turn deadline: the first content is out long before the deadline (even on a
    // loaded machine) and the answer (well over 5 chunks) is still streaming when it fires. The idle timeout
    // is out of the way.
    setup = await start({}, { chunkDelayMs: 1_000, turnTimeoutMs: 5_000, streamIdleTimeoutMs: 60_000 });
    const streamed = await streamRequest(
      setup.url,
      'fugu-timed',
      'Write a short poem about the sea and the wind',
    );
    expect(textOf(streamed.events).length).toBeGreaterThan(0); // the stream had started
    expect(streamed.done).toBe(false);
    expect(streamed.events.at(-1)?.error?.type).toBeDefined();
    expect(streamed.events.some((event) => event.choices?.[0]?.finish_reason)).toBe(false);
    expect(setup.streams).toEqual(['writer']);
  });

  it('without include_usage, ends with finish and [DONE]; the debug trace comes as an SSE comment', async () => {
    setup = await start();
    const streamed = await streamRequest(setup.url, 'fugu', 'Write a short poem about the sea', {
      debug: true,
      includeUsage: false,
    });
    expect(streamed.done).toBe(true);
    expect(streamed.events.some((event) => event.usage)).toBe(false);
    const comment = /\n: openfugu_trace (\{.*\})\n/.exec(streamed.raw);
    const trace = JSON.parse(comment?.[1] ?? '{}') as {
      modeTrace?: { turns?: { turn: number; role: string; final?: boolean }[] };
    };
    expect(trace.modeTrace?.turns?.map((turn) => [turn.turn, turn.role, turn.final])).toEqual([
      [1, 'worker', undefined],
      [2, 'worker', true],
    ]);
    expect(textOf(streamed.events).length).toBeGreaterThan(20);
  });
});

describe('fugu: the client goes away during the final stream', () => {
  it('aborts the upstream stream, records the call as aborted and frees the request', async () => {
    setup = await start();
    const controller = new AbortController();
    const response = await fetch(`${setup.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'fugu-1',
        stream: true,
        messages: [{ role: 'user', content: 'Write a short poem about the sea and the wind' }],
      }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let raw = '';
    while (!/"delta":\{"content":"[^"]/.test(raw)) {
      const read = await reader.read();
      if (read.done) break;
      raw += decoder.decode(read.value, { stream: true });
    }
    expect(raw).toMatch(/"delta":\{"content":"[^"]/);
    controller.abort();
    await reader.cancel().catch(() => {});
    const health = async (): Promise<number> =>
      ((await (await fetch(`${setup!.url}/health`)).json()) as { inFlight: number }).inFlight;
    for (let i = 0; i < 100 && (await health()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await health()).toBe(0);
    // The upstream never got to send its finish chunk to the gateway: the stream was cut.
    expect(setup.upstreamFinishedAt).toHaveLength(0);
    const metrics = await (await fetch(`${setup.url}/metrics`)).text();
    expect(metrics).toMatch(/openfugu_upstream_calls_total\{[^}]*outcome="aborted"[^}]*\} 1/);
  });
});

describe('the simulated upstream with chunkDelayMs', () => {
  it('takes as long to answer non-streamed as to stream (one chunk delay per chunk)', async () => {
    setup = await start();
    const body = {
      model: 'sim-writer-8b',
      messages: [{ role: 'user', content: 'Write a short poem about the sea and the wind' }],
    };
    const post = (stream: boolean) =>
      fetch(`${setup!.upstream.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, stream }),
      });
    const started = performance.now();
    const answer = (await (await post(false)).json()) as { choices: { message: { content: string } }[] };
    const elapsed = performance.now() - started;
    const streamed = await (await post(true)).text();
    const chunks = streamed.split('\n\n').filter((event) => /"delta":\{"content":"[^"]/.test(event)).length;
    expect(chunks).toBeGreaterThan(2);
    expect(answer.choices[0]?.message.content.length).toBeGreaterThan(0);
    expect(elapsed).toBeGreaterThanOrEqual(chunks * CHUNK_DELAY_MS - 5);
  });
});
