/**
 * What the Redis-backed checks add to a request through the gateway: two gateways in this process, identical
 * but for their `state` (in memory, or Redis on loopback started here without persistence), one instant
 * in-process worker behind each, one stored key with every check the gateway makes (request and token
 * limits, a concurrency cap, budgets in three windows). Each is driven by the open-loop paced generator at
 * `BENCH_GW_RATE` requests per second, interleaved in `BENCH_GW_SLICES` slices so both see the same machine;
 * the table gives the end-to-end latency of each and the difference. Then `BENCH_GW_SEQUENTIAL` requests one
 * at a time per state (nothing queues: the cost of the round trips alone).
 *
 *   pnpm --filter @openfugu/server bench:state-gateway
 *   BENCH_GW_RATE=500 BENCH_GW_SECONDS=20 pnpm --filter @openfugu/server bench:state-gateway
 */
import { cpus, loadavg } from 'node:os';
import type { Worker } from '@openfugu/schema';
import {
  createGateway,
  createMemoryState,
  createRedisState,
  type Gateway,
  type SharedState,
} from '../src/index.js';
import { startRedis } from '../test/redis-process.js';
import { type PacedRun, paced, pacedPool, quantile } from './paced.js';

const rate = Number(process.env.BENCH_GW_RATE ?? 1_000);
const seconds = Number(process.env.BENCH_GW_SECONDS ?? 10);
const slices = Number(process.env.BENCH_GW_SLICES ?? 5);
const sequentialCount = Number(process.env.BENCH_GW_SEQUENTIAL ?? 2_000);

const worker: Worker = {
  id: 'instant',
  complete: async () => ({
    content: 'ok',
    usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
    finishReason: 'stop',
  }),
};

async function start(state: SharedState): Promise<{ gateway: Gateway; url: string; key: string }> {
  const gateway = createGateway({
    workers: [worker],
    state,
    config: {
      exposeWorkers: true,
      storedKeys: true,
      metricsRequireAuth: false,
      pool: { prices: { instant: { input: 1, output: 2 } } },
    },
  });
  const url = await gateway.listen({ port: 0 });
  const { key } = await state.createKey({
    name: 'bench',
    rateLimit: { requestsPerMinute: 1e9, burst: 1e9 },
    tokenLimit: { tokensPerMinute: 1e12, burst: 1e12 },
    maxConcurrent: 1_000_000,
    budgets: { daily: 1e6, monthly: 1e6, total: 1e6 },
  });
  return { gateway, url, key };
}

const fmt = (value: number) => value.toFixed(3);

async function main(): Promise<void> {
  const redis = await startRedis();
  const shared = createRedisState({ url: redis.url, keyPrefix: `benchgw:${process.pid}:` });
  if (!(await shared.ready(10_000))) throw new Error('cannot reach the Redis started here');
  const backends = { memory: await start(createMemoryState()), redis: await start(shared) };
  const body = JSON.stringify({
    model: 'instant',
    max_tokens: 5,
    messages: [{ role: 'user', content: 'hi' }],
  });
  const check = (text: string) => text.includes('"chat.completion"');
  const pools = { memory: pacedPool(backends.memory.url), redis: pacedPool(backends.redis.url) };
  const load = () => loadavg()[0]!.toFixed(2);
  console.log(`# gateway state bench ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${cpus().length} cores, load average at start ${load()}`);
  const runs: Record<'memory' | 'redis', PacedRun[]> = { memory: [], redis: [] };
  for (const name of ['memory', 'redis'] as const) {
    // Warm-up: JIT, connections, script cache.
    const { url, key } = backends[name];
    await paced(pools[name], `${url}/v1/chat/completions`, body, {
      rate,
      ms: 500,
      check,
      headers: { authorization: `Bearer ${key}` },
    });
  }
  for (let slice = 0; slice < slices; slice++) {
    for (const name of ['memory', 'redis'] as const) {
      const { url, key } = backends[name];
      runs[name].push(
        await paced(pools[name], `${url}/v1/chat/completions`, body, {
          rate,
          ms: (seconds * 1000) / slices,
          check,
          headers: { authorization: `Bearer ${key}` },
        }),
      );
    }
  }
  console.log(
    `\n## through the gateway, paced open-loop at ${rate} req/s, ${seconds} s per state in ${slices} interleaved slices, ms (load average now ${load()})`,
  );
  console.log('| state | requests | errors | achieved req/s | p50 | p90 | p99 |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const latencies: Record<string, number[]> = {};
  for (const name of ['memory', 'redis'] as const) {
    const all = runs[name].flatMap((run) => run.latencies);
    latencies[name] = all;
    const errors = runs[name].reduce((sum, run) => sum + run.errors, 0);
    const achieved = runs[name].reduce((sum, run) => sum + run.rate, 0) / runs[name].length;
    console.log(
      `| ${name} | ${all.length} | ${errors} | ${achieved.toFixed(0)} | ${fmt(quantile(all, 0.5))} | ${fmt(quantile(all, 0.9))} | ${fmt(quantile(all, 0.99))} |`,
    );
  }
  // One request at a time: what the checks add when nothing queues.
  const sequential: Record<string, number[]> = { memory: [], redis: [] };
  for (let slice = 0; slice < slices; slice++) {
    for (const name of ['memory', 'redis'] as const) {
      const { url, key } = backends[name];
      const path = new URL(`${url}/v1/chat/completions`).pathname;
      for (let i = 0; i < Math.ceil(sequentialCount / slices); i++) {
        const t = performance.now();
        const response = await pools[name].request({
          path,
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body,
        });
        const text = await response.body.text();
        if (response.statusCode === 200 && check(text)) sequential[name]!.push(performance.now() - t);
      }
    }
  }
  console.log(
    `\n## one request at a time (${sequentialCount} per state, interleaved), ms (load average now ${load()})`,
  );
  console.log('| state | requests | p50 | p90 | p99 |');
  console.log('|---|---:|---:|---:|---:|');
  for (const name of ['memory', 'redis'] as const) {
    const all = sequential[name]!;
    console.log(
      `| ${name} | ${all.length} | ${fmt(quantile(all, 0.5))} | ${fmt(quantile(all, 0.9))} | ${fmt(quantile(all, 0.99))} |`,
    );
  }
  console.log(
    `added by the Redis state, one at a time: p50 ${fmt(quantile(sequential.redis!, 0.5) - quantile(sequential.memory!, 0.5))} ms`,
  );
  const added = quantile(latencies.redis!, 0.5) - quantile(latencies.memory!, 0.5);
  console.log(
    `\nadded by the Redis state per request at ${rate} req/s: p50 ${fmt(added)} ms (aim ≤ 0.3 ms: ${added <= 0.3 ? 'met' : 'not met'}), p99 ${fmt(quantile(latencies.redis!, 0.99) - quantile(latencies.memory!, 0.99))} ms`,
  );
  console.log(`redis degraded calls: ${JSON.stringify(shared.status().degraded)}`);
  for (const pool of Object.values(pools)) await pool.close();
  for (const { gateway } of Object.values(backends)) await gateway.close();
  await shared.close();
  await redis.stop();
}

await main();
