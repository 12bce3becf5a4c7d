/**
 * The embedded default's router: a hashing backbone plus a TRINITY head whose agent rows are trained at
 * start-up with sep-CMA-ES (`trainRouterHead`) on the simulated pool's recorded outcomes. Role rows are set
 * by hand, not learned: Worker first, then Verifier (the coordinator turns a Verifier chosen before any
 * answer into a Worker), so the loop is answer → verify within the turn budget.
 */
import {
  createHashingBackbone,
  createRouter,
  createRouterHead,
  type Router,
  renderPrompt,
  trainRouterHead,
} from '@openfugu/trinity';
import {
  DEFAULT_SIMULATED_POOL,
  generateSimTasks,
  type SimulatedModelSpec,
  simulatedOutcome,
} from './sim/skills.js';

/** What was trained, for the banner and /health. */
export interface EmbeddedRouter {
  router: Router;
  /** Mean reward of the trained head on its validation prompts vs the best single worker there. */
  validationReward: number;
  bestSingleReward: number;
  bestSingle: string;
  tasks: number;
  generations: number;
  trainingMs: number;
}

/**
 * Trains the embedded router on `taskCount` synthetic tasks answered by the simulated pool.
 *
 * @example
 * ```ts
 * const { router, validationReward } = trainEmbeddedRouter({ seed: 1 });
 * ```
 */
export function trainEmbeddedRouter(
  options: {
    pool?: readonly { id: string; spec: SimulatedModelSpec; price: { input: number; output: number } }[];
    seed?: number;
    taskCount?: number;
    generations?: number;
    /** Hashing dimension (default 128: few enough parameters for CMA-ES to converge in seconds). */
    dimension?: number;
  } = {},
): EmbeddedRouter {
  const pool = options.pool ?? DEFAULT_SIMULATED_POOL;
  const seed = options.seed ?? 1;
  const started = performance.now();
  const backbone = createHashingBackbone({ dimension: options.dimension ?? 128 });
  const tasks = generateSimTasks(options.taskCount ?? 800, seed + 10);
  // The router reads `role: content` renderings, so train on the same form.
  const features = tasks.map((task) => backbone.embedSync(renderPrompt(task.prompt)));
  const outcomes = tasks.map((task) =>
    pool.map((entry) => (simulatedOutcome(entry.spec, task.prompt, seed) ? 1 : 0)),
  );
  const prices = pool.map((entry) => (entry.price.input + entry.price.output) / 2);
  const maxPrice = Math.max(...prices, 1e-9);
  const generations = options.generations ?? 60;
  const trained = trainRouterHead({
    features,
    outcomes,
    costs: prices.map((price) => price / maxPrice),
    lambda: 0.05,
    seed,
    maxGenerations: generations,
    agents: pool.map((entry) => entry.id),
    backboneId: backbone.id,
  });
  const agentRows = trained.head.weights;
  const d = backbone.dimension;
  const weights = new Float64Array((pool.length + 3) * d);
  weights.set(agentRows.subarray(0, pool.length * d));
  // Role rows: Worker 0, Thinker −1, Verifier +1 along the mean feature, so Verifier wins once an answer
  // exists (before that the coordinator converts it into a Worker).
  const mean = new Float64Array(d);
  for (const feature of features) for (let i = 0; i < d; i++) mean[i]! += feature[i]! / features.length;
  for (let i = 0; i < d; i++) {
    weights[(pool.length + 1) * d + i] = -mean[i]!;
    weights[(pool.length + 2) * d + i] = mean[i]!;
  }
  const head = createRouterHead({
    agentCount: pool.length,
    dimension: d,
    weights,
    agents: pool.map((entry) => entry.id),
    backboneId: backbone.id,
  });
  const router = createRouter({ backbone, head });

  const validation = trained.validationIndices;
  let reward = 0;
  const single = new Array<number>(pool.length).fill(0);
  for (const index of validation) {
    const decision = router.routeSync(renderPrompt(tasks[index]!.prompt));
    reward += outcomes[index]![decision.agentIndex]!;
    outcomes[index]!.forEach((value, agent) => {
      single[agent]! += value;
    });
  }
  const bestIndex = single.indexOf(Math.max(...single));
  return {
    router,
    validationReward: validation.length > 0 ? reward / validation.length : 0,
    bestSingleReward: validation.length > 0 ? single[bestIndex]! / validation.length : 0,
    bestSingle: pool[bestIndex]?.id ?? '',
    tasks: tasks.length,
    generations: trained.history.length,
    trainingMs: performance.now() - started,
  };
}
