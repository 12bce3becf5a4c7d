/**
 * CPU profile of the gateway under load in direct mode: the upstream and the gateway each run in their own
 * process (the gateway with `--cpu-prof`), autocannon drives the gateway from this one, then the gateway
 * exits and writes its `.cpuprofile`, which is summarised (self time by function and by file).
 *
 *   pnpm --filter @openfugu/server bench:profile   # PROFILE_SECONDS (10), PROFILE_RATE (autocannon, 0 = max),
 *                                                  # PROFILE_PACED (paced req/s instead), PROFILE_STREAM=1, PROFILE_CPU=0,
 *                                                  # PROFILE_ROLE=bare-proxy (the floor: a bare Node proxy)
 *   PROFILE_DIR=/tmp/prof pnpm --filter @openfugu/server bench:profile
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { DEFAULT_SIMULATED_POOL } from '../src/sim/skills.js';
import { cpu, start, stop } from './children.js';
import { paced, pacedPool, quantile } from './paced.js';

const seconds = Number(process.env.PROFILE_SECONDS ?? 10);
const rate = Number(process.env.PROFILE_RATE ?? 0);
/** Paced open-loop rate (req/s) instead of autocannon; 0: autocannon. */
const pacedRate = Number(process.env.PROFILE_PACED ?? 0);
const connections = Number(process.env.PROFILE_CONNECTIONS ?? 16);
const stream = process.env.PROFILE_STREAM === '1';
const dir = process.env.PROFILE_DIR ?? join(tmpdir(), `openfugu-prof-${process.pid}`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

function summarise(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url
      .replace(/^.*node_modules\/\.pnpm\/([^/]+)\/.*$/, '$1')
      .replace(/^.*\/src\//, 'src/');
    const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byFile.set(where || '(native)', (byFile.get(where || '(native)') ?? 0) + us);
  }
  const top = (map: Map<string, number>, n: number): string =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n');
  console.log(
    `\nself time by function (top 40 of ${(total / 1e6).toFixed(1)} s sampled):\n${top(byFunction, 40)}`,
  );
  console.log(`\nself time by file/package (top 25):\n${top(byFile, 25)}`);
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const upstream = await start(['upstream']);
  const profiling = process.env.PROFILE_CPU !== '0';
  const role = process.env.PROFILE_ROLE ?? 'gateway';
  const gateway = await start([role, upstream.url], profiling ? ['--cpu-prof', '--cpu-prof-dir', dir] : []);
  const worker = DEFAULT_SIMULATED_POOL[0]!;
  const body = JSON.stringify({
    model: role === 'bare-proxy' ? worker.spec.model : worker.id,
    messages: [{ role: 'user', content: 'What is 17 * 23?' }],
    ...(stream ? { stream: true } : {}),
  });
  const run = (duration: number): ReturnType<typeof autocannon> =>
    autocannon({
      url: `${gateway.url}/chat/completions`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections,
      duration,
      ...(rate > 0 ? { overallRate: rate } : {}),
    });
  const check = (text: string): boolean => text.includes('"choices"') || text.endsWith('[DONE]\n\n');
  const pool = pacedPool(gateway.url);
  const url = `${gateway.url}/chat/completions`;
  if (pacedRate > 0) await paced(pool, url, body, { rate: pacedRate, ms: 2000, check });
  else await run(2);
  const before = await cpu(gateway.child);
  let summary: string;
  let requests: number;
  if (pacedRate > 0) {
    const result = await paced(pool, url, body, { rate: pacedRate, ms: seconds * 1000, check });
    requests = result.latencies.length + result.errors;
    summary = `paced ${result.rate.toFixed(0)} req/s, p50 ${quantile(result.latencies, 0.5).toFixed(3)} ms, p99 ${quantile(result.latencies, 0.99).toFixed(3)} ms, errors ${result.errors}`;
  } else {
    const result = await run(seconds);
    requests = result.requests.total;
    summary = `autocannon ${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, errors ${result.errors + result.non2xx}`;
  }
  const after = await cpu(gateway.child);
  await pool.close();
  const perRequest = (key: 'user' | 'system'): string => ((after[key] - before[key]) / requests).toFixed(1);
  console.log(
    `${role}: ${summary}; CPU per request ${perRequest('user')} µs user + ${perRequest('system')} µs system`,
  );
  await stop(gateway.child);
  await stop(upstream.child);
  const file = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()[0]; // the main thread's
  if (!profiling) return;
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  console.log(`profile: ${join(dir, file)}`);
  summarise(join(dir, file));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
