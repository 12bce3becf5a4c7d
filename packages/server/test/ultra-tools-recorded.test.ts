/**
 * `fugu-ultra` with tools against a real-model-shaped upstream: the final call's reply is a tool call in the
 * exact shape OpenAI's API sends (`__fixtures__/openai-tool-call.json`: refusal, annotations, usage details,
 * service_tier, system_fingerprint; streamed with arguments split across chunks). Checks that the final call's
 * request is one a chat template reads as intended — one system message first, then the client's
 * conversation, ending with the user's own words — and that the client gets the tool call unchanged, without
 * the upstream's identity.
 */
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConductorMode, createGateway, createOpenAIWorker, type Gateway } from '../src/index.js';

const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/openai-tool-call.json', import.meta.url), 'utf8'),
) as { completion: Record<string, unknown>; stream: Record<string, unknown>[]; planner: string };

interface Sent {
  worker: string;
  body: {
    messages: { role: string; content?: unknown }[];
    tools?: { function: { name: string } }[];
    stream?: boolean;
  };
}
const sent: Sent[] = [];

const reply = (content: string) => ({
  id: 'chatcmpl-x',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
});

/** The upstream: the planner plans, a step answers text, the call with tools answers the recorded tool call. */
function upstream(worker: string): typeof fetch {
  return (async (_url: string | URL | Request, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as Sent['body'];
    sent.push({ worker, body });
    const headers = { 'content-type': body.stream ? 'text/event-stream' : 'application/json' };
    if (body.tools && body.stream) {
      const events = fixture.stream.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('');
      return new Response(`${events}data: [DONE]\n\n`, { status: 200, headers });
    }
    const text = body.tools
      ? JSON.stringify(fixture.completion)
      : JSON.stringify(reply(worker === 'planner' ? fixture.planner : 'step output'));
    return new Response(text, { status: 200, headers });
  }) as typeof fetch;
}

let gateway: Gateway;
let client: OpenAI;
const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
        required: ['city'],
      },
    },
  },
];
const conversation = [
  { role: 'system' as const, content: 'You are a concise assistant.' },
  { role: 'user' as const, content: "What's the weather in Paris?" },
];

beforeAll(async () => {
  const workers = ['planner', 'helper'].map((id) =>
    createOpenAIWorker({
      id,
      baseURL: 'http://upstream.invalid/v1',
      model: 'gpt-4o-mini',
      fetch: upstream(id),
      maxRetries: 0,
    }),
  );
  gateway = createGateway({ workers, modes: [createConductorMode({ planner: 'planner' })] });
  const url = await gateway.listen({ port: 0 });
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await gateway.close();
});

/** The final call's request reads as a chat template expects, and the client's words come last. */
function expectReadableFinalRequest(): void {
  const final = sent.filter((entry) => entry.body.tools);
  expect(final).toHaveLength(1);
  const messages = final[0]!.body.messages;
  expect(messages.map((message) => message.role)).toEqual(['system', 'user']);
  expect(messages[1]?.content).toBe("What's the weather in Paris?");
  const system = String(messages[0]?.content);
  expect(system.startsWith('You are a concise assistant.')).toBe(true);
  expect(system).toContain('Get the current weather in the city the user names');
  expect(final[0]!.body.tools?.map((tool) => tool.function.name)).toEqual(['get_weather']);
  // The planner was told about the tool; it never got tools itself.
  const planner = sent.find((entry) => entry.worker === 'planner');
  expect(planner?.body.tools).toBeUndefined();
  expect(JSON.stringify(planner?.body.messages)).toContain('get_weather: Current weather for a city');
}

describe('fugu-ultra with tools, real-model-shaped upstream', () => {
  it('non-streamed: the recorded tool call reaches the client unchanged, without upstream identity', async () => {
    sent.length = 0;
    const completion = await client.chat.completions.create({
      model: 'fugu-ultra',
      messages: conversation,
      tools,
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    expect(call?.id).toBe('call_8mGqRIr1bUeBQyGmzNwmLrTq');
    expect(call && 'function' in call ? call.function.name : undefined).toBe('get_weather');
    expect(call && 'function' in call ? JSON.parse(call.function.arguments) : undefined).toEqual({
      city: 'Paris',
      unit: 'celsius',
    });
    expect(completion.model).toBe('fugu-ultra');
    expect(JSON.stringify(completion)).not.toMatch(/gpt-4o|fp_06737a9306|chatcmpl-B9MH/);
    expectReadableFinalRequest();
  });

  it('streamed: the argument deltas pass through and join to the same arguments', async () => {
    sent.length = 0;
    const stream = await client.chat.completions.create({
      model: 'fugu-ultra',
      messages: conversation,
      tools,
      stream: true,
    });
    let args = '';
    let finish: string | null = null;
    let raw = '';
    for await (const chunk of stream) {
      raw += JSON.stringify(chunk);
      for (const choice of chunk.choices) {
        for (const delta of choice.delta.tool_calls ?? []) args += delta.function?.arguments ?? '';
        finish = choice.finish_reason ?? finish;
      }
    }
    expect(JSON.parse(args)).toEqual({ city: 'Paris', unit: 'celsius' });
    expect(finish).toBe('tool_calls');
    expect(raw).not.toMatch(/gpt-4o|fp_06737a9306/);
    expectReadableFinalRequest();
  });
});
