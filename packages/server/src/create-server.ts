/**
 * Builds a whole server from a configuration: upstream workers (or the embedded simulated pool), modes,
 * and the gateway. The app (`apps/server`) only parses flags, loads the file and calls this.
 */
import { type Backbone, InvalidArgumentError, type Worker } from '@openfugu/schema';
import {
  createBackboneFromId,
  createHashingBackbone,
  isSelfDescribingBackboneId,
  loadHeadFile,
  parseCategoryId,
  parseHashingBackboneId,
} from '@openfugu/trinity';
import { createConductorMode } from './conductor-mode.js';
import { ConfigError, type ServerConfig, secretFromEnv } from './config.js';
import { EMBEDDED_LAMBDA, trainEmbeddedRouter } from './embedded-router.js';
import { createGateway, type Gateway, type GatewayConfig } from './gateway.js';
import {
  createKnobRouter,
  createPresetModes,
  defaultPresets,
  type KnobPreset,
  type KnobRouter,
} from './knob.js';
import { DEFAULT_LIMITS, type LimitsConfig } from './limits.js';
import { createRoutedMode, type GatewayMode } from './modes.js';
import { opsUiConfig } from './ops/ui-config.js';
import { createSimulatedUpstream, type SimulatedUpstream } from './sim/simulated-upstream.js';
import { DEFAULT_SIMULATED_POOL } from './sim/skills.js';
import { adminMasterKey, createStateFromConfig } from './state/from-config.js';
import type { RedisState } from './state/redis-state.js';
import type { SharedState } from './state/types.js';
import { createOpenAIWorker, type UpstreamWorker } from './upstream/openai-worker.js';

/** Options of `createServerFromConfig`. */
export interface CreateServerOptions {
  /** Environment for secrets (default: none; the app passes `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Injected fetch for the upstream workers. */
  fetch?: typeof fetch;
  /** The shared state (default: `createStateFromConfig(config, env)`: Redis when configured, else memory). */
  state?: SharedState;
}

