import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './helpers.js';

let harness: Harness;
let client: OpenAI;

beforeAll(async () => {
  harness = await startHarness({ config: { debugTrace: true } });
  client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await harness.close();
});

describe('gateway end to end (official openai client)', () => {
  it('answers a non-stream request through a routed mode without leaking upstream names', async () => {
    const completion = await client.chat.completions.create({
      model: 'fugu',
      messages: [{ role: 'user', content: 'What is 12 * 12?' }],
    });
    expect(completion.model).toBe('fugu');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices[0]?.message.content).toMatch(/The answer is \d+/);
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    expect(JSON.stringify(completion)).not.toMatch(/sim-|chatcmpl-sim/);
  });

  it('streams with include_usage: chunks, a final usage chunk and [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'fugu',
      messages: [{ role: 'user', content: 'Write a poem about the sea' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    let finish: string | null = null;
    for await (const chunk of stream) {
      expect(chunk.model).toBe('fugu');
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(5);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ total_tokens: expect.any(Number) });
  });

  it('passes tools through and returns tool_calls', async () => {
    const completion = await client.chat.completions.create({
      model: 'writer',
      messages: [{ role: 'user', content: 'What is the weather in "Paris"?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    expect(call && 'function' in call ? JSON.parse(call.function.arguments) : undefined).toEqual({
      city: 'Paris',
    });
  });

  it('streams tool calls in direct mode', async () => {
    const stream = await client.chat.completions.create({
      model: 'coder',
      stream: true,
      messages: [{ role: 'user', content: 'lookup 42' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            parameters: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
          },
        },
      ],
    });
    let args = '';
    let name = '';
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
      }
    }
    expect(name).toBe('lookup');
    expect(JSON.parse(args)).toEqual({ n: 42 });
  });

  it('surfaces errors as typed APIError with the right status', async () => {
    await expect(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    await expect(
      // @ts-expect-error wrong type on purpose
      client.chat.completions.create({ model: 'fugu', messages: [{ role: 'user', content: 42 }] }),
    ).rejects.toMatchObject({ status: 400, type: 'invalid_request_error' });
    const error = await client.chat.completions
      .create({ model: 'fugu', messages: [] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).param).toBe('messages');
  });

  it('lists models and reports health without upstream identities', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['fugu', 'math', 'coder', 'writer', 'generalist']);
    const health = await (await fetch(`${harness.url}/health`)).json();
    expect(health).toMatchObject({ status: 'ok', pool: { size: 4, available: 4, coolingDown: 0 } });
    expect(JSON.stringify(health)).not.toMatch(/sim-/);
  });

  it('retrieves one model and 404s an unknown one', async () => {
    expect((await client.models.retrieve('fugu')).id).toBe('fugu');
    await expect(client.models.retrieve('sim-math-7b')).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
  });

  it('returns the debug trace only when asked', async () => {
    const body = { model: 'fugu', messages: [{ role: 'user', content: 'What is 2 + 2?' }] };
    type Traced = { openfugu_trace?: { calls: unknown[]; costUsd: number } };
    const plain = (await (
      await fetch(`${harness.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).json()) as Traced;
    expect(plain.openfugu_trace).toBeUndefined();
    const traced = (await (
      await fetch(`${harness.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-openfugu-debug': '1' },
        body: JSON.stringify(body),
      })
    ).json()) as Traced;
    expect(traced.openfugu_trace?.calls[0]).toMatchObject({ workerId: 'math', outcome: 'ok' });
    expect(traced.openfugu_trace?.costUsd).toBeGreaterThan(0);
  });

  it('exposes Prometheus metrics on a per-instance registry', async () => {
    const text = await (await fetch(`${harness.url}/metrics`)).text();
    expect(text).toMatch(/openfugu_requests_total\{model="fugu",status="200"\} \d+/);
    expect(text).toMatch(/openfugu_upstream_calls_total\{worker="math",outcome="ok"\} \d+/);
    expect(text).toMatch(/openfugu_cost_usd_total\{model="fugu"\} [0-9.e-]+/);
    expect(text).not.toMatch(/sim-/);
    // The direct stream to `coder` (tool-call test) was counted once, with its cost, after the body ended.
    expect(text).toMatch(/openfugu_upstream_calls_total\{worker="coder",outcome="ok"\} 1\n/);
    expect(Number(/openfugu_cost_usd_total\{model="coder"\} (\S+)/.exec(text)?.[1])).toBeGreaterThan(0);
  });
});
