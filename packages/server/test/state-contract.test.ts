/**
 * One behaviour, two implementations: the same suite runs against `createMemoryState()` and against
 * `createRedisState()` on a real redis-server. Figures are chosen so that refill during a test cannot change
 * an outcome (rates of a few per hour); expiry is proven by polling against generous deadlines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryState, createRedisState, type SharedState } from '../src/index.js';
import { describeWithRedis, startRedis, type TestRedis } from './redis-server.js';

const SLOW = 1 / 60; // one per hour

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function contract(make: () => Promise<SharedState>): void {
  let state: SharedState;
  beforeAll(async () => {
    state = await make();
  });
  afterAll(async () => {
    await state.close();
  });

  it('lets exactly the burst through, then refuses with a Retry-After within one refill period', async () => {
    const limits = { requestsPerMinute: SLOW, burst: 3 };
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await state.takeRate('key:burst', limits));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    const refused = decisions[3]!;
    if (refused.allowed) throw new Error('expected a refusal');
    expect(refused.limit).toBe('requests');
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000 / SLOW + 1);
    // Another scope has its own bucket.
    expect((await state.takeRate('key:other', limits)).allowed).toBe(true);
  });

  it('takes requests and tokens together: a refusal on tokens leaves the request bucket untouched', async () => {
    const limits = { requestsPerMinute: SLOW, burst: 2, tokensPerMinute: SLOW, tokenBurst: 10 };
    expect((await state.takeRate('key:both', limits, { tokens: 8 })).allowed).toBe(true);
    const refused = await state.takeRate('key:both', limits, { tokens: 5 });
    expect(refused).toMatchObject({ allowed: false, limit: 'tokens' });
    expect((await state.takeRate('key:both', limits, { tokens: 2 })).allowed).toBe(true);
    expect(await state.takeRate('key:both', limits, { tokens: 0 })).toMatchObject({
      allowed: false,
      limit: 'requests',
    });
  });

  it('keeps the request and token buckets of a scope apart across calls that limit only one of them', async () => {
    const rpm = { requestsPerMinute: SLOW, burst: 2 };
    const tpm = { tokensPerMinute: SLOW, tokenBurst: 100 };
    expect((await state.takeRate('key:split', rpm)).allowed).toBe(true); // 1 request left
    expect((await state.takeRate('key:split', tpm, { tokens: 60 })).allowed).toBe(true); // 40 tokens left
    expect((await state.admit({ scope: 'key:split', rate: tpm, tokens: 30 })).admitted).toBe(true); // 10 left
    await state.adjustTokens('key:split', tpm, -5); // 15 left
    expect((await state.takeRate('key:split', rpm)).allowed).toBe(true);
    expect((await state.takeRate('key:split', rpm)).allowed).toBe(false);
    expect((await state.takeRate('key:split', tpm, { tokens: 15 })).allowed).toBe(true);
    expect((await state.takeRate('key:split', tpm, { tokens: 1 })).allowed).toBe(false);
  });

  it('corrects the token bucket with the real usage', async () => {
    const limits = { tokensPerMinute: SLOW, tokenBurst: 100 };
    expect((await state.takeRate('key:adjust', limits, { tokens: 100 })).allowed).toBe(true);
    expect((await state.takeRate('key:adjust', limits, { tokens: 40 })).allowed).toBe(false);
    await state.adjustTokens('key:adjust', limits, -50); // the request used 50 fewer than estimated
    expect((await state.takeRate('key:adjust', limits, { tokens: 40 })).allowed).toBe(true);
    await state.adjustTokens('key:adjust', limits, 200); // used far more: the bucket goes into debt
    expect((await state.takeRate('key:adjust', limits, { tokens: 1 })).allowed).toBe(false);
  });

  it('caps concurrency per scope and frees slots on release', async () => {
    const a = await state.acquireSlot('key:slots', { max: 2 });
    const b = await state.acquireSlot('key:slots', { max: 2 });
    expect(a.acquired && b.acquired).toBe(true);
    expect(await state.acquireSlot('key:slots', { max: 2 })).toEqual({ acquired: false, active: 2 });
    if (!a.acquired || !b.acquired) throw new Error('expected slots');
    await state.releaseSlot(a.lease);
    await state.releaseSlot(a.lease); // idempotent
    const c = await state.acquireSlot('key:slots', { max: 2 });
    expect(c.acquired).toBe(true);
    await state.releaseSlot(b.lease);
    if (c.acquired) await state.releaseSlot(c.lease);
  });

  it('frees the slot of a holder that never released it once its lease ends', async () => {
    const held = await state.acquireSlot('key:lease', { max: 1, leaseMs: 200 });
    expect(held.acquired).toBe(true);
    expect((await state.acquireSlot('key:lease', { max: 1, leaseMs: 200 })).acquired).toBe(false);
    await eventually(
      async () => (await state.acquireSlot('key:lease', { max: 1, leaseMs: 60_000 })).acquired,
    );
  });

  it('reserves against budgets, refuses with the window and its reset time, and settles real costs', async () => {
    const budgets = { daily: 0.01 };
    const first = await state.reserveBudget('key:budget', budgets, 0.004);
    const second = await state.reserveBudget('key:budget', budgets, 0.004);
    expect(first.reserved && second.reserved).toBe(true);
    const third = await state.reserveBudget('key:budget', budgets, 0.004);
    if (third.reserved) throw new Error('expected a refusal');
    expect(third.exceeded.window).toBe('daily');
    expect(third.exceeded.limitUsd).toBeCloseTo(0.01, 12);
    expect(third.exceeded.reservedUsd).toBeCloseTo(0.008, 12);
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    expect(third.exceeded.resetAt).toBe(midnight.getTime());
    if (!first.reserved || !second.reserved) throw new Error('expected reservations');
    await state.settleBudget(first.reservation, 0.001);
    await state.settleBudget(first.reservation, 0.001); // a replay counts once
    const usage = await state.budgetUsage('key:budget', { daily: 0.01, monthly: 1, total: 2 });
    expect(usage.map((u) => u.window)).toEqual(['daily', 'monthly', 'total']);
    for (const window of usage) {
      expect(window.spentUsd).toBeCloseTo(0.001, 12);
      expect(window.reservedUsd).toBeCloseTo(0.004, 12);
    }
    expect(usage[2]!.resetAt).toBeUndefined();
    expect((await state.reserveBudget('key:budget', budgets, 0.004)).reserved).toBe(true);
  });

  it('names the window that refuses: monthly and total', async () => {
    await settle(state, 'key:monthly', 0.003);
    const monthly = await state.reserveBudget('key:monthly', { daily: 1, monthly: 0.003 }, 0);
    expect(monthly).toMatchObject({ reserved: false, exceeded: { window: 'monthly' } });
    const total = await state.reserveBudget('key:monthly', { daily: 1, total: 0.0035 }, 0.001);
    expect(total).toMatchObject({ reserved: false, exceeded: { window: 'total', resetAt: undefined } });
    expect((await state.reserveBudget('key:monthly', { total: 0.0035 }, 0.0005)).reserved).toBe(true);
  });

  it('lets an unsettled reservation lapse after its lease, and still counts a late settlement', async () => {
    const held = await state.reserveBudget('key:lapse', { total: 0.01 }, 0.01, { leaseMs: 200 });
    expect(held.reserved).toBe(true);
    expect((await state.reserveBudget('key:lapse', { total: 0.01 }, 0.001)).reserved).toBe(false);
    await eventually(async () => {
      const next = await state.reserveBudget('key:lapse', { total: 0.01 }, 0.001, { leaseMs: 60_000 });
      if (next.reserved) await state.settleBudget(next.reservation, 0);
      return next.reserved;
    });
    if (held.reserved) await state.settleBudget(held.reservation, 0.006);
    if (held.reserved) await state.settleBudget(held.reservation, 0.006); // a replay counts once
    const [total] = await state.budgetUsage('key:lapse', { total: 0.01 });
    expect(total!.spentUsd).toBeCloseTo(0.006, 12);
    expect(total!.reservedUsd).toBe(0);
  });

  it('admits all or nothing in one call: a refusal takes no rate token, slot or reservation', async () => {
    const request = {
      scope: 'key:admit',
      rate: { requestsPerMinute: SLOW, burst: 2 },
      slot: { max: 5 },
      budget: { budgets: { total: 0.002 }, estimateUsd: 0.0015 },
    };
    const first = await state.admit(request);
    if (!first.admitted) throw new Error('expected an admission');
    expect(first.lease?.scope).toBe('key:admit');
    expect(first.reservation?.estimateUsd).toBe(0.0015);
    expect(await state.admit(request)).toMatchObject({
      admitted: false,
      refusedBy: 'budget',
      exceeded: { window: 'total', reservedUsd: 0.0015 },
    });
    // The refused admission took neither a request token nor a slot.
    expect((await state.takeRate('key:admit', request.rate)).allowed).toBe(true);
    expect((await state.acquireSlot('key:admit', { max: 2 })).acquired).toBe(true);
    expect(await state.admit({ scope: 'key:admit', slot: { max: 2 } })).toMatchObject({
      admitted: false,
      refusedBy: 'concurrency',
      active: 2,
    });
    const limited = await state.admit(request);
    expect(limited).toMatchObject({ admitted: false, refusedBy: 'rate', rate: { limit: 'requests' } });
    // The cooldown list comes in the same call.
    await state.coolDown('w-admit', 60_000);
    const bare = await state.admit({ scope: 'key:bare' });
    expect(bare).toMatchObject({ admitted: true, lease: undefined, reservation: undefined });
    expect(bare.cooldowns.get('w-admit')).toBeLessThanOrEqual(60_000);
    if (first.lease) await state.releaseSlot(first.lease);
    if (first.reservation) await state.settleBudget(first.reservation, 0.001);
    const [total] = await state.budgetUsage('key:admit', { total: 0.002 });
    expect(total).toMatchObject({ spentUsd: 0.001, reservedUsd: 0 });
  });

  it('opens a worker circuit after consecutive failures and closes it on success', async () => {
    const breaker = { failureThreshold: 2, cooldownMs: 60_000 };
    expect(await state.reportFailure('w1', breaker)).toBe(0);
    expect((await state.cooldowns()).has('w1')).toBe(false);
    const left = await state.reportFailure('w1', breaker);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(60_000);
    expect((await state.cooldowns()).get('w1')).toBeLessThanOrEqual(60_000);
    await state.reportSuccess('w1');
    expect((await state.cooldowns()).has('w1')).toBe(false);
    expect(await state.reportFailure('w1', breaker)).toBe(0); // the count restarted
  });

  it("cools a worker for an upstream's Retry-After in the same failure report, below the threshold too", async () => {
    const breaker = { failureThreshold: 5, cooldownMs: 60_000 };
    const left = await state.reportFailure('w3', breaker, { cooldownMs: 45_000 });
    expect(left).toBeGreaterThan(30_000);
    expect(left).toBeLessThanOrEqual(45_000);
    expect((await state.cooldowns()).get('w3')).toBeLessThanOrEqual(45_000);
    // A shorter forced cooldown never shortens a longer one.
    expect(await state.reportFailure('w3', breaker, { cooldownMs: 10 })).toBeGreaterThan(30_000);
    await state.reportSuccess('w3');
    expect((await state.cooldowns()).has('w3')).toBe(false);
  });

  it('ends a cooldown when its time is up', async () => {
    await state.coolDown('w2', 150);
    expect((await state.cooldowns()).has('w2')).toBe(true);
    await eventually(async () => !(await state.cooldowns()).has('w2'));
  });

  it('stores keys hashed: the secret once, lookups by secret, updates, revocation', async () => {
    const { key, record } = await state.createKey({ name: 'team-a', rateLimit: { requestsPerMinute: 60 } });
    expect(key).toMatch(/^sk-of-[A-Za-z0-9_-]{32}$/);
    expect(record).toMatchObject({
      name: 'team-a',
      prefix: key.slice(0, 10),
      rateLimit: { requestsPerMinute: 60 },
    });
    expect(await state.lookupKey(key)).toEqual(record);
    expect(await state.lookupKey(`${key}x`)).toBeUndefined();
    const listed = await state.listKeys();
    expect(listed.find((entry) => entry.id === record.id)).toEqual(record);
    expect(JSON.stringify(listed)).not.toContain(key);
    expect(JSON.stringify(listed)).not.toContain('hash');
    const updated = await state.updateKey(record.id, {
      rateLimit: null,
      budgets: { daily: 5 },
      maxConcurrent: 3,
    });
    expect(updated).toMatchObject({ name: 'team-a', budgets: { daily: 5 }, maxConcurrent: 3 });
    expect(updated?.rateLimit).toBeUndefined();
    expect(await state.lookupKey(key)).toEqual(updated);
    expect(await state.revokeKey(record.id)).toBe(true);
    expect(await state.lookupKey(key)).toBeUndefined();
    expect(await state.revokeKey(record.id)).toBe(false);
    expect(await state.updateKey(record.id, { maxConcurrent: 1 })).toBeUndefined();
    expect((await state.getKey(record.id))?.revokedAt).toBeGreaterThan(0);
    expect(await state.getKey('key_missing')).toBeUndefined();
  });

  it('reports a healthy status', () => {
    expect(state.status()).toMatchObject({ connected: true, lastError: undefined });
  });
}

async function settle(state: SharedState, scope: string, usd: number): Promise<void> {
  const decision = await state.reserveBudget(scope, {}, usd);
  if (!decision.reserved) throw new Error('an unlimited reservation was refused');
  await state.settleBudget(decision.reservation, usd);
}

describe('SharedState contract: memory', () => {
  contract(async () => createMemoryState());
});

describeWithRedis('SharedState contract: redis', () => {
  let redis: TestRedis;
  let count = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  contract(async () => {
    const state = createRedisState({ url: redis.url, keyPrefix: `contract${count++}:` });
    expect(await state.ready(10_000)).toBe(true);
    return state;
  });
});
