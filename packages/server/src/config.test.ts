import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from './config.js';
import { createServerFromConfig } from './create-server.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openfugu-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('configuration', () => {
  it('reads YAML and JSON', async () => {
    const yamlPath = join(dir, 'c.yaml');
    await writeFile(
      yamlPath,
      'upstreams:\n  - id: fast\n    baseURL: http://127.0.0.1:4000/v1\n    model: gpt-4o-mini\n    apiKeyEnv: LITELLM_KEY\n',
    );
    expect((await loadConfigFile(yamlPath)).upstreams?.[0]?.model).toBe('gpt-4o-mini');
    const jsonPath = join(dir, 'c.json');
    await writeFile(jsonPath, JSON.stringify({ server: { port: 9000 } }));
    expect((await loadConfigFile(jsonPath)).server?.port).toBe(9000);
  });

  it('validates the example LiteLLM configuration shipped in examples/', async () => {
    const config = await loadConfigFile(new URL('../examples/litellm.yaml', import.meta.url).pathname);
    expect(config.upstreams?.map((upstream) => upstream.id)).toEqual(['fast', 'strong']);
    expect(config.conductor?.planner).toBe('strong');
  });

  it('points at the bad field', () => {
    const bad = () =>
      parseConfig({ upstreams: [{ id: 'a', baseURL: 'ftp://x', model: 'm' }], server: { port: 'eighty' } });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/upstreams\[0\]\.baseURL: must match pattern/);
    expect(bad).toThrow(/server\.port: must be integer/);
    expect(() => parseConfig({ sever: {} })).toThrow(/sever: unexpected property/);
    expect(() =>
      parseConfig({
        upstreams: [
          { id: 'a', baseURL: 'http://x', model: 'm' },
          { id: 'a', baseURL: 'http://x', model: 'n' },
        ],
      }),
    ).toThrow(/upstreams\[1\]\.id: duplicate/);
  });

  it('reports syntax errors with the file name', async () => {
    const path = join(dir, 'broken.yaml');
    await writeFile(path, 'server: [unclosed');
    await expect(loadConfigFile(path)).rejects.toThrow(/broken\.yaml is not valid YAML/);
  });

  it('reads secrets only from the environment and names the missing variable', async () => {
    const config = parseConfig({
      upstreams: [{ id: 'a', baseURL: 'http://127.0.0.1:1/v1', model: 'm', apiKeyEnv: 'NOPE_KEY' }],
    });
    await expect(createServerFromConfig(config, { env: {} })).rejects.toThrow(
      /upstreams\[0\]\.apiKeyEnv: environment variable NOPE_KEY is not set/,
    );
    const server = await createServerFromConfig(config, { env: { NOPE_KEY: 'secret' } });
    expect(server.notes[0]).toMatch(/cheapest available upstream/);
    await server.close();
  });

  it('passes the hardening limits of `server` and `auth.failureLimit` to the gateway', async () => {
    const config = parseConfig({
      server: {
        maxDepth: 3,
        maxArrayItems: 4,
        maxModelIdLength: 8,
        headersTimeoutMs: 2_000,
        bodyTimeoutMs: 4_000,
      },
      auth: { failureLimit: { requestsPerMinute: 1, burst: 1 } },
      upstreams: [
        {
          id: 'a',
          baseURL: 'http://127.0.0.1:1/v1',
          model: 'm',
          maxResponseBytes: 1024,
          maxStreamEventBytes: 512,
        },
      ],
    });
    const server = await createServerFromConfig(config, { env: {} });
    const url = await server.gateway.listen({ port: 0 });
    try {
      const post = (body: string) =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
      const deep = await post('{"model":"a","messages":[{"role":"user","content":"x"}],"x":[[[]]]}');
      expect(((await deep.json()) as { error: { message: string } }).error.message).toMatch(/deeper than 3/);
      const wide = await post('{"model":"a","messages":[{"role":"user","content":"x"}],"stop":[1,2,3,4,5]}');
      expect(((await wide.json()) as { error: { param: string } }).error.param).toBe('stop');
      const long = await post('{"model":"123456789","messages":[{"role":"user","content":"x"}]}');
      expect(((await long.json()) as { error: { param: string } }).error.param).toBe('model');
      expect(server.gateway.app.server.headersTimeout).toBe(2_000);
      expect(server.gateway.app.server.requestTimeout).toBe(4_000);
    } finally {
      await server.close();
    }
  });
});
