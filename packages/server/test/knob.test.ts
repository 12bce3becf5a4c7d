import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  categoryFeatures,
  createHashingBackbone,
  saveHeadFile,
  trainValueHead,
  withCategoryId,
} from '@openfugu/trinity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfiguredServer,
  createServerFromConfig,
  createSimulatedUpstream,
  DEFAULT_SIMULATED_POOL,
  generateSimTasks,
  parseConfig,
  type SimulatedUpstream,
  trainEmbeddedRouter,
} from '../src/index.js';

// The serve-time cost–quality knob (knob.ts): presets, per-request λ, the calibrated preset and request
// categories. Routing decisions are read from the debug trace (the first turn's agent), never from timing.

const ids = DEFAULT_SIMULATED_POOL.map((entry) => entry.id);
const price = Object.fromEntries(
  DEFAULT_SIMULATED_POOL.map((entry) => [entry.id, (entry.price.input + entry.price.output) / 2]),
);
const expensive = ids.reduce((a, b) => (price[a]! >= price[b]! ? a : b));
const prompts = generateSimTasks(48, 4242).map((task) => task.prompt);

interface Answer {
  status: number;
  body: {
    error?: { param: string | null; message: string };
    openfugu_trace?: { modeTrace: { turns?: { agent: string }[] } };
  };
}

async function ask(
  url: string,
  model: string,
  content: string,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Promise<Answer> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-openfugu-debug': '1', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], ...extra }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** First-turn agent of each prompt (8 requests at a time). */
async function firstAgents(
  url: string,
  model: string,
  texts: readonly string[],
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < texts.length; i += 8) {
    const answers = await Promise.all(
      texts.slice(i, i + 8).map((text) => ask(url, model, text, headers, extra)),
    );
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body.error)).toBe(200);
      out.push(answer.body.openfugu_trace?.modeTrace.turns?.[0]?.agent ?? '');
    }
  }
  return out;
}

const meanPrice = (agents: readonly string[]) =>
  agents.reduce((sum, agent) => sum + price[agent]!, 0) / agents.length;
const share = (agents: readonly string[], id: string) =>
  agents.filter((agent) => agent === id).length / agents.length;

