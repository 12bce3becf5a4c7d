import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createDefaultConcatBackbone,
  createHashingBackbone,
  createRouter,
  createRouterHead,
  createWideConcatBackbone,
  saveHeadFile,
} from '@openfugu/trinity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createServerFromConfig,
  createSimulatedUpstream,
  DEFAULT_SIMULATED_POOL,
  parseConfig,
  type SimulatedUpstream,
} from '../src/index.js';

// A head file that records the hashing backbone it was trained with must be served with that backbone:
// here a head saved with a hashing-v1 id (the default is now v2), whose routing differs between the two.

let upstream: SimulatedUpstream;
let dir: string;
const ids = DEFAULT_SIMULATED_POOL.map((entry) => entry.id);
const v1 = createHashingBackbone({ version: 1, dimension: 64 });
const head = createRouterHead({
  agentCount: ids.length,
  dimension: 64,
  roles: false,
  weights: Array.from({ length: ids.length * 64 }, (_, i) => Math.sin(i * 12.9898) * 10),
  agents: ids,
  ...(v1.id === undefined ? {} : { backboneId: v1.id }),
});
const prompts = Array.from({ length: 24 }, (_, i) => `question ${i}: what is ${i * 7} plus ${i}? say why`);
const messagesOf = (content: string) => [{ role: 'user' as const, content }];
const topics = [
  'a sonnet about rain',
  'the derivative of x^3',
  'a SQL join',
  'why the sky is blue',
  'Rust lifetimes',
];
const varied = Array.from(
  { length: 25 },
  (_, i) =>
    `${['Write', 'Explain', 'Fix', 'Summarise', 'Compare'][i % 5]} ${topics[Math.floor(i / 5)]}${'!?.'.repeat(i % 4)}`,
);

beforeAll(async () => {
  upstream = await createSimulatedUpstream({
    models: DEFAULT_SIMULATED_POOL.map((entry) => ({ ...entry.spec, latencyMs: 0, latencyJitterMs: 0 })),
    seed: 7,
  });
  dir = mkdtempSync(path.join(tmpdir(), 'openfugu-head-'));
  await saveHeadFile(path.join(dir, 'head.json'), head);
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (router: Record<string, unknown>) =>
  parseConfig({
    upstreams: DEFAULT_SIMULATED_POOL.map((entry) => ({
      id: entry.id,
      baseURL: upstream.baseURL,
      model: entry.spec.model,
    })),
    router: { headPath: path.join(dir, 'head.json'), ...router },
    server: { debugTrace: true },
  });

describe('router.headPath', () => {
  it('serves a head with the hashing backbone it records (v1 here), not the default', async () => {
    const withV1 = createRouter({ backbone: v1, head, agents: ids });
    const withV2 = createRouter({
      backbone: createHashingBackbone({ version: 2, dimension: 64 }),
      head: createRouterHead({ agentCount: ids.length, dimension: 64, roles: false, weights: head.weights }),
      agents: ids,
    });
    const want = prompts.map((p) => withV1.routeSync(messagesOf(p)).agent);
    // the test can fail: the two backbones route these prompts differently
    expect(prompts.some((p, i) => withV2.routeSync(messagesOf(p)).agent !== want[i])).toBe(true);

    const server = await createServerFromConfig(config({}));
    try {
      const url = await server.gateway.listen({ port: 0 });
      const got = await routedAgents(url, prompts);
      expect(got).toEqual(want);
    } finally {
      await server.close();
    }
  });

  it('refuses a hashingSeed that contradicts the recorded backbone', async () => {
    await expect(createServerFromConfig(config({ hashingSeed: 5 }))).rejects.toThrow(ConfigError);
    await expect(createServerFromConfig(config({ hashingSeed: 5 }))).rejects.toThrow(/hashingSeed/);
  });

  it('serves a head recorded on a composed backbone (the default and the wide sparse one) with that backbone', async () => {
    // A head trained by `openfugu-train head --trainer ridge --backbone concat|concat-sparse` records the concat id;
    // the server rebuilds it (createBackboneFromId) and routes exactly as the same head does locally.
    for (const [file, backbone] of [
      ['concat.safetensors', createDefaultConcatBackbone()],
      ['wide.safetensors', createWideConcatBackbone()],
    ] as const) {
      const d = backbone.dimension;
      const composed = createRouterHead({
        agentCount: ids.length,
        dimension: d,
        roles: false,
        weights: Float32Array.from({ length: ids.length * d }, (_, i) => Math.sin(i * 12.9898) * 10),
        agents: ids,
        backboneId: backbone.id,
      });
      await saveHeadFile(path.join(dir, file), composed);
      const local = createRouter({ backbone, head: composed, agents: ids });
      const want = varied.map((p) => local.routeSync(messagesOf(p)).agent);
      expect(new Set(want).size).toBeGreaterThan(1); // the prompts do not all go to one worker
      const server = await createServerFromConfig(config({ headPath: path.join(dir, file) }));
      try {
        const url = await server.gateway.listen({ port: 0 });
        expect(await routedAgents(url, varied)).toEqual(want);
      } finally {
        await server.close();
      }
    }
  });

  it('refuses a recorded backbone id it cannot rebuild, and a hashingSeed on a composed head', async () => {
    await saveHeadFile(
      path.join(dir, 'unknown.json'),
      createRouterHead({
        agentCount: ids.length,
        dimension: 8,
        roles: false,
        agents: ids,
        backboneId: 'concat(1*mystery-v9:d8)',
      }),
    );
    await expect(
      createServerFromConfig(config({ headPath: path.join(dir, 'unknown.json') })),
    ).rejects.toThrow(/cannot rebuild a backbone/);
    await expect(
      createServerFromConfig(config({ headPath: path.join(dir, 'concat.safetensors'), hashingSeed: 5 })),
    ).rejects.toThrow(ConfigError);
  });
});

/** The worker `fugu` routes each prompt to (with tools it routes once and passes through; the trace says whom). */
async function routedAgents(url: string, list: readonly string[]): Promise<string[]> {
  const got: string[] = [];
  for (const p of list) {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-openfugu-debug': '1' },
      body: JSON.stringify({
        model: 'fugu',
        messages: messagesOf(p),
        tools: [{ type: 'function', function: { name: 'noop', parameters: { type: 'object' } } }],
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { openfugu_trace: { modeTrace: { turns: { agent: string }[] } } };
    got.push(body.openfugu_trace.modeTrace.turns[0]!.agent);
  }
  return got;
}
