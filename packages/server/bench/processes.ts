/**
 * Child-process entry points for the benchmarks, so autocannon, the gateway and the upstream do not share
 * one event loop: `processes.ts upstream|gateway <upstreamURL>` (bundled first, see children.ts).
 * Reports `{ url }` over IPC when listening and answers `{ type: 'mem' }` with memory figures and
 * `{ type: 'cpu' }` with `process.cpuUsage()` (µs of user and system time).
 */
import {
  createGateway,
  createOpenAIWorker,
  createSimulatedUpstream,
  DEFAULT_SIMULATED_POOL,
} from '../src/index.js';

const role = process.argv[2];
const models = DEFAULT_SIMULATED_POOL.map((entry) => ({ ...entry.spec, latencyMs: 0, latencyJitterMs: 0 }));

async function main(): Promise<void> {
  let url: string;
  if (role === 'upstream') {
    const upstream = await createSimulatedUpstream({ models, seed: 1 });
    url = upstream.baseURL;
  } else {
    const upstreamURL = process.argv[3] ?? '';
    const workers = DEFAULT_SIMULATED_POOL.map((entry) =>
      createOpenAIWorker({ id: entry.id, baseURL: upstreamURL, model: entry.spec.model, price: entry.price }),
    );
    const gateway = createGateway({ workers, config: { exposeWorkers: true } });
    url = `${await gateway.listen({ port: 0 })}/v1`;
  }
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'exit') process.exit(0);
    if (message?.type === 'cpu') {
      const usage = process.cpuUsage();
      process.send?.({ type: 'cpu', user: usage.user, system: usage.system });
    }
    if (message?.type === 'mem') {
      (globalThis as { gc?: () => void }).gc?.();
      const memory = process.memoryUsage();
      process.send?.({ type: 'mem', rss: memory.rss, heapUsed: memory.heapUsed });
    }
  });
  process.send?.({ type: 'ready', url });
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
