import OpenAI from 'openai';
import {
  type ConfiguredServer,
  createGateway,
  createOpenAIWorker,
  createRoutedMode,
  createServerFromConfig,
  createSimulatedUpstream,
  DEFAULT_SIMULATED_POOL,
  type FaultSpec,
  type Gateway,
  type GatewayConfig,
  type GatewayMode,
  parseConfig,
  type SimulatedUpstream,
  type UpstreamWorker,
} from '../src/index.js';

export interface Harness {
  upstream: SimulatedUpstream;
  gateway: Gateway;
  url: string;
  workers: UpstreamWorker[];
  close(): Promise<void>;
}

/** The embedded default server (simulated pool without latency, debug trace on) on an ephemeral port. */
export async function startEmbeddedDefault(): Promise<{
  server: ConfiguredServer;
  url: string;
  client: OpenAI;
}> {
  const server = await createServerFromConfig(
    parseConfig({ simulated: { latency: false }, server: { debugTrace: true } }),
  );
  const url = await server.gateway.listen({ port: 0 });
  return { server, url, client: new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 }) };
}

/** Starts the simulated pool and a gateway on ephemeral loopback ports. */
export async function startHarness(
  options: {
    config?: GatewayConfig;
    faults?: Record<string, FaultSpec>;
    modes?: (workers: UpstreamWorker[]) => GatewayMode[];
    worker?: { timeoutMs?: number; maxRetries?: number; streamIdleTimeoutMs?: number };
  } = {},
): Promise<Harness> {
  const upstream = await createSimulatedUpstream({
    models: DEFAULT_SIMULATED_POOL.map((entry) => ({ ...entry.spec, latencyMs: 0, latencyJitterMs: 0 })),
    seed: 7,
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const workers = DEFAULT_SIMULATED_POOL.map((entry) =>
    createOpenAIWorker({
      id: entry.id,
      baseURL: upstream.baseURL,
      model: entry.spec.model,
      price: entry.price,
      timeoutMs: options.worker?.timeoutMs ?? 5_000,
      maxRetries: options.worker?.maxRetries ?? 2,
      initialBackoffMs: 5,
      streamIdleTimeoutMs: options.worker?.streamIdleTimeoutMs ?? 2_000,
    }),
  );
  const modes = options.modes
    ? options.modes(workers)
    : [createRoutedMode({ model: 'fugu', route: (text) => (/\d/.test(text) ? 0 : 2) })];
  const gateway = createGateway({ workers, modes, config: { exposeWorkers: true, ...options.config } });
  const url = await gateway.listen({ port: 0 });
  return {
    upstream,
    gateway,
    url,
    workers,
    async close() {
      await gateway.close();
      await upstream.close();
    },
  };
}
