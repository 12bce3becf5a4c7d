/**
 * `n > 1` in the modes (`fugu`, `fugu-ultra`): n independent runs of the whole request, answered as n choices
 * (index 0..n-1), usage and cost summed over every call of every run; streamed one choice after the other, each
 * chunk with its choice's index; n above `maxChoices` is an OpenAI-shaped 400.
 */

import { UpstreamError } from '@openfugu/schema';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfiguredServer,
  createServerFromConfig,
  type GatewayMode,
  parseConfig,
} from '../src/index.js';
import { type Harness, startHarness } from './helpers.js';

let server: ConfiguredServer;
let url: string;
let client: OpenAI;

beforeAll(async () => {
  server = await createServerFromConfig(
    parseConfig({ simulated: { latency: false }, server: { debugTrace: true, maxChoices: 4 } }),
  );
  url = await server.gateway.listen({ port: 0 });
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await server.close();
});

interface Traced {
  choices: {
    index: number;
    message: { content: string | null; tool_calls?: unknown[] };
    finish_reason: string;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  openfugu_trace: {
    calls: { workerId: string; usage?: { totalTokens: number; promptTokens: number } }[];
    modeTrace: unknown[];
    costUsd: number;
  };
}

async function traced(body: Record<string, unknown>): Promise<{ status: number; body: Traced }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-openfugu-debug': '1' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Traced };
}

async function upstreamCalls(): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^openfugu_upstream_calls_total\{[^}]*\} (\d+)$/gm))
    total += Number(match[1]);
  return total;
}

const math = [{ role: 'user', content: 'What is 17 * 23?' }];

