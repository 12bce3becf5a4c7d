/**
 * The admin plugin on a bare fastify instance, with the memory state and with the Redis state (real
 * redis-server). Requests go through `inject` (no socket).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRoutes, createMemoryState, createRedisState, type SharedState } from '../src/index.js';
import { describeWithRedis, startRedis, type TestRedis } from './redis-server.js';

const MASTER = 'master-key-for-tests-0123456789';
const auth = { authorization: `Bearer ${MASTER}` };

async function adminApp(state: SharedState): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(adminRoutes, { state, masterKey: MASTER });
  await app.ready();
  return app;
}

function adminSuite(make: () => Promise<SharedState>): void {
  let state: SharedState;
  let app: FastifyInstance;
  beforeAll(async () => {
    state = await make();
    app = await adminApp(state);
  });
  afterAll(async () => {
    await app.close();
    await state.close();
  });

  it('refuses calls without the master key, in OpenAI shape', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${MASTER}x` },
      { authorization: MASTER },
      { 'x-api-key': MASTER },
      { authorization: `Bearer ${'x'.repeat(5000)}` },
    ]) {
      const response = await app.inject({ method: 'GET', url: '/admin/keys', headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({
        error: {
          message: 'Invalid or missing admin key.',
          type: 'authentication_error',
          code: 'invalid_api_key',
          param: null,
        },
      });
    }
  });

  it('takes the master key as Authorization: Bearer in any case of the scheme, like client keys', async () => {
    for (const authorization of [`bearer ${MASTER}`, `BEARER  ${MASTER} `]) {
      const response = await app.inject({ method: 'GET', url: '/admin/keys', headers: { authorization } });
      expect(response.statusCode).toBe(200);
    }
  });

  it('creates a key (secret shown once), lists it without secret or hash, updates and revokes it', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: auth,
      payload: { name: 'team-a', rateLimit: { requestsPerMinute: 60, burst: 10 }, budgets: { daily: 5 } },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({ object: 'api_key', name: 'team-a', budgets: { daily: 5 } });
    expect(body.key).toMatch(/^sk-of-/);
    expect((await state.lookupKey(body.key))?.id).toBe(body.id);

    const listed = await app.inject({ method: 'GET', url: '/admin/keys', headers: auth });
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(body.key);
    expect(listed.body).not.toContain('hash');
    expect(listed.json().data.map((entry: { id: string }) => entry.id)).toContain(body.id);

    const one = await app.inject({ method: 'GET', url: `/admin/keys/${body.id}`, headers: auth });
    expect(one.json()).toMatchObject({ id: body.id, usage: [{ window: 'daily', limitUsd: 5, spentUsd: 0 }] });
    expect(one.body).not.toContain(body.key);

    const patched = await app.inject({
      method: 'PATCH',
      url: `/admin/keys/${body.id}`,
      headers: auth,
      payload: { rateLimit: null, maxConcurrent: 4, budgets: { monthly: 50 } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ maxConcurrent: 4, budgets: { monthly: 50 } });
    expect(patched.json().rateLimit).toBeUndefined();
    expect((await state.lookupKey(body.key))?.maxConcurrent).toBe(4);

    const revoked = await app.inject({ method: 'DELETE', url: `/admin/keys/${body.id}`, headers: auth });
    expect(revoked.json()).toEqual({ object: 'api_key', id: body.id, revoked: true });
    expect(await state.lookupKey(body.key)).toBeUndefined();
    const again = await app.inject({ method: 'DELETE', url: `/admin/keys/${body.id}`, headers: auth });
    expect(again.statusCode).toBe(404);
    expect(again.json().error).toMatchObject({ code: 'not_found', param: 'id' });
  });

  it('answers bad bodies with a 400 naming the field', async () => {
    const cases: Array<[unknown, string | null]> = [
      [{}, null],
      [{ name: '' }, 'name'],
      [{ name: 'x', rateLimit: { requestsPerMinute: -1 } }, 'rateLimit.requestsPerMinute'],
      [{ name: 'x', budgets: { weekly: 1 } }, 'budgets.weekly'],
      [{ name: 'x', maxConcurrent: 0 }, 'maxConcurrent'],
    ];
    for (const [payload, param] of cases) {
      const response = await app.inject({
        method: 'POST',
        url: '/admin/keys',
        headers: auth,
        payload: payload as object,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });
      if (param !== null) expect(response.json().error.param).toBe(param);
    }
    const broken = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('invalid_json');
    const missing = await app.inject({
      method: 'PATCH',
      url: '/admin/keys/key_nope',
      headers: auth,
      payload: {},
    });
    expect(missing.statusCode).toBe(404);
  });
}

describe('admin API: memory state', () => {
  adminSuite(async () => createMemoryState());

  it('refuses a short or overlong master key at registration', async () => {
    const app = Fastify();
    await expect(
      app.register(adminRoutes, { state: createMemoryState(), masterKey: 'short' }).ready(),
    ).rejects.toThrow(/at least 16/);
    await expect(
      Fastify()
        .register(adminRoutes, { state: createMemoryState(), masterKey: 'k'.repeat(4097) })
        .ready(),
    ).rejects.toThrow(/at most 4096/);
  });
});

describeWithRedis('admin API: redis state', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  adminSuite(async () => {
    const state = createRedisState({ url: redis.url, keyPrefix: 'admin:' });
    expect(await state.ready(10_000)).toBe(true);
    return state;
  });

  it('answers 503 state_unavailable when Redis cannot be reached', async () => {
    const state = createRedisState({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 });
    const app = await adminApp(state);
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/admin/keys',
        headers: auth,
        payload: { name: 'x' },
      });
      expect(response.statusCode).toBe(503);
      expect(response.json().error.code).toBe('state_unavailable');
      expect(response.headers['retry-after']).toBe('1');
    } finally {
      await app.close();
      await state.close();
    }
  });
});
