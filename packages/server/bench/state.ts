/**
 * Latency of the shared-state checks: the in-memory state against the Redis state (a real redis-server on
 * loopback, started here without persistence), measured in the same run, interleaved in slices so both see
 * the same machine.
 *
 * Two tables:
 *  - per check: each operation called one at a time (`BENCH_STATE_CALLS` calls each), p50/p99 in ms;
 *  - the whole hot path of one request (key lookup, key and upstream rate checks, concurrency slot, budget
 *    reservation, cooldown list; then settlement, token correction, release) paced at `BENCH_STATE_RATE`
 *    requests per second for `BENCH_STATE_SECONDS` per row, p50/p99 of the check time per request, made one
 *    by one (nine round trips) and grouped as the gateway should (three round trips).
 *
 *   pnpm --filter @openfugu/server bench:state
 *   REDIS_URL=redis://10.0.0.5:6379 pnpm --filter @openfugu/server bench:state   # an existing Redis
 */
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import {
  type AdmitRequest,
  type BudgetReservation,
  createMemoryState,
  createRedisState,
  type SharedState,
  type SlotLease,
} from '../src/index.js';
import { startRedis, type TestRedis } from '../test/redis-process.js';
import { quantile } from './paced.js';

const calls = Number(process.env.BENCH_STATE_CALLS ?? 5_000);
const rate = Number(process.env.BENCH_STATE_RATE ?? 1_000);
const seconds = Number(process.env.BENCH_STATE_SECONDS ?? 5);
const slices = Number(process.env.BENCH_STATE_SLICES ?? 5);
const sizingScopes = Number(process.env.BENCH_STATE_SCOPES ?? 10_000);

const KEY_LIMITS = { requestsPerMinute: 1e9, burst: 1e9, tokensPerMinute: 1e12, tokenBurst: 1e12 };
const UPSTREAM_LIMITS = { requestsPerMinute: 1e9, tokensPerMinute: 1e12 };
const BUDGETS = { daily: 1e6, monthly: 1e6, total: 1e6 };

type Operation = (state: SharedState, secret: string) => Promise<unknown>;

const OPERATIONS: Record<string, Operation> = {
  lookupKey: (state, secret) => state.lookupKey(secret),
  takeRate: (state) => state.takeRate('key:bench', KEY_LIMITS, { tokens: 500 }),
  'acquire+release slot': async (state) => {
    const decision = await state.acquireSlot('key:bench', { max: 1_000_000 });
    if (decision.acquired) await state.releaseSlot(decision.lease);
  },
  'reserve+settle budget': async (state) => {
    const decision = await state.reserveBudget('key:bench', BUDGETS, 0.001);
    if (decision.reserved) await state.settleBudget(decision.reservation, 0.0008);
  },
  cooldowns: (state) => state.cooldowns(),
  'admit (rate+slot+budget+cooldowns) + settle/release': async (state) => {
    const decision = await state.admit(admission('key:bench'));
    if (decision.admitted) await finish(state, 'key:bench', decision.lease, decision.reservation);
  },
  'whole request with admit (3 round trips)': (state, secret) => admitPath(state, secret),
  'whole request one by one (9 round trips)': (state, secret) => sequentialPath(state, secret),
};

/** What one request asks of `admit`. */
function admission(scope: string): AdmitRequest {
  return {
    scope,
    rate: KEY_LIMITS,
    tokens: 500,
    slot: { max: 1_000_000 },
    budget: { budgets: BUDGETS, estimateUsd: 0.001 },
  };
}

/** The after-run bookkeeping, together (one round trip when pipelined). */
async function finish(
  state: SharedState,
  scope: string,
  lease: SlotLease | undefined,
  reservation: BudgetReservation | undefined,
): Promise<void> {
  await Promise.all([
    reservation ? state.settleBudget(reservation, 0.0008) : undefined,
    state.adjustTokens(scope, KEY_LIMITS, -100),
    lease ? state.releaseSlot(lease) : undefined,
  ]);
}

