/**
 * Child-process entry points for the benchmarks, so autocannon, the gateway and the upstream do not share
 * one event loop: `processes.ts upstream|gateway|gateway-ui|bare-proxy <upstreamURL> [gateway options JSON]` (bundled first, see children.ts).
 * Reports `{ url }` over IPC when listening and answers `{ type: 'mem' }` with memory figures and
 * `{ type: 'cpu' }` with `process.cpuUsage()` (µs of user and system time).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import {
  createGateway,
  createOpenAIWorker,
  createSimulatedUpstream,
  DEFAULT_SIMULATED_POOL,
  type GatewayConfig,
} from '../src/index.js';

const role = process.argv[2];
const models = DEFAULT_SIMULATED_POOL.map((entry) => ({ ...entry.spec, latencyMs: 0, latencyJitterMs: 0 }));

async function main(): Promise<void> {
  let url: string;
  if (role === 'upstream') {
    const upstream = await createSimulatedUpstream({ models, seed: 1 });
    url = upstream.baseURL;
  } else if (role === 'bare-proxy') {
    url = await bareProxy(process.argv[3] ?? '');
  } else {
    const upstreamURL = process.argv[3] ?? '';
    // Optional: `{ config, hostileURL }` as JSON (bench:hostile): gateway options and one more pool member,
    // `hostile`, whose upstream misbehaves on purpose.
    const extra = JSON.parse(process.argv[4] ?? '{}') as { config?: GatewayConfig; hostileURL?: string };
    const workers = DEFAULT_SIMULATED_POOL.map((entry) =>
      createOpenAIWorker({ id: entry.id, baseURL: upstreamURL, model: entry.spec.model, price: entry.price }),
    );
    if (extra.hostileURL) {
      workers.push(
        createOpenAIWorker({ id: 'hostile', baseURL: extra.hostileURL, model: 'up', maxRetries: 0 }),
      );
    }
    // Bundled into node_modules/.cache/openfugu-bench/: the page's files are the package's ui/ folder.
    const assetsDir = fileURLToPath(new URL('../../../ui/', import.meta.url));
    const ui = role === 'gateway-ui' ? { ui: { enabled: true, assetsDir } } : {};
    const gateway = createGateway({ workers, config: { exposeWorkers: true, ...ui, ...extra.config } });
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

/**
 * The floor to compare the gateway with: the leanest Node proxy on the same transport (node:http server,
 * undici pool) that forwards the body bytes unchanged and copies the answer back — no parsing,
 * validation, routing, identity rewriting, metrics or error mapping.
 */
async function bareProxy(upstreamURL: string): Promise<string> {
  const target = new URL(upstreamURL);
  const pool = new Pool(target.origin, { headersTimeout: 0, bodyTimeout: 0 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      pool
        .request({
          path: `${target.pathname}${req.url?.replace(/^\/v1/, '') ?? ''}`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: Buffer.concat(chunks),
        })
        .then(async (response) => {
          const body = await response.body.arrayBuffer();
          res.writeHead(response.statusCode, {
            'content-type': String(response.headers['content-type'] ?? 'application/json'),
            'content-length': body.byteLength,
          });
          res.end(Buffer.from(body));
        })
        .catch(() => {
          res.writeHead(502).end();
        });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