describe('n > 1 in fugu and fugu-ultra', () => {
  it('fugu, n = 3: three choices from three runs, usage and cost summed over every call', async () => {
    const one = await traced({ model: 'fugu', messages: math });
    expect(one.status).toBe(200);
    const before = await upstreamCalls();
    const three = await traced({ model: 'fugu', messages: math, n: 3 });
    expect(three.status).toBe(200);
    expect(three.body.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    for (const choice of three.body.choices) {
      expect(choice.message.content).toMatch(/^The answer is \d+\.$/);
      expect(choice.finish_reason).toBe('stop');
    }
    // Each run makes the same calls as a single run (worker, verifier): three times as many in all.
    const calls = three.body.openfugu_trace.calls;
    expect(calls).toHaveLength(3 * one.body.openfugu_trace.calls.length);
    expect(three.body.openfugu_trace.modeTrace).toHaveLength(3);
    const summed = calls.reduce((sum, call) => sum + (call.usage?.totalTokens ?? 0), 0);
    expect(three.body.usage.total_tokens).toBe(summed);
    expect(three.body.usage.prompt_tokens).toBe(3 * one.body.usage.prompt_tokens);
    expect(three.body.openfugu_trace.costUsd).toBeCloseTo(3 * one.body.openfugu_trace.costUsd, 9);
    expect(await upstreamCalls()).toBe(before + calls.length);
  });

  it('fugu-ultra, n = 2, with the official openai client', async () => {
    const completion = await client.chat.completions.create({
      model: 'fugu-ultra',
      messages: [{ role: 'user', content: 'What is 12 + 30?' }],
      n: 2,
    });
    expect(completion.model).toBe('fugu-ultra');
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1]);
    for (const choice of completion.choices) expect(choice.message.content).toMatch(/The answer is \d+/);
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    expect(JSON.stringify(completion)).not.toMatch(/sim-/);
  });

  it('streams n choices, each chunk with its index; the openai client reassembles them; usage summed', async () => {
    const plain = await traced({ model: 'fugu', messages: math, n: 3 });
    const stream = await client.chat.completions.create({
      model: 'fugu',
      messages: [{ role: 'user', content: 'What is 17 * 23?' }],
      n: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = new Map<number, string>();
    const finishes = new Map<number, string>();
    let usage: number | undefined;
    for await (const chunk of stream) {
      expect(chunk.model).toBe('fugu');
      for (const choice of chunk.choices) {
        texts.set(choice.index, (texts.get(choice.index) ?? '') + (choice.delta.content ?? ''));
        if (choice.finish_reason) finishes.set(choice.index, choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    expect([...texts.keys()].sort()).toEqual([0, 1, 2]);
    for (const text of texts.values()) expect(text).toMatch(/^The answer is \d+\.$/);
    expect([...finishes.values()]).toEqual(['stop', 'stop', 'stop']);
    expect(usage).toBe(plain.body.usage.total_tokens);
  });

  it('fugu with tools, n = 2: each choice is a passed-through tool call', async () => {
    const completion = await client.chat.completions.create({
      model: 'fugu',
      messages: [{ role: 'user', content: 'Convert 5 units with the tool' }],
      n: 2,
      tools: [
        {
          type: 'function',
          function: {
            name: 'convert',
            parameters: { type: 'object', properties: { value: { type: 'number' } }, required: ['value'] },
          },
        },
      ],
    });
    expect(completion.choices).toHaveLength(2);
    for (const [index, choice] of completion.choices.entries()) {
      expect(choice.index).toBe(index);
      expect(choice.finish_reason).toBe('tool_calls');
      const call = choice.message.tool_calls?.[0];
      expect(call && 'function' in call ? call.function.arguments : undefined).toBe('{"value":5}');
    }
  });

  it('n above maxChoices is an OpenAI-shaped 400 naming n; n = 1 is the plain path', async () => {
    const refused = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fugu', messages: math, n: 5 }),
    });
    expect(refused.status).toBe(400);
    const error = ((await refused.json()) as { error: { param: string; type: string; message: string } })
      .error;
    expect(error).toMatchObject({ param: 'n', type: 'invalid_request_error' });
    expect(error.message).toMatch(/at most 4/);
    const single = await traced({ model: 'fugu', messages: math, n: 1 });
    expect(single.body.choices).toHaveLength(1);
  });
});

describe('n > 1: runs share the deadline, fail together, and are bounded', () => {
  /** A `run` mode whose runs are scripted: each waits `ms` (or until its signal aborts), run `failAt` throws. */
  function scripted(options: { ms: number; failAt?: number }): {
    mode: GatewayMode;
    seen: { started: number; maxInFlight: number; aborted: number };
  } {
    const seen = { started: 0, maxInFlight: 0, aborted: 0 };
    let inFlight = 0;
    const mode: GatewayMode = {
      kind: 'run',
      model: 'scripted',
      async run(_input, context) {
        const run = seen.started++;
        inFlight++;
        seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
        try {
          if (run === options.failAt)
            throw new UpstreamError({ message: 'scripted failure', isRetryable: false });
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, options.ms);
            context.signal.addEventListener('abort', () => {
              clearTimeout(timer);
              seen.aborted++;
              reject(context.signal.reason);
            });
          });
          return { content: `run ${run}` };
        } finally {
          inFlight--;
        }
      },
    };
    return { mode, seen };
  }

  async function post(harness: Harness, n: number): Promise<Response> {
    return fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'scripted', messages: [{ role: 'user', content: 'x' }], n }),
    });
  }

  it('at most choiceConcurrency runs at once; every choice in order', async () => {
    const { mode, seen } = scripted({ ms: 20 });
    const harness = await startHarness({ modes: () => [mode], config: { choiceConcurrency: 2 } });
    try {
      const response = await post(harness, 5);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { choices: { index: number; message: { content: string } }[] };
      expect(body.choices.map((choice) => choice.message.content).sort()).toEqual(
        ['run 0', 'run 1', 'run 2', 'run 3', 'run 4'].sort(),
      );
      expect(body.choices.map((choice) => choice.index)).toEqual([0, 1, 2, 3, 4]);
      expect(seen.maxInFlight).toBe(2);
    } finally {
      await harness.close();
    }
  });

  it('the first failing run is the request error and cuts the runs in flight; no further run starts', async () => {
    // Runs that would take two minutes: the request ending at all proves the failure cut them.
    const { mode, seen } = scripted({ ms: 120_000, failAt: 1 });
    const harness = await startHarness({ modes: () => [mode], config: { choiceConcurrency: 2 } });
    try {
      const response = await post(harness, 4);
      expect(response.status).toBe(502);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upstream_error');
      expect(seen.started).toBe(2);
      expect(seen.aborted).toBe(1);
    } finally {
      await harness.close();
    }
  });

  it('all runs share the request deadline: 504 when it passes', async () => {
    const { mode, seen } = scripted({ ms: 5_000 });
    const harness = await startHarness({ modes: () => [mode], config: { requestTimeoutMs: 150 } });
    try {
      const response = await post(harness, 3);
      expect(response.status).toBe(504);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('timeout');
      expect(seen.aborted).toBe(3);
    } finally {
      await harness.close();
    }
  });
});