/** The checks of one request one after the other: nine round trips. */
async function sequentialPath(state: SharedState, secret: string): Promise<void> {
  const key = await state.lookupKey(secret);
  if (!key) throw new Error('bench key not found');
  await state.takeRate(`key:${key.id}`, KEY_LIMITS, { tokens: 500 });
  const slot = await state.acquireSlot(`key:${key.id}`, { max: 1_000_000 });
  const budget = await state.reserveBudget(`key:${key.id}`, BUDGETS, 0.001);
  await state.cooldowns();
  await state.takeRate('upstream:fast', UPSTREAM_LIMITS, { tokens: 500 });
  if (budget.reserved) await state.settleBudget(budget.reservation, 0.0008);
  await state.adjustTokens(`key:${key.id}`, KEY_LIMITS, -100);
  if (slot.acquired) await state.releaseSlot(slot.lease);
}

/**
 * The same checks grouped as the gateway should make them: the key first, then the independent admission
 * checks together, then the after-run bookkeeping together. ioredis pipelines concurrent commands on its one
 * connection, so this is three round trips.
 */
async function groupedPath(state: SharedState, secret: string): Promise<void> {
  const key = await state.lookupKey(secret);
  if (!key) throw new Error('bench key not found');
  const scope = `key:${key.id}`;
  const [, slot, budget] = await Promise.all([
    state.takeRate(scope, KEY_LIMITS, { tokens: 500 }),
    state.acquireSlot(scope, { max: 1_000_000 }),
    state.reserveBudget(scope, BUDGETS, 0.001),
    state.cooldowns(),
    state.takeRate('upstream:fast', UPSTREAM_LIMITS, { tokens: 500 }),
  ]);
  await Promise.all([
    budget.reserved ? state.settleBudget(budget.reservation, 0.0008) : undefined,
    state.adjustTokens(scope, KEY_LIMITS, -100),
    slot.acquired ? state.releaseSlot(slot.lease) : undefined,
  ]);
}

/** The same request with `admit`: key, then one script for the admission (beside the upstream check), then bookkeeping. */
async function admitPath(state: SharedState, secret: string): Promise<void> {
  const key = await state.lookupKey(secret);
  if (!key) throw new Error('bench key not found');
  const scope = `key:${key.id}`;
  const [decision] = await Promise.all([
    state.admit(admission(scope)),
    state.takeRate('upstream:fast', UPSTREAM_LIMITS, { tokens: 500 }),
  ]);
  if (decision.admitted) await finish(state, scope, decision.lease, decision.reservation);
}

const PATHS = { sequential: sequentialPath, grouped: groupedPath, admit: admitPath };

async function timeEach(
  state: SharedState,
  secret: string,
  operation: Operation,
  count: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await operation(state, secret);
    times.push(performance.now() - started);
  }
  return times;
}

/** Starts one hot path every 1/rate s (open loop) and records each one's duration. */
async function pacedHotPath(
  state: SharedState,
  secret: string,
  durationS: number,
  path: (state: SharedState, secret: string) => Promise<void>,
): Promise<number[]> {
  const times: number[] = [];
  const total = Math.round(rate * durationS);
  const begin = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = begin + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const started = performance.now();
    running.push(path(state, secret).then(() => void times.push(performance.now() - started)));
  }
  await Promise.all(running);
  return times;
}

const fmt = (value: number) => value.toFixed(3);

