import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfiguredServer } from '../src/index.js';
import { startEmbeddedDefault } from './helpers.js';

let server: ConfiguredServer;
let url: string;
let client: OpenAI;

beforeAll(async () => {
  ({ server, url, client } = await startEmbeddedDefault());
});
afterAll(async () => {
  await server.close();
});

interface Traced {
  choices: { message: { content: string } }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  openfugu_trace: {
    calls: { workerId: string; usage?: { totalTokens: number } }[];
    modeTrace: {
      turns?: { agent: string; role: string; roleChange?: string }[];
      reason?: string;
      workflow?: { steps: { worker: string }[] };
      stopReason?: string;
    };
    costUsd: number;
  };
}

async function traced(model: string, content: string): Promise<Traced> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-openfugu-debug': '1' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Traced;
}

describe('fugu: the TRINITY loop over the simulated pool', () => {
  it('routes a math question to the math worker, then verifies, and sums usage over both calls', async () => {
    const answer = await traced('fugu', 'What is 17 * 23?');
    expect(answer.choices[0]?.message.content).toMatch(/^The answer is \d+\.$/);
    const turns = answer.openfugu_trace.modeTrace.turns ?? [];
    expect(turns.map((turn) => turn.role)).toEqual(['worker', 'verifier']);
    expect(turns[0]?.agent).toBe('math');
    const calls = answer.openfugu_trace.calls;
    expect(calls).toHaveLength(2);
    const summed = calls.reduce((sum, call) => sum + (call.usage?.totalTokens ?? 0), 0);
    expect(answer.usage.total_tokens).toBe(summed);
    expect(answer.openfugu_trace.costUsd).toBeGreaterThan(0);
  });

  it('sends writing to the writer and code to the coder', async () => {
    expect(
      (await traced('fugu', 'Write a haiku about autumn')).openfugu_trace.modeTrace.turns?.[0]?.agent,
    ).toBe('writer');
    expect(
      (await traced('fugu', 'Implement binary search in typescript')).openfugu_trace.modeTrace.turns?.[0]
        ?.agent,
    ).toBe('coder');
  });

  it('streams the final answer with include_usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'fugu',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'What is 6 * 7?' }],
    });
    let text = '';
    let total = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      total = chunk.usage?.total_tokens ?? total;
    }
    expect(text).toMatch(/The answer is \d+/);
    expect(total).toBeGreaterThan(0);
  });

  it('passes tools to the routed worker and returns its tool calls', async () => {
    const completion = await client.chat.completions.create({
      model: 'fugu',
      messages: [{ role: 'user', content: 'Convert 12 * 3 units with the tool' }],
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
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call && 'function' in call ? call.function.name : undefined).toBe('convert');
  });
});

describe('fugu with tools: routed once, passed through', () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'convert',
        parameters: { type: 'object', properties: { value: { type: 'number' } }, required: ['value'] },
      },
    },
  ];

  it("streams the chosen worker's tool call as it arrives (not replayed after the run)", async () => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-openfugu-debug': '1' },
      body: JSON.stringify({
        model: 'fugu',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Convert 12 * 3 units with the tool' }],
        tools,
      }),
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text).not.toMatch(/sim-/);
    const events = text
      .split('\n\n')
      .filter((event) => event.startsWith('data: {'))
      .map(
        (event) =>
          JSON.parse(event.slice(6)) as {
            model: string;
            choices: {
              delta: { tool_calls?: { function?: { name?: string; arguments?: string } }[] };
              finish_reason: string | null;
            }[];
            usage?: { total_tokens: number };
            openfugu_trace?: { mode: string; calls: unknown[]; modeTrace: { reason: string } };
          },
      );
    expect(new Set(events.map((event) => event.model))).toEqual(new Set(['fugu']));
    const deltas = events.flatMap((event) => event.choices[0]?.delta.tool_calls ?? []);
    // The simulated upstream streams the name, then the arguments: two deltas passed through as sent
    // (a run replayed after the fact sends one delta with both).
    expect(deltas).toHaveLength(2);
    expect(deltas[0]?.function?.name).toBe('convert');
    expect(deltas.map((delta) => delta.function?.arguments ?? '').join('')).toBe('{"value":12}');
    expect(events.some((event) => event.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
    const final = events.at(-1);
    expect(final?.usage?.total_tokens).toBeGreaterThan(0);
    expect(final?.openfugu_trace?.modeTrace.reason).toBe('tools');
    expect(final?.openfugu_trace?.calls).toHaveLength(1);
  });

  it('answers non-streamed with the routing trace', async () => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-openfugu-debug': '1' },
      body: JSON.stringify({
        model: 'fugu',
        messages: [{ role: 'user', content: 'Convert 5 units with the tool' }],
        tools,
      }),
    });
    const body = (await response.json()) as {
      model: string;
      choices: { finish_reason: string }[];
      openfugu_trace: { modeTrace: { reason: string; turns: { role: string }[] } };
    };
    expect(body.model).toBe('fugu');
    expect(body.choices[0]?.finish_reason).toBe('tool_calls');
    expect(body.openfugu_trace.modeTrace.reason).toBe('tools');
    expect(body.openfugu_trace.modeTrace.turns.map((turn) => turn.role)).toEqual(['worker']);
  });
});

describe('fugu-ultra: the Conductor over the simulated pool', () => {
  it('plans a workflow with the domain specialist, runs it and answers', async () => {
    const answer = await traced('fugu-ultra', 'What is 12 + 30?');
    expect(answer.choices[0]?.message.content).toMatch(/The answer is \d+/);
    const trace = answer.openfugu_trace.modeTrace;
    expect(trace.workflow?.steps.map((step) => step.worker)).toEqual(['math', 'math']);
    // planner + two steps
    expect(answer.openfugu_trace.calls.map((call) => call.workerId)).toEqual(['generalist', 'math', 'math']);
    expect(JSON.stringify(answer.choices)).not.toMatch(/sim-/);
  });

  it('gives writing tasks to the writer (the step framing does not confuse the workers)', async () => {
    const answer = await traced('fugu-ultra', 'Write a haiku about trains');
    expect(answer.openfugu_trace.modeTrace.workflow?.steps.map((step) => step.worker)).toEqual([
      'writer',
      'writer',
    ]);
    expect(answer.choices[0]?.message.content).not.toMatch(/The answer is/);
  });
});
