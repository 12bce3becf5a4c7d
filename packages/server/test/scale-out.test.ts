/**
 * Issue 14's "done when", end to end: three real gateway processes (apps/server's main) behind no balancer
 * (requests spread round-robin by the test), one real `redis-server`, one fake upstream. Every figure the
 * replicas must share goes through Redis and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithRedis, startRedis, type TestRedis } from './redis-server.js';
import { type FakeUpstream, type Replica, startFakeUpstream, startReplica } from './replicas.js';

const BURST_KEY = `sk-burst-${randomBytes(8).toString('hex')}`;
const LOAD_KEY = `sk-load-${randomBytes(8).toString('hex')}`;
const AFTER_KEY = `sk-after-${randomBytes(8).toString('hex')}`;
const MASTER = `master-${randomBytes(12).toString('hex')}`;
/** USD per 1M tokens of both upstreams (`good`, `flaky`). */
const PRICE = { input: 10, output: 100 };
const COOLDOWN_MS = 4000;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { error?: { code?: string; message?: string } } & Record<string, unknown>;
}

async function call(
  url: string,
  path: string,
  options: { key?: string; body?: unknown; method?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  });
  const text = await response.text();
  let body: Answer['body'] = {};
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {}
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}

const chat = (model: string, maxTokens = 5) => ({
  model,
  max_tokens: maxTokens,
  messages: [{ role: 'user', content: 'hi' }],
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

describeWithRedis('three gateway replicas sharing one Redis', () => {
  let redis: TestRedis;
  let upstream: FakeUpstream;
  let replicas: Replica[] = [];
  const urls = (): string[] => replicas.map((replica) => replica.url);

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startFakeUpstream(10);
    const upstreamOf = (id: string) => ({
      id,
      baseURL: upstream.baseURL,
      model: id,
      price: PRICE,
      maxRetries: 0,
      timeoutMs: 20_000,
    });
    const config = {
      server: { exposeWorkers: true, debugTrace: false },
      auth: {
        keys: [
          // Burst 10, refilled one per 10 minutes: nothing refills during the test.
          { name: 'burst', keyEnv: 'KEY_BURST', rateLimit: { requestsPerMinute: 0.1, burst: 10 } },
          { name: 'load', keyEnv: 'KEY_LOAD', rateLimit: { requestsPerMinute: 100_000 } },
          { name: 'after', keyEnv: 'KEY_AFTER', rateLimit: { requestsPerMinute: 0.1, burst: 3 } },
        ],
      },
      pool: { failureThreshold: 2, cooldownMs: COOLDOWN_MS, maxFallbacks: 1 },
      upstreams: [
        upstreamOf('good'),
        upstreamOf('flaky'),
        // The provider allows 3 requests a minute, for all replicas together.
        { ...upstreamOf('quota'), limits: { requestsPerMinute: 3 } },
      ],
      state: {
        redis: {
          urlEnv: 'TEST_REDIS_URL',
          keyPrefix: `of:e2e:${randomBytes(4).toString('hex')}:`,
          // Generous on a loaded machine: a slow answer is not an outage here.
          commandTimeoutMs: 2000,
        },
      },
      admin: { masterKeyEnv: 'TEST_ADMIN_KEY' },
    };
    const env = {
      KEY_BURST: BURST_KEY,
      KEY_LOAD: LOAD_KEY,
      KEY_AFTER: AFTER_KEY,
      TEST_ADMIN_KEY: MASTER,
      TEST_REDIS_URL: redis.url,
    };
    const started = await Promise.allSettled([0, 1, 2].map(() => startReplica(config, env)));
    replicas = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }, 240_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await upstream?.close();
    await redis?.stop();
  }, 60_000);

  it('lets exactly the burst of 10 through out of 300 concurrent requests over 3 replicas', async () => {
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, index) =>
        call(urls()[index % 3]!, '/v1/chat/completions', { key: BURST_KEY, body: chat('good') }),
      ),
    );
    const ok = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(290);
    for (const answer of refused) {
      expect(answer.body.error?.code).toBe('rate_limit_exceeded');
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);

  it('holds a budget of a few cents across 3 replicas: spend ≤ budget + one max cost per replica', async () => {
    const [a, b, c] = urls() as [string, string, string];
    const budget = 0.02;
    const created = await call(a, '/admin/keys', {
      key: MASTER,
      body: { name: 'budgeted', budgets: { total: budget } },
    });
    expect(created.status).toBe(201);
    const secret = created.body.key as string;
    const id = (created.body as { id?: string; record?: { id: string } }).record?.id ?? created.body.id;
    // One request's maximum cost, as the gateway bounds it: prompt bytes (+ 8 tokens a message) at the input
    // price plus max_tokens at the output price.
    const body = chat('good', 5);
    const maxCost = ((JSON.stringify(body.messages).length + 8) * PRICE.input + 5 * PRICE.output) / 1e6;
    const realCost = (upstream.promptTokens * PRICE.input + 5 * PRICE.output) / 1e6;
    const answers: Answer[] = [];
    // 4 waves of 40 concurrent requests, round-robin over the replicas.
    for (let wave = 0; wave < 4; wave++) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 40 }, (_, index) =>
            call([a, b, c][index % 3]!, '/v1/chat/completions', { key: secret, body }),
          ),
        )),
      );
    }
    const ok = answers.filter((answer) => answer.status === 200).length;
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(ok).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) {
      expect(answer.status).toBe(429);
      expect(answer.body.error?.code).toBe('budget_exceeded');
      expect(answer.body.error?.message).toMatch(/total budget/);
    }
    // Settled spend as the state records it (settlements are sent after the answer: wait for them).
    const usage = await until(
      'settlements',
      async () => {
        const got = await call(b, `/admin/keys/${id}`, { key: MASTER });
        const total = (got.body.usage as { window: string; spentUsd: number; reservedUsd: number }[]).find(
          (entry) => entry.window === 'total',
        );
        return total && total.reservedUsd === 0 ? total : undefined;
      },
      30_000,
    );
    expect(usage.spentUsd).toBeCloseTo(ok * realCost, 9);
    expect(usage.spentUsd).toBeLessThanOrEqual(budget + 3 * maxCost + 1e-9);
    console.info(
      `[budget] ${ok} of 160 admitted, spent $${usage.spentUsd.toFixed(6)} of $${budget} (max cost $${maxCost.toFixed(6)}, real $${realCost.toFixed(6)})`,
    );
  }, 120_000);

  it('a worker failing through replica A is skipped by B and C, and comes back on all after its cooldown', async () => {
    const [a, b, c] = urls() as [string, string, string];
    upstream.failing.add('flaky');
    // Threshold 2: two upstream faults through A open the shared circuit.
    for (let i = 0; i < 2; i++) {
      const answer = await call(a, '/v1/chat/completions', { key: LOAD_KEY, body: chat('flaky') });
      expect(answer.status).toBeGreaterThanOrEqual(500);
    }
    const failedAt = performance.now();
    const hitsAfterTrip = upstream.hits.get('flaky') ?? 0;
    // B and C learn it with their next request (the cooldown list comes with the admission's reply).
    const skipped = await Promise.all(
      [b, c].map(async (url) => {
        const answer = await until(
          'skip',
          async () => {
            const got = await call(url, '/v1/chat/completions', { key: LOAD_KEY, body: chat('flaky') });
            return got.body.error?.code === 'no_available_worker' ? got : undefined;
          },
          COOLDOWN_MS / 2,
        );
        return { answer, ms: performance.now() - failedAt };
      }),
    );
    for (const { answer } of skipped) expect(answer.status).toBe(503);
    // Skipped means never called: the flaky upstream saw no request from B or C.
    expect(upstream.hits.get('flaky') ?? 0).toBe(hitsAfterTrip);
    // A routed model falls back past it on B at once.
    const routed = await call(b, '/v1/chat/completions', { key: LOAD_KEY, body: chat('good') });
    expect(routed.status).toBe(200);
    console.info(
      `[health] skipped on B after ${skipped[0]!.ms.toFixed(1)} ms, on C after ${skipped[1]!.ms.toFixed(1)} ms (first request each)`,
    );
    upstream.failing.delete('flaky');
    // Back on all three once the cooldown ends (generous bound: cooldown + 20 s).
    const back = await Promise.all(
      [a, b, c].map((url) =>
        until(
          'recovery',
          async () => {
            const got = await call(url, '/v1/chat/completions', { key: LOAD_KEY, body: chat('flaky') });
            return got.status === 200 ? performance.now() - failedAt : undefined;
          },
          COOLDOWN_MS + 20_000,
        ),
      ),
    );
    for (const ms of back) expect(ms).toBeGreaterThanOrEqual(COOLDOWN_MS - 500);
  }, 120_000);

  it("holds a provider's quota across the replicas: 3 of 9 calls reach it, the rest are skipped", async () => {
    const answers = await Promise.all(
      Array.from({ length: 9 }, (_, index) =>
        call(urls()[index % 3]!, '/v1/chat/completions', { key: LOAD_KEY, body: chat('quota') }),
      ),
    );
    expect(upstream.hits.get('quota') ?? 0).toBe(3);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(3);
    for (const answer of answers.filter((one) => one.status !== 200)) {
      expect(answer.status).toBe(503);
      expect(answer.body.error?.code).toBe('no_available_worker');
    }
  }, 60_000);

  it('a key created through the admin API on A works on B at once; revoked, it fails on all', async () => {
    const [a, b, c] = urls() as [string, string, string];
    const created = await call(a, '/admin/keys', { key: MASTER, body: { name: 'fresh' } });
    expect(created.status).toBe(201);
    const secret = created.body.key as string;
    const id = (created.body as { record?: { id: string } }).record?.id ?? (created.body.id as string);
    expect((await call(b, '/v1/models', { key: secret })).status).toBe(200);
    expect((await call(c, '/v1/chat/completions', { key: secret, body: chat('good') })).status).toBe(200);
    expect((await call(a, `/admin/keys/${id}`, { key: MASTER, method: 'DELETE' })).status).toBeLessThan(300);
    for (const url of [a, b, c]) {
      const answer = await call(url, '/v1/models', { key: secret });
      expect(answer.status).toBe(401);
    }
  }, 60_000);

  it('Redis killed mid-load and restarted: no lost or hung request, policies applied, /health says so, sharing resumes', async () => {
    const [a, b, c] = urls() as [string, string, string];
    // A key with a budget (policy `closed`), used once so every replica... at least A has seen it valid.
    const created = await call(a, '/admin/keys', {
      key: MASTER,
      body: { name: 'strict', budgets: { total: 10 } },
    });
    const strict = created.body.key as string;
    expect((await call(a, '/v1/chat/completions', { key: strict, body: chat('good') })).status).toBe(200);

    let stop = false;
    const statuses: number[] = [];
    let sent = 0;
    // 3 client loops, one per replica, each waiting for its answer (bounded by its own timeout).
    const loops = [a, b, c].map(async (url) => {
      while (!stop) {
        sent++;
        // A lost (reset) or hung (timed out) request is recorded as 0.
        const answer = await call(url, '/v1/chat/completions', {
          key: LOAD_KEY,
          body: chat('good'),
          timeoutMs: 30_000,
        }).catch(() => ({ status: 0 }));
        statuses.push(answer.status);
      }
    });
    const waitFor = (count: number) =>
      until('load', async () => (statuses.length >= count ? true : undefined), 60_000);
    try {
      await waitFor(30);
    } catch (error) {
      stop = true;
      throw error;
    }
    await redis.kill();
    const down = await Promise.all(
      [a, b, c].map((url) =>
        until(
          '/health to report the outage',
          async () => {
            const health = await call(url, '/health');
            const state = health.body.state as { connected: boolean; lastError?: string };
            return state.connected === false ? health : undefined;
          },
          30_000,
        ),
      ),
    );
    for (const health of down) expect(health.body.status).toBe('degraded');
    const before = statuses.length;
    await waitFor(before + 30);
    // budgets: closed → 503 state_unavailable with Retry-After; keys: local → A still knows the key.
    const closed = await call(a, '/v1/chat/completions', { key: strict, body: chat('good') });
    expect(closed.status).toBe(503);
    expect(closed.body.error?.code).toBe('state_unavailable');
    expect(closed.retryAfter).toBe('1');
    const metrics = await fetch(`${a}/metrics`, { headers: { authorization: `Bearer ${LOAD_KEY}` } }).then(
      (response) => response.text(),
    );
    expect(metrics).toMatch(/openfugu_state_connected\{backend="redis"\} 0/);

    await redis.restart();
    for (const url of [a, b, c]) {
      await until(
        'reconnection',
        async () => {
          const health = await call(url, '/health');
          return (health.body.state as { connected: boolean }).connected ? true : undefined;
        },
        30_000,
      );
    }
    const reconnected = statuses.length;
    try {
      await waitFor(reconnected + 30);
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    // Every request sent got an answer, and (rate limits: local) every one of them was served.
    expect(statuses).toHaveLength(sent);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    // Sharing resumed: a fresh bucket of 3 holds across the replicas again (local limits would let 9 through).
    const after = await Promise.all(
      Array.from({ length: 9 }, (_, index) =>
        call(urls()[index % 3]!, '/v1/chat/completions', { key: AFTER_KEY, body: chat('good') }),
      ),
    );
    expect(after.filter((answer) => answer.status === 200)).toHaveLength(3);
    console.info(`[outage] ${sent} requests during the run, all answered 200`);
  }, 180_000);
});