describe('presets and the per-request λ over the embedded head', () => {
  let server: ConfiguredServer;
  let url: string;
  beforeAll(async () => {
    server = await createServerFromConfig(
      parseConfig({ simulated: { latency: false }, server: { debugTrace: true } }),
    );
    url = await server.gateway.listen({ port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('lists fugu-fast, fugu and fugu-max in /v1/models', async () => {
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
    const names = models.data.map((model) => model.id);
    expect(names).toEqual(expect.arrayContaining(['fugu-fast', 'fugu', 'fugu-max', 'fugu-ultra']));
  });

  it('fugu-fast sends more traffic to cheap workers than fugu, and fugu than fugu-max', async () => {
    const fast = await firstAgents(url, 'fugu-fast', prompts);
    const balanced = await firstAgents(url, 'fugu', prompts);
    const max = await firstAgents(url, 'fugu-max', prompts);
    // Raising λ never raises a prompt's chosen price; over a varied batch it lowers the mean.
    for (let i = 0; i < prompts.length; i++) {
      expect(price[fast[i]!]!).toBeLessThanOrEqual(price[balanced[i]!]!);
      expect(price[balanced[i]!]!).toBeLessThanOrEqual(price[max[i]!]!);
    }
    expect(meanPrice(fast)).toBeLessThan(meanPrice(max));
    expect(share(fast, expensive)).toBeLessThan(share(max, expensive));
  });

  it('a per-request λ (header or body field) moves the choice toward cheaper workers', async () => {
    const max = await firstAgents(url, 'fugu-max', prompts);
    const header = await firstAgents(url, 'fugu-max', prompts, { 'x-openfugu-lambda': '0.5' });
    const body = await firstAgents(url, 'fugu-max', prompts, {}, { openfugu: { lambda: 0.5 } });
    expect(body).toEqual(header);
    for (let i = 0; i < prompts.length; i++) expect(price[header[i]!]!).toBeLessThanOrEqual(price[max[i]!]!);
    expect(meanPrice(header)).toBeLessThan(meanPrice(max));
    // And back: λ = 0 on fugu-fast is fugu-max; the body field wins over the header.
    const zero = await firstAgents(
      url,
      'fugu-fast',
      prompts,
      { 'x-openfugu-lambda': '0.5' },
      { openfugu: { lambda: 0 } },
    );
    expect(zero).toEqual(max);
  });

  it('refuses a bad λ or category with an OpenAI 400 naming the parameter', async () => {
    const cases: [Record<string, string>, Record<string, unknown>, string][] = [
      [{ 'x-openfugu-lambda': 'abc' }, {}, 'x-openfugu-lambda'],
      [{ 'x-openfugu-lambda': '-1' }, {}, 'x-openfugu-lambda'],
      [{ 'x-openfugu-lambda': '1e9' }, {}, 'x-openfugu-lambda'],
      [{ 'x-openfugu-lambda': 'Infinity' }, {}, 'x-openfugu-lambda'],
      [{ 'x-openfugu-lambda': '' }, {}, 'x-openfugu-lambda'],
      [{}, { openfugu: { lambda: 'fast' } }, 'openfugu.lambda'],
      [{}, { openfugu: { lambda: -0.1 } }, 'openfugu.lambda'],
      [{}, { openfugu: { lambda: 101 } }, 'openfugu.lambda'],
      [{}, { openfugu: 3 }, 'openfugu'],
      [{}, { openfugu: { speed: 1 } }, 'openfugu.speed'],
      [{}, { openfugu: { category: [] } }, 'openfugu.category'],
      [{}, { openfugu: { category: ['ok', 7] } }, 'openfugu.category'],
      [{}, { openfugu: { category: 'x'.repeat(65) } }, 'openfugu.category'],
      [{ 'x-openfugu-category': ' , ' }, {}, 'x-openfugu-category'],
    ];
    for (const [headers, extra, param] of cases) {
      const answer = await ask(url, 'fugu', 'What is 2 + 2?', headers, extra);
      expect(answer.status, `${JSON.stringify(headers)} ${JSON.stringify(extra)}`).toBe(400);
      expect(answer.body.error?.param).toBe(param);
    }
  });

  it('ignores a category when the head was not trained with one', async () => {
    const sample = prompts.slice(0, 16);
    const plain = await firstAgents(url, 'fugu', sample);
    const tagged = await firstAgents(url, 'fugu', sample, {
      'x-openfugu-category': 'high_school_mathematics',
    });
    const body = await firstAgents(url, 'fugu', sample, {}, { openfugu: { category: ['poetry', 'code'] } });
    expect(tagged).toEqual(plain);
    expect(body).toEqual(plain);
  });
});

describe('the calibrated preset (at most X % to the most expensive worker)', () => {
  let server: ConfiguredServer;
  let url: string;
  const target = 0.1;
  beforeAll(async () => {
    server = await createServerFromConfig(
      parseConfig({
        simulated: { latency: false },
        server: { debugTrace: true },
        router: {
          maxTurns: 1,
          presets: [
            { model: 'fugu-capped', maxStrongShare: target },
            { model: 'fugu-loose', maxStrongShare: 0.9 },
            { model: 'fugu-max', lambda: 0 },
          ],
        },
      }),
    );
    url = await server.gateway.listen({ port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('keeps the expensive share near its target on the training prompts, where fugu-max exceeds it', async () => {
    // The embedded head's training prompts (same seed as the server: 1), as the router reads them.
    const training = trainEmbeddedRouter({ seed: 1 }).trainingPrompts.map((text) =>
      text.replace(/^user: /, ''),
    );
    const capped = await firstAgents(url, 'fugu-capped', training);
    const max = await firstAgents(url, 'fugu-max', training.slice(0, 160));
    expect(share(max, expensive)).toBeGreaterThan(target + 0.1);
    expect(share(capped, expensive)).toBeLessThanOrEqual(target + 1e-9);
    expect(share(capped, expensive)).toBeGreaterThanOrEqual(target - 0.05);
    // A cap above the λ = 0 share changes nothing: the threshold is clamped at a zero margin.
    expect(await firstAgents(url, 'fugu-loose', training.slice(0, 160))).toEqual(max);
  });

  it('refuses a calibrated preset without training prompts (a served head file)', async () => {
    await expect(
      createServerFromConfig(
        parseConfig({
          upstreams: [{ id: 'a', baseURL: 'http://127.0.0.1:9/v1', model: 'a' }],
          router: { headPath: '/nonexistent/head.json', presets: [{ model: 'x', maxStrongShare: 0.2 }] },
        }),
      ),
    ).rejects.toThrow();
  });
});

describe('request categories with a head trained on them', () => {
  // A synthetic pool where the category alone decides which worker answers well: the prompt text carries
  // no signal (the same generic prompts under every category).
  const categories = ['maths', 'poetry', 'python']; // distinct buckets of the 16-d block
  const best = ['math', 'writer', 'coder'];
  const dimension = 16;
  const backbone = createHashingBackbone({ dimension: 64 });
  const texts = Array.from({ length: 90 }, (_, i) => `request ${i}: please help with item ${(i * 37) % 101}`);
  let upstream: SimulatedUpstream;
  let dir: string;
  let servers: ConfiguredServer[] = [];

  const trainHead = (withCategory: boolean) => {
    const features: Float32Array[] = [];
    const outcomes: number[][] = [];
    texts.forEach((text, i) => {
      const c = i % categories.length;
      const vector = backbone.embedSync(`user: ${text}`);
      if (withCategory) {
        const full = new Float32Array(vector.length + dimension);
        full.set(vector);
        full.set(categoryFeatures([categories[c]!], dimension), vector.length);
        features.push(full);
      } else features.push(vector);
      outcomes.push(ids.map((id) => (id === best[c] ? 1 : id === 'generalist' ? 0.5 : 0)));
    });
    return trainValueHead({
      features,
      outcomes,
      agents: ids,
      backboneId: withCategory ? withCategoryId(backbone.id, dimension) : backbone.id,
      seed: 3,
    }).head;
  };

  const serve = async (file: string): Promise<string> => {
    const server = await createServerFromConfig(
      parseConfig({
        upstreams: DEFAULT_SIMULATED_POOL.map((entry) => ({
          id: entry.id,
          baseURL: upstream.baseURL,
          model: entry.spec.model,
          price: entry.price,
        })),
        router: { headPath: path.join(dir, file), maxTurns: 1 },
        server: { debugTrace: true },
      }),
    );
    servers.push(server);
    return server.gateway.listen({ port: 0 });
  };

  beforeAll(async () => {
    upstream = await createSimulatedUpstream({
      models: DEFAULT_SIMULATED_POOL.map((entry) => ({ ...entry.spec, latencyMs: 0, latencyJitterMs: 0 })),
      seed: 5,
    });
    dir = mkdtempSync(path.join(tmpdir(), 'openfugu-knob-'));
    await saveHeadFile(path.join(dir, 'category.json'), trainHead(true));
    await saveHeadFile(path.join(dir, 'plain.json'), trainHead(false));
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    servers = [];
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes by the category (header or body field) when the head was trained with it', async () => {
    const url = await serve('category.json');
    const sample = texts.slice(0, 12);
    for (let c = 0; c < categories.length; c++) {
      const byHeader = await firstAgents(url, 'fugu-max', sample, { 'x-openfugu-category': categories[c]! });
      const byBody = await firstAgents(
        url,
        'fugu-max',
        sample,
        {},
        { openfugu: { category: categories[c] } },
      );
      expect(byHeader).toEqual(sample.map(() => best[c]));
      expect(byBody).toEqual(byHeader);
    }
  });

  it('ignores the category with a head trained without it', async () => {
    const url = await serve('plain.json');
    const sample = texts.slice(0, 12);
    const plain = await firstAgents(url, 'fugu-max', sample);
    for (const category of categories) {
      expect(await firstAgents(url, 'fugu-max', sample, { 'x-openfugu-category': category })).toEqual(plain);
    }
  });
});