async function main(): Promise<void> {
  const redis: TestRedis | undefined = process.env.REDIS_URL ? undefined : await startRedis();
  const url = process.env.REDIS_URL ?? redis!.url;
  const backends: Record<string, SharedState> = {
    memory: createMemoryState(),
    redis: createRedisState({ url, keyPrefix: `bench:${process.pid}:` }),
  };
  const redisState = backends.redis as ReturnType<typeof createRedisState>;
  if (!(await redisState.ready(10_000))) throw new Error(`cannot reach Redis at ${url}`);
  const secrets: Record<string, string> = {};
  for (const [name, state] of Object.entries(backends)) {
    secrets[name] = (await state.createKey({ name: 'bench' })).key;
    await timeEach(state, secrets[name]!, groupedPath, 500); // warm-up (JIT, script cache)
  }

  const load = () => loadavg()[0]!.toFixed(2);
  console.log(`# shared-state bench ${new Date().toISOString()}`);
  console.log(
    `node ${process.version}, ${cpus().length} cores, load average at start ${load()}, redis ${redis ? 'started here on loopback' : url}`,
  );

  const perCheck: Record<string, Record<string, number[]>> = {};
  for (let slice = 0; slice < slices; slice++) {
    for (const [operation, run] of Object.entries(OPERATIONS)) {
      for (const [name, state] of Object.entries(backends)) {
        const times = await timeEach(state, secrets[name]!, run, Math.ceil(calls / slices));
        const row = perCheck[operation] ?? {};
        perCheck[operation] = row;
        row[name] = [...(row[name] ?? []), ...times];
      }
    }
  }
  console.log(`\n## one check at a time (${calls} calls each, ${slices} interleaved slices), ms`);
  console.log('| check | memory p50 | memory p99 | redis p50 | redis p99 | added p50 |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [operation, byBackend] of Object.entries(perCheck)) {
    const memory = byBackend.memory!;
    const shared = byBackend.redis!;
    console.log(
      `| ${operation} | ${fmt(quantile(memory, 0.5))} | ${fmt(quantile(memory, 0.99))} | ${fmt(quantile(shared, 0.5))} | ${fmt(quantile(shared, 0.99))} | ${fmt(quantile(shared, 0.5) - quantile(memory, 0.5))} |`,
    );
  }

  const paced: Record<string, number[]> = {};
  for (let slice = 0; slice < slices; slice++) {
    for (const [pathName, path] of Object.entries(PATHS)) {
      for (const [name, state] of Object.entries(backends)) {
        const row = `${name} ${pathName}`;
        paced[row] = [
          ...(paced[row] ?? []),
          ...(await pacedHotPath(state, secrets[name]!, seconds / slices, path)),
        ];
      }
    }
  }
  console.log(
    `\n## whole hot path of one request (9 checks) paced at ${rate} req/s, ${seconds} s per row, ms (load average now ${load()})`,
  );
  console.log('| backend | checks | requests | p50 | p99 |');
  console.log('|---|---|---:|---:|---:|');
  for (const [row, times] of Object.entries(paced)) {
    const [name, pathName] = row.split(' ');
    const how = {
      sequential: 'one by one (9 scripts, 9 round trips)',
      grouped: 'grouped (9 scripts, 3 round trips)',
      admit: 'with admit (6 scripts, 3 round trips)',
    }[pathName!];
    console.log(
      `| ${name} | ${how} | ${times.length} | ${fmt(quantile(times, 0.5))} | ${fmt(quantile(times, 0.99))} |`,
    );
  }
  for (const pathName of Object.keys(PATHS)) {
    const memory = paced[`memory ${pathName}`]!;
    const shared = paced[`redis ${pathName}`]!;
    console.log(
      `added by Redis per request, ${pathName}: p50 ${fmt(quantile(shared, 0.5) - quantile(memory, 0.5))} ms, p99 ${fmt(quantile(shared, 0.99) - quantile(memory, 0.99))} ms`,
    );
  }
  console.log(`degraded calls: ${JSON.stringify(redisState.status().degraded)}`);

  // Sizing: Redis memory per active key (a stored key, its buckets, a held slot, a running reservation,
  // settled spend in three windows), measured as the growth of used_memory over `sizingScopes` keys.
  const probe = new Redis(url);
  const used = async () => Number(/used_memory:(\d+)/.exec(await probe.info('memory'))?.[1]);
  const sizing = createRedisState({ url, keyPrefix: `size:${process.pid}:` });
  await sizing.ready(10_000);
  const before = await used();
  for (let start = 0; start < sizingScopes; start += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, sizingScopes - start) }, async () => {
        const { record } = await sizing.createKey({ name: 'sizing', budgets: BUDGETS, maxConcurrent: 10 });
        const scope = `key:${record.id}`;
        await sizing.takeRate(scope, KEY_LIMITS, { tokens: 500 });
        await sizing.acquireSlot(scope, { max: 10 });
        const spent = await sizing.reserveBudget(scope, BUDGETS, 0.001);
        if (spent.reserved) await sizing.settleBudget(spent.reservation, 0.001);
        await sizing.reserveBudget(scope, BUDGETS, 0.001);
      }),
    );
  }
  const grown = (await used()) - before;
  console.log(
    `\n## sizing: Redis used_memory grew by ${(grown / 1024 / 1024).toFixed(1)} MiB for ${sizingScopes} active keys = ${Math.round(grown / sizingScopes)} bytes per key (stored key, buckets, one slot, one open reservation, spend in three windows)`,
  );
  await sizing.close();
  probe.disconnect();

  for (const state of Object.values(backends)) await state.close();
  await redis?.stop();
}

await main();
