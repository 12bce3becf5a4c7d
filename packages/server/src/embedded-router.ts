/**
 * The embedded default's router: a hashing backbone plus a TRINITY head whose agent rows are trained at
 * start-up on the simulated pool's recorded outcomes — by default a supervised ridge value head
 * (`trainValueHead`, λ by 5-fold CV, per-agent bias; issue 16) routed by predicted quality − 0.05 · price /
 * max price (`createValueRouter`, as the knob serves it), or, with `trainer: 'cmaes'`, sep-CMA-ES (`trainRouterHead`)
 * on the same reward − 0.05 · normalised price. Both train on 80 % of the tasks; the banner's validation
 * figures come from the other 20 %. Role rows are set by hand, not learned: Worker first, then Verifier
 * (the coordinator turns a Verifier chosen before any answer into a Worker), so the loop is answer → verify
 * within the turn budget.
 */
import type { Backbone } from '@openfugu/schema';
import {
  createHashingBackbone,
  createRouterHead,
  createValueRouter,
  type RouterHead,
  renderPrompt,
  splitIndices,
  trainRouterHead,
  trainValueHead,
  type ValueRouter,
} from '@openfugu/trinity';
import {
  DEFAULT_SIMULATED_POOL,
  generateSimTasks,
  type SimulatedModelSpec,
  simulatedOutcome,
} from './sim/skills.js';

/** What was trained, for the banner and /health. */
export interface EmbeddedRouter {
  /**
   * The router the validation figures are measured with: `qualityHead` scored as predicted quality −
   * {@link EMBEDDED_LAMBDA} · price / max price (what `fugu` serves by default; for `'cmaes'`, whose reward
   * already includes the price, the head's own argmax).
   */
  router: ValueRouter;
  /** Mean reward of the trained head on its validation prompts vs the best single worker there. */
  validationReward: number;
  bestSingleReward: number;
  bestSingle: string;
  tasks: number;
  /** CMA-ES generations run (0 for the value head). */
  generations: number;
  trainingMs: number;
  /** How the agent rows were trained, for the banner. */
  method: string;
  /**
   * The trained head (for `'ridge'`, predicted quality with its per-agent bias and no price term; for
   * `'cmaes'`, whose reward already includes the price, the trained head itself): what the serve-time knob
   * (knob.ts) reads.
   */
  qualityHead: RouterHead;
  backbone: Backbone;
  /** Worker price per agent, `(input + output) / 2` (the knob normalises by the largest). */
  prices: number[];
  /** The training prompts as the router reads them (`user: …`), for the calibrated knob. */
  trainingPrompts: string[];
  /** The validation prompts (`user: …`), the 20 % held out of training. */
  validationPrompts: string[];
}

/** Price weight of the start-up training and the default knob of `fugu`: quality − 0.05 · price / max price. */
export const EMBEDDED_LAMBDA = 0.05;

const COST_WEIGHT = EMBEDDED_LAMBDA;

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
    /** `'ridge'` (default): supervised value head; `'cmaes'`: TRINITY's sep-CMA-ES. */
    trainer?: 'ridge' | 'cmaes';
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
  const agents = pool.map((entry) => entry.id);
  const split = splitIndices(tasks.length, 0.2, seed);
  let agentRows: Float64Array;
  let agentBias: Float64Array | undefined;
  let method: string;
  let generationsRun = 0;
  if ((options.trainer ?? 'ridge') === 'ridge') {
    const fitted = trainValueHead({
      features: split.train.map((i) => features[i]!),
      outcomes: split.train.map((i) => outcomes[i]!),
      agents,
      backboneId: backbone.id,
      seed,
    });
    agentRows = fitted.head.weights;
    agentBias = fitted.head.agentBias;
    method = `a ridge value head (penalty ${fitted.lambda.toPrecision(2)} by 5-fold CV)`;
  } else {
    const trained = trainRouterHead({
      features,
      outcomes,
      costs: prices.map((price) => price / maxPrice),
      lambda: COST_WEIGHT,
      seed,
      maxGenerations: generations,
      validationIndices: split.validation,
      agents,
      backboneId: backbone.id,
    });
    agentRows = trained.head.weights;
    generationsRun = trained.history.length;
    method = `sep-CMA-ES (${generationsRun} generations)`;
  }
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
  const qualityHead = createRouterHead({
    agentCount: pool.length,
    dimension: d,
    weights,
    agents,
    backboneId: backbone.id,
    ...(agentBias === undefined ? {} : { agentBias }),
  });
  // The value head's quality less the price term; CMA-ES's head already trades quality for price.
  const router = createValueRouter({
    head: qualityHead,
    backbone,
    prices: prices.map((price) => price / maxPrice),
    lambda: agentBias === undefined ? 0 : COST_WEIGHT,
  });
  const render = (index: number): string => renderPrompt(tasks[index]!.prompt);

  const validation = split.validation;
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
    generations: generationsRun,
    trainingMs: performance.now() - started,
    method,
    qualityHead,
    backbone,
    prices,
    trainingPrompts: split.train.map(render),
    validationPrompts: split.validation.map(render),
  };
}
