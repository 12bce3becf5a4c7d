/**
 * What the operations page costs the request path: the gateway's latency at a paced 1,000 req/s with the page's
 * event stream closed and open, measured in the same run, alternating slices so both see the same machine.
 * Three paths: a gateway without the page (`ui` off), and one gateway with the page on — no viewer connected,
 * then with viewers connected to `/ui/events` (one that reads everything, one that never reads: the slow viewer
 * whose batches must be dropped and counted instead of piling up or slowing requests).
 *
 *   pnpm --filter @openfugu/server bench:ui
 *   BENCH_SECONDS=10 BENCH_RATE=1000 pnpm --filter @openfugu/server bench:ui
 */
import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { createOpsHub, type OpsRequestDone } from '../src/ops/ops-hub.js';
import { DEFAULT_SIMULATED_POOL } from '../src/sim/skills.js';
import { cpu, memory, start, stop } from './children.js';
import { joinRuns, type PacedRun, paced, pacedPool, quantile } from './paced.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rate = Number(process.env.BENCH_RATE ?? 1_000);
const slices = Number(process.env.BENCH_SLICES ?? 5);

interface Viewer {
  events: number;
  rows: number;
  skipped: number;
  dropped: number;
  close(): void;
}

/** Connects to `/ui/events`; `read: false` never reads the body (a stalled browser tab). */
function connectViewer(base: string, read: boolean): Promise<Viewer> {
  const url = new URL('/ui/events', base);
  return new Promise((resolve, reject) => {
    const viewer: Viewer = { events: 0, rows: 0, skipped: 0, dropped: 0, close: () => {} };
    let buffer = '';
    let req: ClientRequest | undefined;
    req = request(url, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        reject(new Error(`/ui/events answered ${res.statusCode}`));
        return;
      }
      viewer.close = () => {
        res.destroy();
        req?.destroy();
      };
      if (!read) {
        res.pause();
        resolve(viewer);
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        buffer += text;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          if (!event.includes('event: requests')) continue;
          const data = JSON.parse(event.slice(event.indexOf('data: ') + 6)) as {
            rows: unknown[];
            skipped: number;
            dropped: number;
          };
          viewer.events++;
          viewer.rows += data.rows.length;
          viewer.skipped += data.skipped;
          viewer.dropped = data.dropped;
        }
      });
      resolve(viewer);
    });
    req.on('error', reject);
    req.end();
  });
}

const chatBody = JSON.stringify({
  model: DEFAULT_SIMULATED_POOL[0]!.id,
  messages: [{ role: 'user', content: 'What is 17 * 23?' }],
});
const check = (text: string): boolean => text.includes('"choices"');
const fmt = (value: number, digits = 3): string => value.toFixed(digits);

/**
 * The hub's own CPU per finished request, in this process (steadier than latency on a loaded machine): records
 * like a `fugu` run's arrive at `perSecond`, with `viewers` live-feed viewers that read everything (a sink), so
 * the batching, serialisation and writes of the feed are counted too. `viewers: -1` runs the same loop without
 * the hub: the baseline (timers, the records' own creation) subtracted from the others.
 */
async function hubCost(viewers: number, total: number, perSecond: number): Promise<number> {
  const hub = createOpsHub();
  const sinks = Array.from(
    { length: Math.max(0, viewers) },
    () => new Writable({ write: (_chunk, _encoding, callback) => callback() }) as unknown as ServerResponse,
  );
  for (const sink of sinks) hub.addViewer(sink);
  const usage = { promptTokens: 151, completionTokens: 7, totalTokens: 158 };
  const record: OpsRequestDone = {
    id: '',
    model: 'fugu',
    mode: 'run',
    status: 200,
    ms: 12.3,
    stream: false,
    usage,
    costUsd: 0.000054,
    calls: [
      { workerId: 'coder', outcome: 'ok', ms: 9.9, usage, costUsd: 0.00001 },
      { workerId: 'coder', outcome: 'ok', ms: 68.9, usage, costUsd: 0.000044 },
    ],
    modeTrace: {
      reason: 'accepted',
      agents: ['math', 'coder', 'writer', 'generalist'],
      turns: [
        { turn: 1, agent: 'coder', role: 'worker', latencyMs: 10, scores: [0.2, 0.44, 0.15, 0.21], usage },
        { turn: 2, agent: 'coder', role: 'verifier', latencyMs: 69, scores: [0.13, 0.65, 0.13, 0.09], usage },
      ],
    },
  };
  const tick = 10;
  const perTick = Math.max(1, Math.round((perSecond * tick) / 1000));
  const before = process.cpuUsage();
  for (let sent = 0; sent < total; ) {
    for (let i = 0; i < perTick && sent < total; i++) {
      const done = { ...record, id: `r${sent++}` };
      if (viewers >= 0) hub.onRequestDone(done);
    }
    await new Promise((resolve) => setTimeout(resolve, tick));
  }
  await new Promise((resolve) => setTimeout(resolve, 300)); // the last batch
  const used = process.cpuUsage(before);
  hub.close();
  return (used.user + used.system) / total;
}

