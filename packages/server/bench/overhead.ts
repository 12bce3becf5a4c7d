/**
 * Gateway overhead in direct mode against calling the same simulated upstream directly, in the same run.
 * Separate processes: this one drives the load (paced open-loop generator, autocannon); the upstream, the
 * gateway and a bare Node proxy (the floor any Node proxy pays for the extra hop) each have their own,
 * bundled like the published dist (see children.ts). Direct, gateway and bare-proxy slices alternate so all
 * paths see the same machine.
 *
 *   pnpm --filter @openfugu/server bench            # all sections
 *   BENCH_SECONDS=5 BENCH_SOAK=20000 pnpm --filter @openfugu/server bench
 */
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import autocannon from 'autocannon';
import { fitDomainRouter } from '../src/domain-router.js';
import { trainEmbeddedRouter } from '../src/embedded-router.js';
import { DEFAULT_SIMULATED_POOL, generateSimTasks, simulatedOutcome } from '../src/sim/skills.js';
import { cpu, memory, start, stop } from './children.js';
import { joinRuns, type PacedRun, paced, pacedPool, quantile } from './paced.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const soakRequests = Number(process.env.BENCH_SOAK ?? 20_000);
const rate = Number(process.env.BENCH_RATE ?? 1_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const slices = Number(process.env.BENCH_SLICES ?? 5);

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

const chatBody = (model: string, stream: boolean): string =>
  JSON.stringify({
    model,
    messages: [{ role: 'user', content: 'What is 17 * 23?' }],
    ...(stream ? { stream: true } : {}),
  });

const completes = (stream: boolean) => (text: string) =>
  stream ? text.endsWith('data: [DONE]\n\n') : text.includes('"choices"');

interface Target {
  url: string;
  child: Parameters<typeof cpu>[0];
}

interface PacedRow {
  direct: PacedRun;
  gateway: PacedRun;
  /** Gateway process CPU per request over its slices, µs. */
  cpuUs: number;
  /** The bare Node proxy (the floor), when asked for, with its CPU per request. */
  bare?: { run: PacedRun; cpuUs: number };
}

/**
 * Paced runs at `rate`, alternating direct, gateway (and bare-proxy) slices so every path sees the same
 * machine; each proxy's CPU is read around its own slices.
 */
async function pacedRow(
  upstream: { url: string },
  gateway: Target,
  bare: Target | undefined,
  model: { direct: string; alias: string },
  rate: number,
  stream: boolean,
  simultaneous = false,
): Promise<PacedRow> {
  const check = completes(stream);
  const ms = (seconds * 1000) / slices;
  const paths = [
    { url: upstream.url, body: chatBody(model.direct, stream), child: undefined },
    { url: gateway.url, body: chatBody(model.alias, stream), child: gateway.child },
    ...(bare ? [{ url: bare.url, body: chatBody(model.direct, stream), child: bare.child }] : []),
  ].map((path) => ({ ...path, pool: pacedPool(path.url), runs: [] as PacedRun[], cpuUs: 0, requests: 0 }));
  // A short settle on each path first (connections, JIT for this body shape).
  for (const path of paths)
    await paced(path.pool, `${path.url}/chat/completions`, path.body, { rate, ms: 300, check });
  type Path = (typeof paths)[number];
  const slice = (path: Path): Promise<PacedRun> =>
    paced(path.pool, `${path.url}/chat/completions`, path.body, { rate, ms, check });
  /** Runs `work`, charging the CPU `path`'s process spent to its own run (`runs[own]`). */
  const measured = async (path: Path, own: number, work: () => Promise<PacedRun[]>): Promise<PacedRun[]> => {
    const before = path.child ? await cpu(path.child) : undefined;
    const runs = await work();
    const run = runs[own];
    if (path.child && before && run) {
      const after = await cpu(path.child);
      path.cpuUs += after.user + after.system - before.user - before.system;
      path.requests += run.latencies.length + run.errors;
    }
    return runs;
  };
  for (let i = 0; i < slices; i++) {
    if (simultaneous) {
      // Every path at `rate` at the same time: whatever else the machine does hits all of them alike.
      // Only the proxies' own requests reach their processes, so their CPU per request stays theirs.
      const runs = await measured(paths[1]!, 1, () => Promise.all(paths.map(slice)));
      for (const [index, run] of runs.entries()) paths[index]!.runs.push(run);
      continue;
    }
    for (const path of paths) path.runs.push(...(await measured(path, 0, async () => [await slice(path)])));
  }
  for (const path of paths) await path.pool.close();
  const [direct, through, floor] = paths;
  const perRequest = (path: typeof direct): number => (path ? path.cpuUs / Math.max(1, path.requests) : 0);
  return {
    direct: joinRuns(direct!.runs),
    gateway: joinRuns(through!.runs),
    cpuUs: perRequest(through),
    ...(floor ? { bare: { run: joinRuns(floor.runs), cpuUs: perRequest(floor) } } : {}),
  };
}

async function main(): Promise<void> {
  const upstream = await start(['upstream']);
  const gateway = await start(['gateway', upstream.url]);
  const bare = await start(['bare-proxy', upstream.url]);
  const worker = DEFAULT_SIMULATED_POOL[0]!;
  const model = { direct: worker.spec.model, alias: worker.id };
  const [load1 = 0, load5 = 0] = loadavg();
  console.log(
    `${new Date().toISOString()}: node ${process.version}, ${cpus().length} CPUs, load average ${fmt(load1)} (1 min) ${fmt(load5)} (5 min); ${seconds} s per path per row, in ${slices} alternating slices; machine shared with other work (noisy)`,
  );

  // Warm-up: JIT, keep-alive pools.
  await cannon(upstream.url, model.direct, { duration: 2 });
  await cannon(gateway.url, model.alias, { duration: 2 });

  // Unloaded: sequential requests, µs resolution (autocannon's histogram has 1 ms resolution).
  await sequential(upstream.url, model.direct, 500);
  await sequential(gateway.url, model.alias, 500);
  const seqDirect = await sequential(upstream.url, model.direct, 3_000);
  const seqGateway = await sequential(gateway.url, model.alias, 3_000);
  console.log('\n| sequential (1 connection, 3000 requests) | p50 ms | p99 ms |\n|---|---|---|');
  console.log(`| direct | ${fmt(seqDirect.p50, 3)} | ${fmt(seqDirect.p99, 3)} |`);
  console.log(`| gateway | ${fmt(seqGateway.p50, 3)} | ${fmt(seqGateway.p99, 3)} |`);
  console.log(
    `| **added** | **${fmt(seqGateway.p50 - seqDirect.p50, 3)}** | **${fmt(seqGateway.p99 - seqDirect.p99, 3)}** |`,
  );

  // Paced open-loop load: the target's "at ≥ 1,000 requests/s".
  const pacedRows: string[] = [];
  const verdicts: { label: string; row: PacedRow }[] = [];
  for (const [rowRate, stream, simultaneous] of [
    [rate, false, false],
    [rate, false, true],
    [rate, true, false],
    [rate * 2, false, false],
  ] as const) {
    const verdict = rowRate === rate && !stream;
    const withBare = verdict && !simultaneous;
    const row = await pacedRow(
      upstream,
      gateway,
      withBare ? bare : undefined,
      model,
      rowRate,
      stream,
      simultaneous,
    );
    const label = `paced ${rowRate} req/s, ${stream ? 'stream' : 'non-stream'}${simultaneous ? ', direct and gateway at the same time' : ''}`;
    if (verdict) verdicts.push({ label, row });
    const q = (run: PacedRun, p: number): number => quantile(run.latencies, p);
    const added = (p: number): string => fmt(q(row.gateway, p) - q(row.direct, p), 3);
    const line = (path: string, run: PacedRun, extra: string): string =>
      `| ${label} | ${path} | ${fmt(q(run, 0.5), 3)} | ${fmt(q(run, 0.9), 3)} | ${fmt(q(run, 0.99), 3)} | ${fmt(q(run, 0.999), 3)} | ${fmt(run.rate, 0)} | ${run.errors} | ${fmt(quantile(run.lateness, 0.99), 2)} | ${extra} |`;
    pacedRows.push(
      line('direct', row.direct, ''),
      line('gateway', row.gateway, fmt(row.cpuUs, 0)),
      `| ${label} | **added** | **${added(0.5)}** | ${added(0.9)} | **${added(0.99)}** | ${added(0.999)} | | | | |`,
      ...(row.bare ? [line('bare Node proxy (floor)', row.bare.run, fmt(row.bare.cpuUs, 0))] : []),
    );
  }
  console.log(
    '\n| paced open-loop run | path | p50 ms | p90 ms | p99 ms | p99.9 ms | req/s | errors | send lateness p99 ms | proxy CPU µs/req |\n|---|---|---|---|---|---|---|---|---|---|',
  );
  console.log(pacedRows.join('\n'));

  // autocannon: its per-second quota rate (bursts of `connections` in flight) and saturation.
  const rows: string[] = [];
  for (const [label, options] of [
    [
      `autocannon overallRate ${rate} (bursts of ${connections} in flight), non-stream`,
      { overallRate: rate },
    ],
    ['autocannon max throughput, non-stream', {}],
  ] as const) {
    const direct = await cannon(upstream.url, model.direct, options);
    const before = await cpu(gateway.child);
    const through = await cannon(gateway.url, model.alias, options);
    const after = await cpu(gateway.child);
    const perRequest =
      (after.user + after.system - before.user - before.system) / Math.max(1, through.requests);
    rows.push(
      `| ${label} | direct | ${fmt(direct.p50)} | ${fmt(direct.p99)} | ${fmt(direct.rps, 0)} | ${direct.errors + direct.non2xx} | |`,
      `| ${label} | gateway | ${fmt(through.p50)} | ${fmt(through.p99)} | ${fmt(through.rps, 0)} | ${through.errors + through.non2xx} | ${fmt(perRequest, 0)} |`,
      `| ${label} | **added** | **${fmt(through.p50 - direct.p50)}** | **${fmt(through.p99 - direct.p99)}** | | | |`,
    );
  }
  console.log(
    `\n| autocannon run (${connections} connections) | path | p50 ms | p99 ms | req/s | errors | gateway CPU µs/req |\n|---|---|---|---|---|---|---|`,
  );
  console.log(rows.join('\n'));

  for (const { label, row } of verdicts) {
    const { direct, gateway: through } = row;
    const addedP50 = quantile(through.latencies, 0.5) - quantile(direct.latencies, 0.5);
    const addedP99 = quantile(through.latencies, 0.99) - quantile(direct.latencies, 0.99);
    const met = addedP50 <= 1 && addedP99 <= 5 && through.errors === 0 && through.rate >= rate * 0.98;
    console.log(
      `\ntarget (added p50 ≤ 1 ms, p99 ≤ 5 ms) on "${label}": added p50 ${fmt(addedP50, 3)} ms, p99 ${fmt(addedP99, 3)} ms at ${fmt(through.rate, 0)} req/s → ${met ? 'MET' : 'NOT MET'}`,
    );
    // The generator runs in this process: when it could not send on time, the whole machine was stalled
    // (other work), and the slices it stalled in carry that stall in their latencies too.
    const lateness = Math.max(quantile(direct.lateness, 0.99), quantile(through.lateness, 0.99));
    if (lateness > 5) {
      console.log(
        `  machine stall: the load generator itself sent ${fmt(lateness, 1)} ms late at p99 in this row; the tails include it`,
      );
    }
  }

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
    const soak = await cannon(gateway.url, model.alias, { amount: soakRequests });
    const after = await memory(gateway.child);
    const mb = (bytes: number): string => fmt(bytes / 1024 / 1024, 1);
    console.log(
      `\nsoak: ${soak.requests} requests (${soak.errors + soak.non2xx} errors) at ${fmt(soak.rps, 0)} req/s; gateway RSS ${mb(before.rss)} → ${mb(after.rss)} MB, heap used after GC ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB`,
    );
  }
  await stop(gateway.child);
  await stop(bare.child);
  await stop(upstream.child);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
