/**
 * The gateway's use of its `SharedState`, in one process with the memory state (the same calls go to Redis
 * with `createRedisState`; test/scale-out.test.ts checks them across real replica processes): stored keys,
 * the concurrency cap, budgets, shared cooldowns, upstream quotas, `/health` and `/metrics`.
 */
import { UpstreamError, type Worker } from '@openfugu/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, createMemoryState, type Gateway, type SharedState } from '../src/index.js';

const MASTER = 'master-key-for-tests-0123456789';
const PRICES = { fast: { input: 10, output: 100 }, slow: { input: 10, output: 100 } };

function instant(id: string, calls: string[], gate?: Promise<void>): Worker {
  return {
    id,
    async complete() {
      calls.push(id);
      await gate;
      return {
        content: 'ok',
        usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
        finishReason: 'stop',
      };
    },
  };
}

const body = (model: string) => ({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });

describe('the gateway over its shared state', () => {
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  const make = (state: SharedState, workers: Worker[], extra: object = {}) => {
    gateway = createGateway({
      workers,
      state,
      config: {
        exposeWorkers: true,
        adminMasterKey: MASTER,
        pool: { prices: PRICES, failureThreshold: 1, cooldownMs: 60_000, maxFallbacks: 1 },
        ...extra,
      },
    });
    return gateway.app;
  };

  it('accepts a stored key, holds its concurrency cap and its budget, refusing with OpenAI errors', async () => {
    const state = createMemoryState();
    const calls: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = make(state, [instant('fast', calls, held)]);
    const { key } = await state.createKey({ name: 'capped', maxConcurrent: 1, budgets: { total: 0.0016 } });
    const headers = { authorization: `Bearer ${key}` };
    const post = () =>
      app.inject({ method: 'POST', url: '/v1/chat/completions', headers, payload: body('fast') });
    expect((await app.inject({ method: 'GET', url: '/v1/models', headers })).statusCode).toBe(200);
    const first = post();
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await post();
    expect(second.statusCode).toBe(429);
    expect(second.json().error.code).toBe('rate_limit_exceeded');
    release();
    expect((await first).statusCode).toBe(200);
    // Each request costs (10 × 10 + 5 × 100) / 1e6 = $0.0006; the bound reserved per request is $0.0009, so
    // after two ($0.0012 spent) a third no longer fits the $0.0016 budget.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await post()).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const refused = await post();
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('budget_exceeded');
    expect(refused.json().error.message).toMatch(/total budget/);
    const [usage] = await state.budgetUsage(`key:${(await state.listKeys())[0]!.id}`, { total: 0.0016 });
    expect(usage!.spentUsd).toBeCloseTo(0.0012, 9);
    expect(usage!.reservedUsd).toBe(0);
    // An unknown key is still a 401.
    const unknown = await app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { authorization: 'Bearer sk-nope' },
    });
    expect(unknown.statusCode).toBe(401);
  });

  it('serves the admin API with a master key, and reports the state in /health and /metrics', async () => {
    const state = createMemoryState();
    const app = make(state, [instant('fast', [])]);
    const created = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: { authorization: `Bearer ${MASTER}` },
      payload: { name: 'team' },
    });
    expect(created.statusCode).toBe(201);
    const key = created.json().key as string;
    const answer = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { authorization: `Bearer ${key}` },
      payload: body('fast'),
    });
    expect(answer.statusCode).toBe(200);
    const health = (await app.inject({ method: 'GET', url: '/health' })).json();
    expect(health.status).toBe('ok');
    expect(health.state).toMatchObject({ backend: 'memory', connected: true });
    const metrics = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(metrics.body).toMatch(/openfugu_state_connected\{backend="memory"\} 1/);
  });

  it('skips a worker the state says is cooling (reported by another replica), and reports its own failures', async () => {
    const state = createMemoryState();
    const calls: string[] = [];
    const app = make(state, [instant('fast', calls), instant('slow', calls)], { storedKeys: false });
    // Another replica opened the circuit of `fast`: this gateway learns it with the next admission.
    await state.coolDown('fast', 60_000);
    const direct = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: body('fast') });
    expect(direct.statusCode).toBe(503);
    expect(direct.json().error.code).toBe('no_available_worker');
    expect(calls).toEqual([]);
    // Its own failures go to the state (threshold 1 → cooled for every replica).
    const failing: Worker = {
      id: 'slow',
      async complete() {
        throw new Error('connection reset');
      },
    };
    await gateway?.close();
    const other = createMemoryState();
    const app2 = make(other, [instant('fast', calls), failing], { storedKeys: false });
    expect(
      (await app2.inject({ method: 'POST', url: '/v1/chat/completions', payload: body('slow') })).statusCode,
    ).toBeGreaterThanOrEqual(500);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([...(await other.cooldowns()).keys()]).toEqual(['slow']);
  });

  it("cools a worker down for every replica for the upstream's Retry-After on a 429, in one state call", async () => {
    const state = createMemoryState();
    const healthCalls: string[] = [];
    for (const name of ['reportFailure', 'reportSuccess', 'coolDown'] as const) {
      const original = state[name].bind(state) as (...args: unknown[]) => Promise<unknown>;
      (state as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        healthCalls.push(name);
        return original(...args);
      };
    }
    const limited: Worker = {
      id: 'fast',
      async complete() {
        throw new UpstreamError({
          message: 'upstream answered HTTP 429',
          statusCode: 429,
          workerId: 'fast',
          cause: { retryAfterMs: 45_000 },
        });
      },
    };
    const app = make(state, [limited], {
      storedKeys: false,
      pool: { prices: PRICES, failureThreshold: 100, cooldownMs: 1000 },
    });
    expect(
      (await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: body('fast') })).statusCode,
    ).toBeGreaterThanOrEqual(500);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const left = (await state.cooldowns()).get('fast');
    expect(left).toBeGreaterThan(30_000);
    expect(left).toBeLessThanOrEqual(45_000);
    expect(healthCalls).toEqual(['reportFailure']);
  });

  it('holds an upstream quota: a worker over it is skipped and the request falls back', async () => {
    const state = createMemoryState();
    const calls: string[] = [];
    const app = make(state, [instant('fast', calls), instant('slow', calls)], {
      storedKeys: false,
      upstreamLimits: { fast: { requestsPerMinute: 0.01 } },
    });
    const direct = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: body('fast') });
    expect(direct.statusCode).toBe(200);
    const over = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: body('fast') });
    expect(over.statusCode).toBe(503);
    expect(over.json().error.code).toBe('no_available_worker');
    expect(calls).toEqual(['fast']);
  });
});
