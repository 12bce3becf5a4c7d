/**
 * Sharing on a real redis-server: several connections and several processes race for the same limits and
 * get exactly what the limits allow; cooldowns and keys written through one connection are seen by the
 * others on their next call; Redis killed and restarted: the failure policy answers, nothing throws, the
 * sharing resumes.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createRedisState,
  type RedisState,
  registerStateMetrics,
  type SharedState,
  StateUnavailableError,
} from '../src/index.js';
import { describeWithRedis, startRedis, type TestRedis } from './redis-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SLOW = { requestsPerMinute: 1 / 60, burst: 10 };

describeWithRedis('Redis state shared by several connections and processes', () => {
  let redis: TestRedis;
  let prefixCount = 0;
  const open: RedisState[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const state of open) await state.close();
    await redis?.stop();
  });

  /** `count` states (separate connections) on one fresh key prefix. */
  async function connections(count: number, options: Partial<Parameters<typeof createRedisState>[0]> = {}) {
    const keyPrefix = `share${prefixCount++}:`;
    const states = Array.from({ length: count }, () =>
      createRedisState({ url: redis.url, keyPrefix, ...options }),
    );
    open.push(...states);
    for (const state of states) expect(await state.ready(10_000)).toBe(true);
    return { states, keyPrefix };
  }

  it('lets exactly the burst through when 300 checks race over 4 connections', async () => {
    const { states } = await connections(4);
    const decisions = await Promise.all(
      Array.from({ length: 300 }, (_, index) => states[index % 4]!.takeRate('key:race', SLOW)),
    );
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(10);
    for (const decision of decisions) if (!decision.allowed) expect(decision.retryAfterMs).toBeGreaterThan(0);
    for (const state of states) expect(state.status().degraded.rateLimits).toBe(0);
  });

  it('lets exactly the burst through when 3 processes race with 100 checks each', async () => {
    const { keyPrefix } = await connections(0);
    const results = await raceChildren(redis.url, keyPrefix, 'rate', 3, 100);
    expect(results.reduce((sum, result) => sum + result.granted, 0)).toBe(10);
    expect(results.reduce((sum, result) => sum + result.refused, 0)).toBe(290);
  }, 90_000);

  it('holds a budget across 3 processes: no more reservations than the budget covers', async () => {
    const { states, keyPrefix } = await connections(1);
    const results = await raceChildren(redis.url, keyPrefix, 'budget', 3, 40);
    // 0.05 USD at 0.001 per request (estimate = real cost): exactly 50 of 120 run.
    expect(results.reduce((sum, result) => sum + result.granted, 0)).toBe(50);
    const [daily] = await states[0]!.budgetUsage('key:race', { daily: 0.05 });
    expect(daily!.spentUsd).toBeCloseTo(0.05, 12);
    expect(daily!.reservedUsd).toBe(0);
  }, 90_000);

  it('grants exactly max concurrency slots to 200 racing acquisitions', async () => {
    const { states } = await connections(4);
    const decisions = await Promise.all(
      Array.from({ length: 200 }, (_, index) => states[index % 4]!.acquireSlot('key:slots', { max: 7 })),
    );
    const held = decisions.filter((decision) => decision.acquired);
    expect(held).toHaveLength(7);
    for (const decision of held) if (decision.acquired) await states[1]!.releaseSlot(decision.lease);
    expect((await states[2]!.acquireSlot('key:slots', { max: 7 })).acquired).toBe(true);
  });

  it('bounds spend under racing reservations: settled spend never passes the budget when estimates hold', async () => {
    const { states } = await connections(4);
    const budgets = { daily: 0.05 };
    const decisions = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        states[index % 4]!.reserveBudget('key:spend', budgets, 0.001 + (index % 5) * 0.0005),
      ),
    );
    const refused = decisions.filter((decision) => !decision.reserved);
    expect(refused.length).toBeGreaterThan(0);
    for (const decision of refused) if (!decision.reserved) expect(decision.exceeded.window).toBe('daily');
    // Each request's real cost is at most its estimate.
    await Promise.all(
      decisions.map((decision, index) =>
        decision.reserved
          ? states[(index + 1) % 4]!.settleBudget(
              decision.reservation,
              decision.reservation.estimateUsd * 0.9,
            )
          : undefined,
      ),
    );
    const [daily] = await states[3]!.budgetUsage('key:spend', budgets);
    expect(daily!.spentUsd).toBeLessThanOrEqual(0.05 + 1e-12);
    expect(daily!.reservedUsd).toBe(0);
  });

  it('bounds overspend by one underestimate per replica when real costs exceed estimates', async () => {
    const { states } = await connections(3);
    const budgets = { daily: 0.05 };
    const estimate = 0.001;
    const actual = 0.0015; // each request costs half again its estimate
    const granted = [0, 0, 0];
    await Promise.all(
      states.map(async (state, replica) => {
        // One request in flight per replica at a time, until the budget refuses.
        for (;;) {
          const decision = await state.reserveBudget('key:under', budgets, estimate);
          if (!decision.reserved) {
            expect(decision.exceeded.window).toBe('daily');
            return;
          }
          granted[replica]!++;
          await new Promise((resolve) => setTimeout(resolve, 1 + (replica % 2)));
          await state.settleBudget(decision.reservation, actual);
        }
      }),
    );
    const [daily] = await states[0]!.budgetUsage('key:under', budgets);
    expect(daily!.spentUsd).toBeCloseTo(granted.reduce((sum, count) => sum + count, 0) * actual, 12);
    expect(daily!.spentUsd).toBeLessThanOrEqual(0.05 + 3 * (actual - estimate) + 1e-12);
    expect(daily!.spentUsd).toBeGreaterThan(0.05 - estimate);
  });

  it('shows a cooldown opened through one connection to the others on their next call', async () => {
    const { states } = await connections(3);
    const [a, b, c] = states as [RedisState, RedisState, RedisState];
    expect(await a.reportFailure('worker-x', { failureThreshold: 1, cooldownMs: 300 })).toBeGreaterThan(0);
    expect((await b.cooldowns()).has('worker-x')).toBe(true);
    expect((await c.cooldowns()).has('worker-x')).toBe(true);
    const deadline = Date.now() + 10_000;
    while ((await b.cooldowns()).has('worker-x') || (await c.cooldowns()).has('worker-x')) {
      if (Date.now() > deadline) throw new Error('cooldown never ended');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await a.cooldowns()).has('worker-x')).toBe(false);
  });

  it('authenticates a key created through one connection on another; revoked, it fails on all', async () => {
    const { states } = await connections(3);
    const [a, b, c] = states as [RedisState, RedisState, RedisState];
    const { key, record } = await a.createKey({ name: 'shared', budgets: { daily: 1 } });
    expect((await b.lookupKey(key))?.id).toBe(record.id);
    expect((await c.lookupKey(key))?.id).toBe(record.id);
    expect(await c.revokeKey(record.id)).toBe(true);
    expect(await a.lookupKey(key)).toBeUndefined();
    expect(await b.lookupKey(key)).toBeUndefined();
  });

  it('survives Redis being killed and restarted: policy applied, nothing thrown, sharing resumed', async () => {
    const { states } = await connections(2, { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    const [a, b] = states as [RedisState, RedisState];
    const registry = new Registry();
    registerStateMetrics(registry, a);
    const { key } = await a.createKey({ name: 'survivor' });
    expect(await a.lookupKey(key)).toBeDefined(); // seen valid: cached on a
    const reservation = await a.reserveBudget('key:outage', { daily: 1 }, 0.01);
    if (!reservation.reserved) throw new Error('expected a reservation');

    await redis.kill();
    const deadline = Date.now() + 10_000;
    while (a.status().connected) {
      if (Date.now() > deadline) throw new Error('the loss of Redis was never noticed');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Rate limits and concurrency fall back to this replica's memory.
    expect((await a.takeRate('key:outage', { requestsPerMinute: 1 / 60, burst: 1 })).allowed).toBe(true);
    expect((await a.takeRate('key:outage', { requestsPerMinute: 1 / 60, burst: 1 })).allowed).toBe(false);
    const slot = await a.acquireSlot('key:outage', { max: 1 });
    expect(slot.acquired).toBe(true);
    if (slot.acquired) await a.releaseSlot(slot.lease);
    // Budgets fail closed.
    await expect(a.reserveBudget('key:outage', { daily: 1 }, 0.01)).rejects.toBeInstanceOf(
      StateUnavailableError,
    );
    // A request that already ran is settled later, not lost.
    await a.settleBudget(reservation.reservation, 0.007);
    // Keys: the one a saw is still served from its cache; b never saw it.
    expect((await a.lookupKey(key))?.name).toBe('survivor');
    await expect(b.lookupKey(key)).rejects.toBeInstanceOf(StateUnavailableError);
    // Admin writes fail closed; health falls back to memory.
    await expect(a.createKey({ name: 'during-outage' })).rejects.toBeInstanceOf(StateUnavailableError);
    expect(await a.reportFailure('worker-y', { failureThreshold: 1, cooldownMs: 60_000 })).toBeGreaterThan(0);
    const status = a.status();
    expect(status.connected).toBe(false);
    expect(await registry.metrics()).toContain('openfugu_state_connected{backend="redis"} 0');
    expect(status.lastError).toBeDefined();
    expect(status.degraded.rateLimits).toBeGreaterThanOrEqual(2);
    expect(status.degraded.budgets).toBeGreaterThanOrEqual(2);

    await redis.restart();
    expect(await a.ready(15_000)).toBe(true);
    expect(await b.ready(15_000)).toBe(true);
    expect(a.status().connected).toBe(true);
    expect(await registry.metrics()).toContain('openfugu_state_connected{backend="redis"} 1');
    // The settlement made during the outage reached Redis (the restarted one has no other data).
    const deadlineFlush = Date.now() + 10_000;
    for (;;) {
      const [daily] = await b.budgetUsage('key:outage', { daily: 1 });
      if (daily!.spentUsd > 0) {
        expect(daily!.spentUsd).toBeCloseTo(0.007, 12);
        break;
      }
      if (Date.now() > deadlineFlush) throw new Error('pending settlement was never replayed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Sharing resumed: a limit taken through a is seen by b.
    const limits = { requestsPerMinute: 1 / 60, burst: 1 };
    expect((await a.takeRate('key:after', limits)).allowed).toBe(true);
    expect((await b.takeRate('key:after', limits)).allowed).toBe(false);
    await b.coolDown('worker-z', 60_000);
    expect((await a.cooldowns()).has('worker-z')).toBe(true);
  });

  it('answers every call of a load run in which Redis is killed and restarted: none hangs, none throws', async () => {
    const { states } = await connections(2, {
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      commandTimeoutMs: 300,
    });
    const outcomes = { ok: 0, unavailable: 0, other: [] as unknown[] };
    let slowestMs = 0;
    let running = true;
    const request = async (state: SharedState): Promise<void> => {
      const [, slot, budget] = await Promise.all([
        state.takeRate('key:load', { requestsPerMinute: 1e6 }),
        state.acquireSlot('key:load', { max: 1000 }),
        state.reserveBudget('key:load', { daily: 1000 }, 0.001),
        state.cooldowns(),
      ]);
      await Promise.all([
        budget.reserved ? state.settleBudget(budget.reservation, 0.001) : undefined,
        slot.acquired ? state.releaseSlot(slot.lease) : undefined,
      ]);
    };
    const loop = async (state: SharedState): Promise<void> => {
      while (running) {
        const started = performance.now();
        try {
          await request(state);
          outcomes.ok++;
        } catch (error) {
          if (error instanceof StateUnavailableError) outcomes.unavailable++;
          else outcomes.other.push(error);
        }
        slowestMs = Math.max(slowestMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const loops = Array.from({ length: 8 }, (_, index) => loop(states[index % 2]!));
    await pause(300);
    const okBefore = outcomes.ok;
    await redis.kill();
    await pause(500);
    await redis.restart();
    for (const state of states) expect(await state.ready(15_000)).toBe(true);
    const okAfterRestart = outcomes.ok;
    await pause(300);
    running = false;
    await Promise.all(loops);
    expect(outcomes.other).toEqual([]);
    expect(okBefore).toBeGreaterThan(0);
    expect(outcomes.unavailable).toBeGreaterThan(0); // budgets fail closed while Redis is away
    expect(outcomes.ok).toBeGreaterThan(okAfterRestart); // and serve again after
    // No call waited for Redis: each is bounded by commandTimeoutMs (300 ms) per round trip; 10 s is a wide margin.
    expect(slowestMs).toBeLessThan(10_000);
  });
});

interface ChildResult {
  granted: number;
  refused: number;
}

/** Forks `processes` children on one key prefix, releases them together, and collects their counts. */
async function raceChildren(
  url: string,
  keyPrefix: string,
  op: 'rate' | 'budget',
  processes: number,
  count: number,
): Promise<ChildResult[]> {
  const children = Array.from({ length: processes }, () =>
    fork(path.join(here, 'fixtures', 'state-child.ts'), [], {
      cwd: path.resolve(here, '..'),
      execArgv: ['--conditions=@openfugu/source', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  try {
    const ready = children.map((child) => once(child, 'message'));
    for (const child of children) child.send({ url, keyPrefix, op, scope: 'key:race', count });
    await Promise.all(ready);
    const results = children.map((child) => once(child, 'message'));
    for (const child of children) child.send('go');
    return (await Promise.all(results)).map(([message]) => message as ChildResult);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}
