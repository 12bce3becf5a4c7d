import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { toErrorResponse } from '../errors.js';
import { createMemoryState } from './memory-state.js';
import { registerStateMetrics } from './state-metrics.js';
import { BudgetExceededError, StateUnavailableError } from './types.js';

/** A hand-driven clock. */
function clock(start: string) {
  let t = Date.parse(start);
  return {
    now: () => t,
    advance: (ms: number): void => {
      t += ms;
    },
  };
}

describe('createMemoryState with an injected clock', () => {
  it('refills the request bucket at requestsPerMinute and says exactly how long to wait', async () => {
    const time = clock('2026-12-04T10:00:00.000Z');
    const state = createMemoryState({ now: time.now });
    const limits = { requestsPerMinute: 60, burst: 2 };
    expect((await state.takeRate('k', limits)).allowed).toBe(true);
    expect((await state.takeRate('k', limits)).allowed).toBe(true);
    expect(await state.takeRate('k', limits)).toEqual({
      allowed: false,
      limit: 'requests',
      retryAfterMs: 1000,
    });
    time.advance(500);
    expect(await state.takeRate('k', limits)).toEqual({
      allowed: false,
      limit: 'requests',
      retryAfterMs: 500,
    });
    time.advance(500);
    expect((await state.takeRate('k', limits)).allowed).toBe(true);
  });

  it('forgets an idle bucket only once it is full again', async () => {
    const time = clock('2026-12-04T10:00:00.000Z');
    const state = createMemoryState({ now: time.now });
    const limits = { requestsPerMinute: 0.1, burst: 10 }; // one request per 10 minutes
    for (let i = 0; i < 10; i++) expect((await state.takeRate('k', limits)).allowed).toBe(true);
    time.advance(11 * 60_000); // long idle, but only 1.1 requests refilled
    expect((await state.takeRate('k', limits)).allowed).toBe(true);
    expect((await state.takeRate('k', limits)).allowed).toBe(false);
  });

  it('refills the token bucket at tokensPerMinute and clips a request larger than the bucket', async () => {
    const time = clock('2026-12-04T10:00:00.000Z');
    const state = createMemoryState({ now: time.now });
    const limits = { tokensPerMinute: 600, tokenBurst: 100 };
    expect((await state.takeRate('k', limits, { tokens: 100 })).allowed).toBe(true);
    expect(await state.takeRate('k', limits, { tokens: 50 })).toEqual({
      allowed: false,
      limit: 'tokens',
      retryAfterMs: 5000,
    });
    // 10 000 tokens wait for a full bucket (100 tokens = 10 s), not forever.
    expect(await state.takeRate('k', limits, { tokens: 10_000 })).toEqual({
      allowed: false,
      limit: 'tokens',
      retryAfterMs: 10_000,
    });
    time.advance(10_000);
    expect((await state.takeRate('k', limits, { tokens: 10_000 })).allowed).toBe(true);
  });

  it('frees a slot exactly when its lease ends', async () => {
    const time = clock('2026-12-04T10:00:00.000Z');
    const state = createMemoryState({ now: time.now });
    expect((await state.acquireSlot('k', { max: 1, leaseMs: 1000 })).acquired).toBe(true);
    time.advance(999);
    expect((await state.acquireSlot('k', { max: 1 })).acquired).toBe(false);
    time.advance(1);
    expect((await state.acquireSlot('k', { max: 1 })).acquired).toBe(true);
  });

  it('starts a new daily window at UTC midnight and a new monthly one on the 1st', async () => {
    const time = clock('2026-12-31T23:59:59.000Z');
    const state = createMemoryState({ now: time.now });
    const budgets = { daily: 0.01, monthly: 0.015, total: 1 };
    const first = await state.reserveBudget('k', budgets, 0.01);
    if (!first.reserved) throw new Error('expected a reservation');
    await state.settleBudget(first.reservation, 0.01);
    const refused = await state.reserveBudget('k', budgets, 0.001);
    expect(refused).toEqual({
      reserved: false,
      exceeded: {
        window: 'daily',
        limitUsd: 0.01,
        spentUsd: 0.01,
        reservedUsd: 0,
        resetAt: Date.parse('2027-01-01T00:00:00.000Z'),
      },
    });
    time.advance(1000);
    const usage = await state.budgetUsage('k', budgets);
    expect(usage.map((window) => window.spentUsd)).toEqual([0, 0, 0.01]);
    expect((await state.reserveBudget('k', budgets, 0.01)).reserved).toBe(true);
  });

  it('lets a reservation lapse exactly at the end of its lease', async () => {
    const time = clock('2026-12-04T10:00:00.000Z');
    const state = createMemoryState({ now: time.now });
    expect((await state.reserveBudget('k', { total: 1 }, 1, { leaseMs: 1000 })).reserved).toBe(true);
    time.advance(999);
    expect((await state.reserveBudget('k', { total: 1 }, 0.5)).reserved).toBe(false);
    time.advance(1);
    expect((await state.reserveBudget('k', { total: 1 }, 0.5)).reserved).toBe(true);
  });

  it('ends a cooldown exactly on time and re-opens the circuit on the next failure', async () => {
    const time = clock('2026-12-04T10:00:00.000Z');
    const state = createMemoryState({ now: time.now });
    expect(await state.reportFailure('w', { failureThreshold: 1, cooldownMs: 1000 })).toBe(1000);
    time.advance(999);
    expect(await state.cooldowns()).toEqual(new Map([['w', 1]]));
    time.advance(1);
    expect(await state.cooldowns()).toEqual(new Map());
    expect(await state.reportFailure('w', { failureThreshold: 1, cooldownMs: 1000 })).toBe(1000);
  });
});

describe('state errors on the wire', () => {
  it('an exhausted budget is an OpenAI budget_exceeded error naming the window and its reset', () => {
    const resetAt = Date.parse('2026-12-05T00:00:00.000Z');
    const error = new BudgetExceededError(
      { window: 'daily', limitUsd: 5, spentUsd: 5, reservedUsd: 0, resetAt },
      resetAt - 3_600_000,
    );
    const response = toErrorResponse(error);
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBe('3600');
    expect(response.body.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    expect(response.body.error.message).toContain('daily budget');
    expect(response.body.error.message).toContain('2026-12-05T00:00:00.000Z');
  });

  it('a total budget has no reset and no Retry-After; an unreachable state is a 503', () => {
    const total = toErrorResponse(
      new BudgetExceededError({
        window: 'total',
        limitUsd: 1,
        spentUsd: 1,
        reservedUsd: 0,
        resetAt: undefined,
      }),
    );
    expect(total.headers['retry-after']).toBeUndefined();
    expect(total.body.error.message).toContain('does not reset');
    const down = toErrorResponse(new StateUnavailableError('budgets'));
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('state_unavailable');
  });
});

describe('registerStateMetrics', () => {
  it('exposes connectivity and degraded calls per concern', async () => {
    const registry = new Registry();
    const state = createMemoryState();
    registerStateMetrics(registry, state);
    const text = await registry.metrics();
    expect(text).toContain('openfugu_state_connected{backend="memory"} 1');
    expect(text).toContain('openfugu_state_degraded_calls{concern="budgets"} 0');
  });
});
