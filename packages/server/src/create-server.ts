/**
 * Builds a whole server from a configuration: upstream workers (or the embedded simulated pool), modes,
 * and the gateway. The app (`apps/server`) only parses flags, loads the file and calls this.
 */
import type { Worker } from '@openfugu/schema';
import { type ServerConfig, secretFromEnv } from './config.js';
import { fitDomainRouter } from './domain-router.js';
import { createGateway, type Gateway, type GatewayConfig } from './gateway.js';
import { createRoutedMode, type GatewayMode } from './modes.js';
import { createSimulatedUpstream, type SimulatedUpstream } from './sim/simulated-upstream.js';
import { DEFAULT_SIMULATED_POOL, generateSimTasks, simulatedOutcome } from './sim/skills.js';
import { createOpenAIWorker, type UpstreamWorker } from './upstream/openai-worker.js';

/** Options of `createServerFromConfig`. */
export interface CreateServerOptions {
  /** Environment for secrets (default: none; the app passes `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Injected fetch for the upstream workers. */
  fetch?: typeof fetch;
}

/** A server built from configuration. */
export interface ConfiguredServer {
  readonly gateway: Gateway;
  /** The embedded simulated pool, when no upstreams are configured. */
  readonly simulated: SimulatedUpstream | undefined;
  /** Public model names served. */
  readonly models: readonly string[];
  /** One line per mode: how it routes (honest about heuristics). */
  readonly notes: readonly string[];
  close(): Promise<void>;
}

/**
 * Creates the gateway described by `config`. Without `upstreams`, it starts the embedded simulated pool on
 * an ephemeral loopback port and fits the router on the pool's recorded outcomes.
 *
 * @example
 * ```ts
 * const server = await createServerFromConfig({}, { env: process.env });
 * const url = await server.gateway.listen({ port: 8088 });
 * ```
 */
export async function createServerFromConfig(
  config: ServerConfig,
  options: CreateServerOptions = {},
): Promise<ConfiguredServer> {
  const env = options.env ?? {};
  let simulated: SimulatedUpstream | undefined;
  let workers: UpstreamWorker[];
  const notes: string[] = [];
  const routerModel = config.router?.model ?? 'fugu';
  const modes: GatewayMode[] = [];

  if (!config.upstreams) {
    const seed = config.simulated?.seed ?? 1;
    const latency = config.simulated?.latency ?? true;
    simulated = await createSimulatedUpstream({
      models: DEFAULT_SIMULATED_POOL.map((entry) =>
        latency ? entry.spec : { ...entry.spec, latencyMs: 0, latencyJitterMs: 0 },
      ),
      seed,
    });
    const baseURL = simulated.baseURL;
    workers = DEFAULT_SIMULATED_POOL.map((entry) =>
      createOpenAIWorker({
        id: entry.id,
        baseURL,
        model: entry.spec.model,
        price: entry.price,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    );
    // Recorded outcomes of the simulated pool on synthetic tasks: what a router is fitted on.
    const tasks = generateSimTasks(config.router?.trainingTasks ?? 400, config.router?.seed ?? 11);
    const outcomes = tasks.map((task) => ({
      prompt: task.prompt,
      correct: DEFAULT_SIMULATED_POOL.map((entry) => simulatedOutcome(entry.spec, task.prompt, seed)),
    }));
    const costs = DEFAULT_SIMULATED_POOL.map((entry) => entry.price.input + entry.price.output);
    const router = fitDomainRouter(outcomes, workers.length, costs);
    modes.push(
      createRoutedMode({
        model: routerModel,
        description: 'keyword-domain router fitted on recorded outcomes',
        route: (text, available) => router.route(text, available),
      }),
    );
    notes.push(
      `${routerModel}: keyword-domain heuristic fitted on ${outcomes.length} recorded outcomes of the simulated pool (not a TRINITY head)`,
    );
  } else {
    workers = config.upstreams.map((upstream, index) =>
      createOpenAIWorker({
        id: upstream.id,
        baseURL: upstream.baseURL,
        model: upstream.model,
        ...(upstream.apiKeyEnv
          ? { apiKey: secretFromEnv(env, upstream.apiKeyEnv, `upstreams[${index}].apiKeyEnv`) }
          : {}),
        ...(upstream.headers ? { headers: upstream.headers } : {}),
        ...(upstream.price ? { price: upstream.price } : {}),
        ...(upstream.description ? { description: upstream.description } : {}),
        ...(upstream.timeoutMs ? { timeoutMs: upstream.timeoutMs } : {}),
        ...(upstream.streamIdleTimeoutMs ? { streamIdleTimeoutMs: upstream.streamIdleTimeoutMs } : {}),
        ...(upstream.maxRetries !== undefined ? { maxRetries: upstream.maxRetries } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    );
    const cheapest = cheapestIndex(workers);
    modes.push(
      createRoutedMode({
        model: routerModel,
        route: (_text, available) => firstAvailable(available, cheapest),
      }),
    );
    notes.push(
      `${routerModel}: no trained head for this pool yet — routes to the cheapest available upstream`,
    );
  }

  const server = config.server ?? {};
  const gatewayConfig: GatewayConfig = {
    exposeWorkers: server.exposeWorkers ?? simulated !== undefined,
    debugTrace: server.debugTrace ?? simulated !== undefined,
    ...(server.bodyLimitBytes ? { bodyLimitBytes: server.bodyLimitBytes } : {}),
    ...(server.maxMessages ? { maxMessages: server.maxMessages } : {}),
    ...(server.requestTimeoutMs ? { requestTimeoutMs: server.requestTimeoutMs } : {}),
    ...(server.shutdownTimeoutMs !== undefined ? { shutdownTimeoutMs: server.shutdownTimeoutMs } : {}),
    ...(server.metrics !== undefined ? { metrics: server.metrics } : {}),
    ...(server.metricsRequireAuth !== undefined ? { metricsRequireAuth: server.metricsRequireAuth } : {}),
    ...(server.logger !== undefined ? { logger: server.logger } : {}),
    ...(config.pool ? { pool: config.pool } : {}),
    ...(config.auth?.rateLimit ? { rateLimit: config.auth.rateLimit } : {}),
    apiKeys: (config.auth?.keys ?? []).map((key, index) => ({
      name: key.name,
      key: secretFromEnv(env, key.keyEnv, `auth.keys[${index}].keyEnv`),
      ...(key.rateLimit ? { rateLimit: key.rateLimit } : {}),
    })),
    ...(simulated
      ? {
          description:
            'embedded simulated pool on loopback (no real models): configure upstreams to serve real ones',
        }
      : {}),
  };
  const gateway = createGateway({ workers: workers as Worker[], modes, config: gatewayConfig });
  const models = [
    ...modes.map((mode) => mode.model),
    ...(gatewayConfig.exposeWorkers ? workers.map((worker) => worker.id) : []),
  ];
  return {
    gateway,
    simulated,
    models,
    notes,
    async close() {
      await gateway.close();
      await simulated?.close();
    },
  };
}

function cheapestIndex(workers: readonly UpstreamWorker[]): number[] {
  return workers
    .map((worker, index) => ({
      index,
      cost: (worker.descriptor.price?.input ?? 0) + (worker.descriptor.price?.output ?? 0),
    }))
    .sort((a, b) => a.cost - b.cost || a.index - b.index)
    .map((entry) => entry.index);
}

function firstAvailable(available: readonly boolean[], order: readonly number[]): number {
  return order.find((index) => available[index] !== false) ?? order[0] ?? 0;
}