/** A server built from configuration. */
export interface ConfiguredServer {
  readonly gateway: Gateway;
  /** The embedded simulated pool, when no upstreams are configured. */
  readonly simulated: SimulatedUpstream | undefined;
  /** Public model names served. */
  readonly models: readonly string[];
  /** Number of pool members. */
  readonly workerCount: number;
  /** One line per mode: how it routes (honest about heuristics). */
  readonly notes: readonly string[];
  /** Whether the operations page (`/ui`) is served. */
  readonly ui: boolean;
  /** Limits, budgets, worker health and stored keys: in memory, or in Redis shared by every replica. */
  readonly state: SharedState;
  /** Stops the gateway (in-flight requests finish), the simulated pool, and closes the state. */
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
        description: entry.description,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    );
    const trained = trainEmbeddedRouter({
      seed,
      ...(config.router?.trainingTasks ? { taskCount: config.router.trainingTasks } : {}),
    });
    const maxTurns = config.router?.maxTurns ?? 2;
    const knob = createKnobRouter({
      head: trained.qualityHead,
      backbone: trained.backbone,
      agents: trained.qualityHead.agents!,
      prices: trained.prices,
      defaultLambda: config.router?.lambda ?? EMBEDDED_LAMBDA,
      calibration: trained.trainingPrompts,
    });
    const presets = presetModes(knob, config.router?.presets ?? defaultPresets(routerModel), maxTurns);
    modes.push(...presets.modes);
    notes.push(
      `${routerModel}: TRINITY loop (${maxTurns} turns) with a hashing-backbone head trained at start-up as ${trained.method} on ${trained.tasks} recorded outcomes of the simulated pool in ${(trained.trainingMs / 1000).toFixed(1)} s: validation reward ${trained.validationReward.toFixed(2)} vs ${trained.bestSingleReward.toFixed(2)} for the best single worker (${trained.bestSingle}); role rows hand-set (answer, then verify)`,
      ...presets.notes,
    );
    if (config.conductor?.enabled !== false) {
      const planner = config.conductor?.planner ?? 'generalist';
      const model = config.conductor?.model ?? 'fugu-ultra';
      modes.push(
        createConductorMode({
          model,
          planner,
          descriptions: Object.fromEntries(
            DEFAULT_SIMULATED_POOL.map((entry) => [entry.id, entry.description]),
          ),
          ...(config.conductor?.maxRounds ? { maxRounds: config.conductor.maxRounds } : {}),
          ...(config.conductor?.maxSteps ? { maxSteps: config.conductor.maxSteps } : {}),
          ...(config.conductor?.numberedWorkers ? { numberedWorkers: true } : {}),
        }),
      );
      notes.push(`${model}: Conductor workflows planned by the '${planner}' worker`);
    }
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
        ...(upstream.maxResponseBytes ? { maxResponseBytes: upstream.maxResponseBytes } : {}),
        ...(upstream.maxStreamEventBytes ? { maxStreamEventBytes: upstream.maxStreamEventBytes } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    );
    if (config.router?.headPath) {
      const head = await loadHeadFile(config.router.headPath);
      // A head that records its backbone (a self-describing id: `hashing-v1:…` / `hashing-v2:…`, `prompt-stats-v1`
      // or `concat(…)` of these and GloVe — e.g. a head trained by `openfugu-train head --trainer ridge --backbone
      // concat-sparse` — optionally followed by a request-category block `&category-v1:d<n>`) gets exactly that
      // backbone back; one that does not gets the default hashing backbone of its dimension.
      const { backboneId: textId, categoryDimension } = parseCategoryId(head.backboneId ?? '');
      const recorded = textId !== '' && isSelfDescribingBackboneId(textId) ? textId : undefined;
      const seed = config.router.hashingSeed;
      if (seed !== undefined && recorded !== undefined) {
        const recordedSeed = recorded.startsWith('hashing-')
          ? parseHashingBackboneId(recorded)?.seed
          : undefined;
        if (recordedSeed !== seed) {
          throw new ConfigError({
            message: `router.hashingSeed: ${seed} differs from the backbone the head records (${recorded})`,
          });
        }
      }
      let backbone: Backbone;
      if (recorded === undefined) {
        backbone = createHashingBackbone({
          dimension: head.dimension - categoryDimension,
          ...(seed === undefined ? {} : { seed }),
        });
      } else {
        try {
          backbone = createBackboneFromId(recorded);
        } catch (error) {
          throw new ConfigError({
            message: `router.headPath: ${error instanceof Error ? error.message : String(error)}`,
          });
        }
        // GloVe parts load their vectors on the first embed; do it now, not on the first request.
        if (recorded.includes('glove-')) await backbone.embed(['']);
      }
      // The knob's value router checks that head, backbone and workers fit (`checkRouterFit`).
      const knob = createKnobRouter({
        head,
        backbone,
        agents: workers.map((worker) => worker.id),
        prices: workers.map((worker) => {
          const price = worker.descriptor.price;
          return price ? (price.input + price.output) / 2 : 0;
        }),
        defaultLambda: config.router.lambda ?? 0,
      });
      const maxTurns = config.router.maxTurns ?? 5;
      const presets = presetModes(knob, config.router.presets ?? defaultPresets(routerModel), maxTurns);
      modes.push(...presets.modes);
      notes.push(
        `${routerModel}: TRINITY loop (${maxTurns} turns), head ${config.router.headPath}${categoryDimension > 0 ? ` (request categories as features, ${categoryDimension}-d block)` : ''}`,
        ...presets.notes,
      );
    } else {
      const cheapest = cheapestIndex(workers);
      modes.push(
        createRoutedMode({
          model: routerModel,
          route: (_text, available) => firstAvailable(available, cheapest),
        }),
      );
      notes.push(
        `${routerModel}: no router head configured (router.headPath): each request goes to the cheapest available upstream`,
      );
    }
    if (config.conductor?.planner !== undefined && config.conductor.enabled !== false) {
      const descriptions: Record<string, string> = {};
      for (const upstream of config.upstreams)
        if (upstream.description) descriptions[upstream.id] = upstream.description;
      const model = config.conductor.model ?? 'fugu-ultra';
      modes.push(
        createConductorMode({
          model,
          planner: config.conductor.planner,
          descriptions,
          ...(config.conductor.maxRounds ? { maxRounds: config.conductor.maxRounds } : {}),
          ...(config.conductor.maxSteps ? { maxSteps: config.conductor.maxSteps } : {}),
          ...(config.conductor.numberedWorkers ? { numberedWorkers: true } : {}),
        }),
      );
      notes.push(`${model}: Conductor workflows planned by '${config.conductor.planner}'`);
    }
  }

  const server = config.server ?? {};
  const gatewayConfig: GatewayConfig = {
    exposeWorkers: server.exposeWorkers ?? simulated !== undefined,
    debugTrace: server.debugTrace ?? simulated !== undefined,
    ...pickLimits(server),
    ...(server.shutdownTimeoutMs !== undefined ? { shutdownTimeoutMs: server.shutdownTimeoutMs } : {}),
    ...(server.metrics !== undefined ? { metrics: server.metrics } : {}),
    ...(server.metricsRequireAuth !== undefined ? { metricsRequireAuth: server.metricsRequireAuth } : {}),
    ...(server.logger !== undefined ? { logger: server.logger } : {}),
    ...(server.trustProxy !== undefined ? { trustProxy: server.trustProxy } : {}),
    ...(config.pool ? { pool: config.pool } : {}),
    ...(config.auth?.rateLimit ? { rateLimit: config.auth.rateLimit } : {}),
    ...(config.auth?.failureLimit ? { authFailureLimit: config.auth.failureLimit } : {}),
    apiKeys: (config.auth?.keys ?? []).map((key, index) => ({
      name: key.name,
      key: secretFromEnv(env, key.keyEnv, `auth.keys[${index}].keyEnv`),
      ...(key.rateLimit ? { rateLimit: key.rateLimit } : {}),
    })),
    ...opsUiConfig(config.ui, simulated !== undefined, env),
    ...(simulated
      ? {
          description:
            'embedded simulated pool on loopback (no real models): configure upstreams to serve real ones',
        }
      : {}),
  };
  const masterKey = adminMasterKey(config, env);
  if (masterKey !== undefined) gatewayConfig.adminMasterKey = masterKey;
  const upstreamLimits = Object.fromEntries(
    (config.upstreams ?? []).flatMap((upstream) => (upstream.limits ? [[upstream.id, upstream.limits]] : [])),
  );
  if (Object.keys(upstreamLimits).length > 0) gatewayConfig.upstreamLimits = upstreamLimits;
  const state = options.state ?? createStateFromConfig(config, env);
  if (state.backend === 'redis') {
    // Wait for the first connection, but start either way: while Redis is down the failure policies answer.
    await (state as RedisState).ready(config.state?.redis?.connectTimeoutMs ?? 2000);
  }
  const gateway = createGateway({ workers: workers as Worker[], modes, config: gatewayConfig, state });
  const models = [
    ...modes.map((mode) => mode.model),
    ...(gatewayConfig.exposeWorkers ? workers.map((worker) => worker.id) : []),
  ];
  return {
    gateway,
    simulated,
    models,
    workerCount: workers.length,
    notes,
    ui: gatewayConfig.ui?.enabled === true,
    state,
    async close() {
      await gateway.close();
      await simulated?.close();
      if (!options.state) await state.close();
    },
  };
}

/** The preset modes; a preset the knob cannot serve (e.g. calibrated without training prompts) is a config error. */
function presetModes(
  knob: KnobRouter,
  presets: readonly KnobPreset[],
  maxTurns: number,
): { modes: GatewayMode[]; notes: string[] } {
  try {
    return createPresetModes(knob, presets, maxTurns);
  } catch (error) {
    if (error instanceof InvalidArgumentError)
      throw new ConfigError({ message: `router.presets: ${error.message}` });
    throw error;
  }
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

/** The limit fields (`DEFAULT_LIMITS`' names) a config's `server` section sets. */
function pickLimits(server: Readonly<Record<string, unknown>>): LimitsConfig {
  const limits: LimitsConfig = {};
  for (const name of Object.keys(DEFAULT_LIMITS) as (keyof LimitsConfig)[]) {
    const value = server[name];
    if (typeof value === 'number') limits[name] = value;
  }
  return limits;
}
