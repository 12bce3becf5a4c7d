/**
 * `fugu-ultra` (Conductor) with `tools`: the request's tools and tool_choice go to the workflow's final call only
 * (the last step of the last round, `final: true`), so its tool calls reach the client as the upstream sent
 * them, streamed or not; the planner and intermediate steps never see tools. A conversation that returns tool
 * results is answered from them.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConductorMode,
  createGateway,
  createOpenAIWorker,
  createSimulatedUpstream,
  DEFAULT_SIMULATED_POOL,
  type Gateway,
  type JsonObject,
  renderTranscript,
  type SimulatedUpstream,
  toChatBody,
  toWorkerResponse,
  type UpstreamWorker,
} from '../src/index.js';

interface Recorded {
  workerId: string;
  stream: boolean;
  tools: boolean;
  toolChoice: unknown;
  maxTokens: unknown;
  temperature: unknown;
  messages: { role: string; content?: unknown; tool_calls?: unknown }[];
}

let upstream: SimulatedUpstream;
let gateway: Gateway;
let client: OpenAI;
let url: string;
const recorded: Recorded[] = [];

const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'convert',
      description: 'Converts a value',
      parameters: { type: 'object', properties: { value: { type: 'number' } }, required: ['value'] },
    },
  },
];

function record(workerId: string, body: JsonObject, stream: boolean): void {
  recorded.push({
    workerId,
    stream,
    tools: Array.isArray(body.tools) && body.tools.length > 0,
    toolChoice: body.tool_choice,
    maxTokens: body.max_tokens ?? body.max_completion_tokens,
    temperature: body.temperature,
    messages: body.messages as Recorded['messages'],
  });
}

beforeAll(async () => {
  upstream = await createSimulatedUpstream({
    models: DEFAULT_SIMULATED_POOL.map((entry) => ({ ...entry.spec, latencyMs: 0, latencyJitterMs: 0 })),
    seed: 7,
  });
  const workers = DEFAULT_SIMULATED_POOL.map((entry): UpstreamWorker => {
    const worker = createOpenAIWorker({
      id: entry.id,
      baseURL: upstream.baseURL,
      model: entry.spec.model,
      price: entry.price,
      timeoutMs: 2_000,
      maxRetries: 0,
    });
    return {
      ...worker,
      chat(body, options) {
        record(entry.id, body, false);
        return worker.chat(body, options);
      },
      chatStream(body, options) {
        record(entry.id, body, true);
        return worker.chatStream(body, options);
      },
      // The OpenAI worker's own `complete` calls its inner `chat`: go through the recording one instead.
      async complete(request, options) {
        const body = toChatBody(request);
        record(entry.id, body, false);
        return toWorkerResponse(await worker.chat(body, options));
      },
    };
  });
  gateway = createGateway({
    workers,
    modes: [
      createConductorMode({
        planner: 'generalist',
        descriptions: Object.fromEntries(
          DEFAULT_SIMULATED_POOL.map((entry) => [entry.id, entry.description]),
        ),
      }),
    ],
    config: { debugTrace: true },
  });
  url = await gateway.listen({ port: 0 });
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

describe('fugu-ultra with tools', () => {
  it('non-streamed: the final step gets the tools and its tool call is the answer; earlier calls get none', async () => {
    recorded.length = 0;
    const completion = await client.chat.completions.create({
      model: 'fugu-ultra',
      messages: [{ role: 'user', content: 'Convert 12 * 3 units with the convert tool' }],
      tools,
      tool_choice: 'auto',
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    expect(call && 'function' in call ? call.function.name : undefined).toBe('convert');
    expect(call && 'function' in call ? JSON.parse(call.function.arguments) : undefined).toEqual({
      value: 12,
    });
    expect(call?.id).toMatch(/^call_/);
    expect(completion.model).toBe('fugu-ultra');
    expect(JSON.stringify(completion)).not.toMatch(/sim-/);
    // planner + the steps; only the last call (the final step) carried tools, with the client's tool_choice.
    expect(recorded.length).toBeGreaterThanOrEqual(2);
    expect(recorded.map((entry) => entry.tools)).toEqual([...recorded.slice(1).map(() => false), true]);
    expect(recorded.at(-1)?.toolChoice).toBe('auto');
    expect(recorded[0]?.workerId).toBe('generalist');
  });

  it('streamed: the final step streams its tool call deltas through, finish_reason tool_calls, usage summed', async () => {
    recorded.length = 0;
    const stream = await client.chat.completions.create({
      model: 'fugu-ultra',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Convert 7 units with the convert tool' }],
      tools,
    });
    const names: string[] = [];
    let args = '';
    let finish: string | null = null;
    let usage: number | undefined;
    const models = new Set<string>();
    for await (const chunk of stream) {
      models.add(chunk.model);
      for (const choice of chunk.choices) {
        for (const delta of choice.delta.tool_calls ?? []) {
          if (delta.function?.name) names.push(delta.function.name);
          args += delta.function?.arguments ?? '';
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    expect(names).toEqual(['convert']);
    expect(JSON.parse(args)).toEqual({ value: 7 });
    expect(finish).toBe('tool_calls');
    expect([...models]).toEqual(['fugu-ultra']);
    // Usage covers every call of the run, not just the streamed one.
    expect(recorded.length).toBeGreaterThanOrEqual(2);
    expect(usage).toBeGreaterThan(0);
    expect(recorded.at(-1)).toMatchObject({ stream: true, tools: true });
    expect(recorded.slice(0, -1).every((entry) => !entry.tools && !entry.stream)).toBe(true);
  });

  it('a conversation returning tool results: planner and steps see them, the final step answers from them', async () => {
    recorded.length = 0;
    const completion = await client.chat.completions.create({
      model: 'fugu-ultra',
      messages: [
        { role: 'user', content: 'Convert 12 units with the convert tool' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_abc', type: 'function', function: { name: 'convert', arguments: '{"value":12}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_abc', content: '12 units = 30.48 cm' },
      ],
      tools,
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message.tool_calls ?? []).toEqual([]);
    expect(choice?.message.content).toBe('Based on the tool result: 12 units = 30.48 cm');
    // The planner and the other steps saw the tool call and its result as text.
    for (const entry of recorded.slice(0, -1)) {
      expect(JSON.stringify(entry.messages)).toContain('30.48 cm');
      expect(JSON.stringify(entry.messages)).toContain('convert({\\"value\\":12})');
    }
    // The final call gets the client's conversation itself after one system message: user, then the native
    // exchange (assistant tool_calls, then the tool result).
    const last = recorded.at(-1)?.messages ?? [];
    expect(last.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(recorded.at(-1)?.tools).toBe(true);
    expect(recorded.slice(0, -1).every((entry) => !entry.tools)).toBe(true);
  });

  it("the final call answers the client's conversation: its last message is the user's, no step prompt in it", async () => {
    recorded.length = 0;
    const weather = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    const completion = await client.chat.completions.create({
      model: 'fugu-ultra',
      messages: [{ role: 'user', content: "What's the weather in Paris?" }],
      tools: weather,
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call && 'function' in call ? JSON.parse(call.function.arguments) : undefined).toEqual({
      city: 'Paris',
    });
    const last = recorded.at(-1)?.messages ?? [];
    expect(last.map((message) => message.role)).toEqual(['system', 'user']);
    expect(last[1]?.content).toBe("What's the weather in Paris?");
    // The planner was told which tools the client offered.
    expect(JSON.stringify(recorded[0]?.messages)).toContain('get_weather: Current weather for a city');
  });

  it("the client's max_tokens and temperature reach every step, not the planner", async () => {
    recorded.length = 0;
    await client.chat.completions.create({
      model: 'fugu-ultra',
      messages: [{ role: 'user', content: 'What is 12 + 30?' }],
      max_tokens: 50,
      temperature: 0.25,
    });
    expect(recorded.length).toBeGreaterThanOrEqual(2);
    expect(recorded[0]).toMatchObject({
      workerId: 'generalist',
      maxTokens: undefined,
      temperature: undefined,
    });
    for (const entry of recorded.slice(1)) expect(entry).toMatchObject({ maxTokens: 50, temperature: 0.25 });
  });

  it('without tools the run is unchanged: text answer, no tools anywhere', async () => {
    recorded.length = 0;
    const completion = await client.chat.completions.create({
      model: 'fugu-ultra',
      messages: [{ role: 'user', content: 'What is 12 + 30?' }],
    });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.choices[0]?.message.content).toMatch(/The answer is \d+/);
    expect(recorded.every((entry) => !entry.tools)).toBe(true);
  });
});

describe('renderTranscript', () => {
  it('renders tool calls and the call a tool result answers', () => {
    expect(
      renderTranscript([
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ]),
    ).toBe('user: hi\nassistant: \n[tool call c1] f({"a":1})\ntool [result of c1]: ok');
  });
});
