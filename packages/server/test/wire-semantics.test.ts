/**
 * Wire semantics that hold in every mode, against the embedded default server (simulated pool): `max_tokens`
 * reaches the workers of `fugu` and `fugu-ultra`, `finish_reason` is the answering call's (`length` when the
 * worker was cut), streamed or not, and a cut answer is never accepted by TRINITY's Verifier.
 */

import type { Worker } from '@openfugu/schema';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfiguredServer,
  createConductorMode,
  DEFAULT_SIMULATED_POOL,
  parseConfig,
} from '../src/index.js';
import { startEmbeddedDefault, startHarness } from './helpers.js';

let server: ConfiguredServer;
let client: OpenAI;
let url: string;

beforeAll(async () => {
  ({ server, url, client } = await startEmbeddedDefault());
});
afterAll(async () => {
  await server.close();
});

const question = [{ role: 'user' as const, content: 'What is 17 * 23?' }];

async function streamed(model: string, body: Record<string, unknown>) {
  const stream = await client.chat.completions.create({
    model,
    stream: true,
    stream_options: { include_usage: true },
    messages: question,
    ...body,
  });
  let text = '';
  let finish: string | null = null;
  let completionTokens = 0;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
  }
  return { text, finish, completionTokens };
}

describe.each(['fugu', 'fugu-ultra'])('%s with max_tokens', (model) => {
  it('non-streamed: the answer is cut and finish_reason is length', async () => {
    const full = await client.chat.completions.create({ model, messages: question });
    expect(full.choices[0]?.finish_reason).toBe('stop');
    const cut = await client.chat.completions.create({ model, messages: question, max_tokens: 2 });
    expect(cut.choices[0]?.finish_reason).toBe('length');
    // The simulated pool cuts at 4 characters per token.
    expect(cut.choices[0]?.message.content?.length).toBeLessThanOrEqual(8);
    expect(full.choices[0]?.message.content?.length).toBeGreaterThan(8);
  });

  it('max_completion_tokens does the same', async () => {
    const cut = await client.chat.completions.create({
      model,
      messages: question,
      max_completion_tokens: 2,
    });
    expect(cut.choices[0]?.finish_reason).toBe('length');
  });

  it('streamed: the last finish_reason is length', async () => {
    const cut = await streamed(model, { max_tokens: 2 });
    expect(cut.finish).toBe('length');
    expect(cut.text.length).toBeLessThanOrEqual(8);
    const full = await streamed(model, {});
    expect(full.finish).toBe('stop');
  });
});

describe('fugu: the Verifier never accepts a cut answer', () => {
  it('no verifier turn accepts, the run ends at max_turns with the cut answer', async () => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-openfugu-debug': '1' },
      body: JSON.stringify({ model: 'fugu', messages: question, max_tokens: 2 }),
    });
    const body = (await response.json()) as {
      choices: { finish_reason: string }[];
      openfugu_trace: { modeTrace: { reason: string; turns: { role: string; accepted?: boolean }[] } };
    };
    const { reason, turns } = body.openfugu_trace.modeTrace;
    expect(turns.some((turn) => turn.role === 'verifier')).toBe(true);
    expect(turns.filter((turn) => turn.accepted === true)).toEqual([]);
    expect(reason).toBe('max_turns');
    expect(body.choices[0]?.finish_reason).toBe('length');
  });
});

describe('fugu-ultra with a planner that writes worker numbers', () => {
  /** A planner trained on the paper's prompts: it answers with worker numbers. */
  const numbersPlanner = (seen: string[]): Worker => ({
    id: 'trained-planner',
    async complete(request) {
      seen.push(String(request.messages[0]?.content));
      return {
        content: "model_id: [1, 0]\nsubtasks: ['Solve it.', 'Check and answer.']\naccess_list: [[], 'all']",
      };
    },
  });

  it.each([true, false])('numberedWorkers: %s', async (numberedWorkers) => {
    const seen: string[] = [];
    const harness = await startHarness({
      modes: () => [createConductorMode({ planner: numbersPlanner(seen), numberedWorkers })],
      config: { debugTrace: true },
    });
    try {
      const response = await fetch(`${harness.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-openfugu-debug': '1' },
        body: JSON.stringify({ model: 'fugu-ultra', messages: question }),
      });
      const ids = DEFAULT_SIMULATED_POOL.map((entry) => entry.id);
      if (!numberedWorkers) {
        // Integers are not worker ids: the plan is invalid and the request fails with an OpenAI error.
        expect(response.status).toBe(502);
        return;
      }
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        openfugu_trace: { modeTrace: { rounds: { steps: { worker: string }[] }[] } };
      };
      expect(body.openfugu_trace.modeTrace.rounds[0]?.steps.map((step) => step.worker)).toEqual([
        ids[1],
        ids[0],
      ]);
      expect(seen[0]).toContain(`0. ${ids[0]}`);
    } finally {
      await harness.close();
    }
  });

  it('the config file can turn it on', () => {
    expect(parseConfig({ conductor: { numberedWorkers: true } }).conductor?.numberedWorkers).toBe(true);
  });
});