async function main(): Promise<void> {
  const hubTotal = Number(process.env.BENCH_HUB_REQUESTS ?? 20_000);
  const baseline = await hubCost(-1, hubTotal, rate);
  const costs = [];
  for (const viewers of [0, 2])
    costs.push({ viewers, us: (await hubCost(viewers, hubTotal, rate)) - baseline });
  console.log(
    `# ops hub CPU per finished request (in-process, ${hubTotal} fugu-like records at ${rate}/s, minus the same ` +
      `loop without the hub, ${baseline.toFixed(2)} µs): ` +
      costs.map((cost) => `${cost.viewers} viewers ${cost.us.toFixed(2)} µs`).join(', '),
  );
  const upstream = await start(['upstream']);
  const plain = await start(['gateway', upstream.url]);
  const withUi = await start(['gateway-ui', upstream.url]);
  const base = withUi.url.replace(/\/v1$/, '');
  const [load1 = 0] = loadavg();
  console.log(
    `# operations page cost, ${new Date().toISOString()}, ${cpus().length} CPUs, load ${load1.toFixed(2)}, ` +
      `paced ${rate} req/s, ${slices} slices of ${seconds / slices} s per path (direct alias, non-stream)`,
  );
  const paths = [
    { name: 'gateway, ui off', url: plain.url, child: plain.child, viewers: false },
    { name: 'gateway, ui on, stream closed', url: withUi.url, child: withUi.child, viewers: false },
    { name: 'gateway, ui on, stream open (2 viewers)', url: withUi.url, child: withUi.child, viewers: true },
  ].map((path) => ({ ...path, pool: pacedPool(path.url), runs: [] as PacedRun[], cpuUs: 0, requests: 0 }));
  for (const path of paths)
    await paced(path.pool, `${path.url}/chat/completions`, chatBody, { rate, ms: 500, check });
  const reading: Viewer[] = [];
  const stalled: Viewer[] = [];
  const ms = (seconds * 1000) / slices;
  for (let i = 0; i < slices; i++) {
    // Rotate the order each round so no path is always the one after another's burst.
    for (const path of [...paths.slice(i % paths.length), ...paths.slice(0, i % paths.length)]) {
      let viewers: Viewer[] = [];
      if (path.viewers) {
        viewers = [await connectViewer(base, true), await connectViewer(base, false)];
        reading.push(viewers[0]!);
        stalled.push(viewers[1]!);
      }
      const before = await cpu(path.child);
      const run = await paced(path.pool, `${path.url}/chat/completions`, chatBody, { rate, ms, check });
      const after = await cpu(path.child);
      // Let the last batch reach the reading viewer before closing the stream.
      if (path.viewers) await new Promise((resolve) => setTimeout(resolve, 400));
      for (const viewer of viewers) viewer.close();
      path.runs.push(run);
      path.cpuUs += after.user + after.system - before.user - before.system;
      path.requests += run.latencies.length + run.errors;
    }
  }
  for (const path of paths) await path.pool.close();

  console.log('\n| path | p50 ms | p90 ms | p99 ms | errors | achieved req/s | gateway CPU µs/req |');
  console.log('|---|---|---|---|---|---|---|');
  const rows = paths.map((path) => ({ path, run: joinRuns(path.runs) }));
  for (const { path, run } of rows) {
    console.log(
      `| ${path.name} | ${fmt(quantile(run.latencies, 0.5))} | ${fmt(quantile(run.latencies, 0.9))} | ` +
        `${fmt(quantile(run.latencies, 0.99))} | ${run.errors} | ${fmt(run.rate, 0)} | ` +
        `${fmt(path.cpuUs / Math.max(1, path.requests), 0)} |`,
    );
  }
  const [off, closed, open] = rows;
  const added = (a: PacedRun, b: PacedRun, q: number): string =>
    fmt(quantile(b.latencies, q) - quantile(a.latencies, q));
  console.log(
    `\nstream open vs closed: p50 ${added(closed!.run, open!.run, 0.5)} ms, p99 ${added(closed!.run, open!.run, 0.99)} ms; ` +
      `ui on (closed) vs ui off: p50 ${added(off!.run, closed!.run, 0.5)} ms, p99 ${added(off!.run, closed!.run, 0.99)} ms`,
  );
  const sum = (viewers: Viewer[], key: 'events' | 'rows' | 'skipped' | 'dropped'): number =>
    viewers.reduce((total, viewer) => total + viewer[key], 0);
  const served = open!.path.requests;
  console.log(
    `reading viewer: ${sum(reading, 'events')} batches, ${sum(reading, 'rows')} rows shown of ${served} requests ` +
      `(${sum(reading, 'skipped')} sampled out as announced by the stream)`,
  );
  const mem = await memory(withUi.child);
  console.log(
    `stalled viewer: never read; the gateway holds at most its 256 KiB buffer per viewer and counted the rest as ` +
      `dropped; gateway RSS after the run ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`,
  );
  for (const child of [plain.child, withUi.child, upstream.child]) await stop(child);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
