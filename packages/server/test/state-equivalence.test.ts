/**
 * The memory and Redis states are one contract: random sequences of checks (fast-check) get the same
 * decisions from both. Refill rates are far too slow to change an outcome during a run, so the comparison
 * is exact (retry times aside: they depend on each clock).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type BudgetReservation,
  createMemoryState,
  createRedisState,
  type SharedState,
  type SlotLease,
} from '../src/index.js';
import { describeWithRedis, startRedis, type TestRedis } from './redis-server.js';

const RATE = 1e-6; // per minute: nothing refills during a run
const scope = fc.constantFrom('key:a', 'key:b');
const command = fc.oneof(
  fc.record({
    op: fc.constant('rate' as const),
    scope,
    burst: fc.integer({ min: 1, max: 4 }),
    tokens: fc.integer({ min: 0, max: 30 }),
    only: fc.constantFrom('both', 'requests', 'tokens'),
  }),
  fc.record({ op: fc.constant('adjust' as const), scope, delta: fc.integer({ min: -15, max: 15 }) }),
  fc.record({ op: fc.constant('acquire' as const), scope, max: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('release' as const), index: fc.nat() }),
  fc.record({ op: fc.constant('reserve' as const), scope, estimate: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ op: fc.constant('settle' as const), index: fc.nat(), actual: fc.integer({ min: 0, max: 6 }) }),
  fc.record({
    op: fc.constant('admit' as const),
    scope,
    burst: fc.integer({ min: 1, max: 4 }),
    tokens: fc.integer({ min: 0, max: 30 }),
    max: fc.integer({ min: 1, max: 3 }),
    estimate: fc.integer({ min: 0, max: 4 }),
  }),
  fc.record({
    op: fc.constant('fail' as const),
    worker: fc.constantFrom('w1', 'w2'),
    threshold: fc.integer({ min: 1, max: 3 }),
    // An upstream 429's Retry-After (0: none), shorter or longer than the breaker's cooldown.
    forced: fc.constantFrom(0, 300_000, 900_000),
  }),
  fc.record({ op: fc.constant('succeed' as const), worker: fc.constantFrom('w1', 'w2') }),
);
type Command = typeof command extends fc.Arbitrary<infer T> ? T : never;

/** Runs the commands on one state and returns a comparable trace of its answers. */
async function trace(state: SharedState, commands: readonly Command[]): Promise<unknown[]> {
  const leases: SlotLease[] = [];
  const reservations: BudgetReservation[] = [];
  const out: unknown[] = [];
  const tokenLimits = (burst: number) => ({
    requestsPerMinute: RATE,
    burst,
    tokensPerMinute: RATE,
    tokenBurst: 20,
  });
  for (const c of commands) {
    switch (c.op) {
      case 'rate': {
        const { requestsPerMinute, burst, tokensPerMinute, tokenBurst } = tokenLimits(c.burst);
        const limits =
          c.only === 'requests'
            ? { requestsPerMinute, burst }
            : c.only === 'tokens'
              ? { tokensPerMinute, tokenBurst }
              : tokenLimits(c.burst);
        const decision = await state.takeRate(c.scope, limits, { tokens: c.tokens });
        out.push(decision.allowed ? 'allowed' : decision.limit);
        break;
      }
      case 'adjust':
        await state.adjustTokens(c.scope, tokenLimits(1), c.delta);
        break;
      case 'acquire': {
        const decision = await state.acquireSlot(c.scope, { max: c.max });
        if (decision.acquired) leases.push(decision.lease);
        out.push(decision.acquired ? 'slot' : `full ${decision.active}`);
        break;
      }
      case 'release':
        if (leases.length) await state.releaseSlot(leases.splice(c.index % leases.length, 1)[0]!);
        break;
      case 'reserve': {
        const decision = await state.reserveBudget(c.scope, { daily: 0.01, total: 0.012 }, c.estimate / 1000);
        if (decision.reserved) reservations.push(decision.reservation);
        out.push(
          decision.reserved
            ? 'reserved'
            : [decision.exceeded.window, decision.exceeded.spentUsd, decision.exceeded.reservedUsd],
        );
        break;
      }
      case 'settle':
        if (reservations.length)
          await state.settleBudget(
            reservations.splice(c.index % reservations.length, 1)[0]!,
            c.actual / 1000,
          );
        break;
      case 'admit': {
        const decision = await state.admit({
          scope: c.scope,
          rate: tokenLimits(c.burst),
          tokens: c.tokens,
          slot: { max: c.max },
          budget: { budgets: { daily: 0.01, total: 0.012 }, estimateUsd: c.estimate / 1000 },
        });
        if (decision.admitted) {
          if (decision.lease) leases.push(decision.lease);
          if (decision.reservation) reservations.push(decision.reservation);
        }
        out.push(
          decision.admitted
            ? 'admitted'
            : decision.refusedBy === 'rate'
              ? decision.rate.limit
              : decision.refusedBy === 'concurrency'
                ? `full ${decision.active}`
                : [decision.exceeded.window, decision.exceeded.spentUsd, decision.exceeded.reservedUsd],
        );
        break;
      }
      case 'fail':
        out.push(
          (await state.reportFailure(
            c.worker,
            { failureThreshold: c.threshold, cooldownMs: 600_000 },
            c.forced > 0 ? { cooldownMs: c.forced } : undefined,
          )) > 0,
        );
        break;
      case 'succeed':
        await state.reportSuccess(c.worker);
        break;
    }
  }
  out.push([...(await state.cooldowns()).keys()].sort());
  for (const name of ['key:a', 'key:b'])
    out.push(await state.budgetUsage(name, { daily: 0.01, monthly: 1, total: 0.012 }));
  return out;
}

describeWithRedis('memory and Redis states answer alike (property)', () => {
  let redis: TestRedis;
  let run = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('gives the same decisions for random command sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
        const shared = createRedisState({ url: redis.url, keyPrefix: `eq${run++}:` });
        try {
          expect(await shared.ready(10_000)).toBe(true);
          const expected = await trace(createMemoryState(), commands);
          expect(await trace(shared, commands)).toEqual(expected);
          expect(shared.status().degraded).toEqual({
            rateLimits: 0,
            concurrency: 0,
            budgets: 0,
            keys: 0,
            health: 0,
          });
        } finally {
          await shared.close();
        }
      }),
      { numRuns: 100, seed: 14 },
    );
  }, 120_000);
});
