/**
 * Gateway overhead in direct mode against calling the same simulated upstream directly, in the same run.
 * Three processes: this one runs autocannon; the upstream and the gateway each have their own.
 *
 *   pnpm --filter @openfugu/server bench            # all sections
 *   BENCH_SECONDS=5 BENCH_SOAK=20000 pnpm --filter @openfugu/server bench
 */
import { type ChildProcess, fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { fitDomainRouter } from '../src/domain-router.js';
import { trainEmbeddedRouter } from '../src/embedded-router.js';
import { DEFAULT_SIMULATED_POOL, generateSimTasks, simulatedOutcome } from '../src/sim/skills.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const soakRequests = Number(process.env.BENCH_SOAK ?? 20_000);
const rate = Number(process.env.BENCH_RATE ?? 1_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const entry = fileURLToPath(new URL('./processes.ts', import.meta.url));

function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(entry, args, {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    child.on('message', (message: { type: string; url: string }) => {
      if (message.type === 'ready') resolve({ child, url: message.url });
    });
  });
}

function memory(child: ChildProcess): Promise<{ rss: number; heapUsed: number }> {
  return new Promise((resolve) => {
    const listener = (message: { type: string; rss: number; heapUsed: number }): void => {
      if (message.type !== 'mem') return;
      child.off('message', listener);
      resolve(message);
    };
    child.on('message', listener);
    child.send({ type: 'mem' });
  });
}

interface Run {
  p50: number;
  p90: number;
  p99: number;
  rps: number;
  errors: number;
  non2xx: number;
  requests: number;
}

async function cannon(
  url: string,
  model: string,
  options: { overallRate?: number; duration?: number; amount?: number; stream?: boolean },
): Promise<Run> {
  const body = JSON.stringify({
    model,
    messages: [{ role: 'user', content: 'What is 17 * 23?' }],
    ...(options.stream ? { stream: true } : {}),
  });
  const result = await autocannon({
    url: `${url}/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? seconds }),
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  });
  return {
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    rps: result.requests.average,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total,
  };
}

const fmt = (value: number, digits = 2): string => value.toFixed(digits);

/** One connection, one request at a time, microsecond timers: the unloaded added latency. */
async function sequential(url: string, model: string, count: number): Promise<{ p50: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(`${url}/chat/completions`);
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'What is 17 * 23?' }] });
  const once = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(count / 2)]!, p99: times[Math.floor(count * 0.99)]! };
}

async function main(): Promise<void> {
  const upstream = await start(['upstream']);
  const gateway = await start(['gateway', upstream.url]);
  const worker = DEFAULT_SIMULATED_POOL[0]!;
  console.log(
    `node ${process.version}, ${connections} connections, ${seconds} s per run; machine shared with other work (noisy)`,
  );

  // Warm-up: JIT, keep-alive pools.
  await cannon(upstream.url, worker.spec.model, { duration: 2 });
  await cannon(gateway.url, worker.id, { duration: 2 });

  // Unloaded: sequential requests, µs resolution (autocannon's histogram has 1 ms resolution).
  await sequential(upstream.url, worker.spec.model, 500);
  await sequential(gateway.url, worker.id, 500);
  const seqDirect = await sequential(upstream.url, worker.spec.model, 3_000);
  const seqGateway = await sequential(gateway.url, worker.id, 3_000);
  console.log('\n| sequential (1 connection, 3000 requests) | p50 ms | p99 ms |\n|---|---|---|');
  console.log(`| direct | ${fmt(seqDirect.p50, 3)} | ${fmt(seqDirect.p99, 3)} |`);
  console.log(`| gateway | ${fmt(seqGateway.p50, 3)} | ${fmt(seqGateway.p99, 3)} |`);
  console.log(
    `| **added** | **${fmt(seqGateway.p50 - seqDirect.p50, 3)}** | **${fmt(seqGateway.p99 - seqDirect.p99, 3)}** |`,
  );

  const rows: string[] = [];
  for (const [label, options] of [
    [`fixed ${rate} req/s, non-stream`, { overallRate: rate }],
    [`fixed ${rate} req/s, stream`, { overallRate: rate, stream: true }],
    ['max throughput, non-stream', {}],
  ] as const) {
    const direct = await cannon(upstream.url, worker.spec.model, options);
    const through = await cannon(gateway.url, worker.id, options);
    rows.push(
      `| ${label} | direct | ${fmt(direct.p50)} | ${fmt(direct.p99)} | ${fmt(direct.rps, 0)} | ${direct.errors + direct.non2xx} |`,
      `| ${label} | gateway | ${fmt(through.p50)} | ${fmt(through.p99)} | ${fmt(through.rps, 0)} | ${through.errors + through.non2xx} |`,
      `| ${label} | **added** | **${fmt(through.p50 - direct.p50)}** | **${fmt(through.p99 - direct.p99)}** | | |`,
    );
  }
  console.log('\n| run | path | p50 ms | p99 ms | req/s | errors |\n|---|---|---|---|---|---|');
  console.log(rows.join('\n'));

  // Router decision time, separately (no network).
  const probes = generateSimTasks(5_000, 99).map((task) => `user: ${task.prompt}`);
  const percentiles = (route: (text: string) => number): { p50: number; p99: number; sink: number } => {
    let sink = 0;
    for (const probe of probes.slice(0, 500)) sink += route(probe);
    const times: number[] = [];
    for (const probe of probes) {
      const t = performance.now();
      sink += route(probe);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return {
      p50: times[Math.floor(times.length / 2)]! * 1000,
      p99: times[Math.floor(times.length * 0.99)]! * 1000,
      sink,
    };
  };
  const trained = trainEmbeddedRouter({ seed: 1 });
  const trinity = percentiles((text) => trained.router.routeSync(text).agentIndex);
  const tasks = generateSimTasks(400, 11);
  const outcomes = tasks.map((task) => ({
    prompt: task.prompt,
    correct: DEFAULT_SIMULATED_POOL.map((poolEntry) => simulatedOutcome(poolEntry.spec, task.prompt, 1)),
  }));
  const heuristic = fitDomainRouter(outcomes, DEFAULT_SIMULATED_POOL.length);
  const keyword = percentiles((text) => heuristic.route(text));
  console.log('\n| router decision (in-process, 5000 prompts) | p50 µs | p99 µs |\n|---|---|---|');
  console.log(
    `| TRINITY: hashing backbone (128-d) + trained head, routeSync | ${fmt(trinity.p50, 1)} | ${fmt(trinity.p99, 1)} |`,
  );
  console.log(`| keyword-domain heuristic (baseline) | ${fmt(keyword.p50, 1)} | ${fmt(keyword.p99, 1)} |`);
  console.log(
    `head training at start-up: ${fmt(trained.trainingMs / 1000, 1)} s, ${trained.generations} generations on ${trained.tasks} tasks; validation reward ${fmt(trained.validationReward)} vs best single worker ${fmt(trained.bestSingleReward)} (checksums ${trinity.sink}, ${keyword.sink})`,
  );

  // Soak: memory before/after N requests through the gateway.
  if (soakRequests > 0) {
    const before = await memory(gateway.child);
    const soak = await cannon(gateway.url, worker.id, { amount: soakRequests });
    const after = await memory(gateway.child);
    const mb = (bytes: number): string => fmt(bytes / 1024 / 1024, 1);
    console.log(
      `\nsoak: ${soak.requests} requests (${soak.errors + soak.non2xx} errors) at ${fmt(soak.rps, 0)} req/s; gateway RSS ${mb(before.rss)} → ${mb(after.rss)} MB, heap used after GC ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB`,
    );
  }
  upstream.child.kill();
  gateway.child.kill();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
