import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createDefaultConcatBackbone,
  createHashingBackbone,
  createRouter,
  createRouterHead,
  saveHeadFile,
  withCategoryId,
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
      const got: string[] = [];
      for (const p of prompts) {
        // with tools, fugu routes once and passes the request through: the trace's only turn is the router's pick
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
        const body = (await response.json()) as {
          openfugu_trace: { modeTrace: { turns: { agent: string }[] } };
        };
        got.push(body.openfugu_trace.modeTrace.turns[0]!.agent);
      }
      expect(got).toEqual(want);
    } finally {
      await server.close();
    }
  });

  it('refuses a hashingSeed that contradicts the recorded backbone', async () => {
    await expect(createServerFromConfig(config({ hashingSeed: 5 }))).rejects.toThrow(ConfigError);
    await expect(createServerFromConfig(config({ hashingSeed: 5 }))).rejects.toThrow(/hashingSeed/);
  });

  it('refuses a head whose recorded backbone is not the one it would be served with, category heads too', async () => {
    // A head trained on the composed backbone: the server would read it with a hashing backbone of the same
    // dimension (unrelated features). Refused for plain heads and for heads with a request-category block.
    const concat = createDefaultConcatBackbone();
    for (const [file, backboneId, dimension] of [
      ['concat.json', concat.id, concat.dimension],
      ['concat-category.json', withCategoryId(concat.id, 16), concat.dimension + 16],
    ] as const) {
      await saveHeadFile(
        path.join(dir, file),
        createRouterHead({ agentCount: ids.length, dimension, roles: false, agents: ids, backboneId }),
      );
      await expect(createServerFromConfig(config({ headPath: path.join(dir, file) }))).rejects.toThrow(
        /trained on backbone concat\(/,
      );
    }
  });
});
