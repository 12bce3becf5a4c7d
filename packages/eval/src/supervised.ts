/**
 * Supervised router trainers for the eval CLI (issue 16), on top of @openfugu/trinity:
 *
 * - `ridge` / `logistic`: `trainValueHead` — per-model predicted quality, λ by 5-fold CV on the training
 *   prompts (ridge with two models by the out-of-fold deferral area — the ranking APGR/CPT and the knob use —,
 *   otherwise by held-out loss), per-model bias; on a sparse backbone (`concat-sparse`) ridge by conjugate
 *   gradients, with or without IDF feature scaling as CV prefers. Out-of-fold predictions on the training prompts are returned as
 *   `trainUtilities` (the eval calibrates operating points on them).
 * - `ridge-idf`: `ridge` with each feature scaled by its smooth IDF on the training prompts (TF-IDF-style
 *   weighting of the hashed n-gram buckets; `featureScale: 'idf'`), folded into the head's weights.
 * - `ridge-fine`: `ridge` with λ chosen by the same CV on a grid twice as fine (half-decade steps,
 *   10^-3 … 10^2 × the mean squared feature norm: 11 values instead of 6).
 * - `knn`: `trainKnnRouter` — cosine kNN, k by leave-one-out CV on ≤ 1,000 training prompts.
 * - `ridge+cmaes`: the ridge head, then CMA-ES over the per-model biases only (k numbers), maximising the
 *   argmax reward of the *out-of-fold* predictions + biases on the training prompts (a low-dimensional
 *   refinement that cannot memorise prompts).
 * - `ridge+cmaes-head`: ridge fitted on 80 % of the training prompts, then TRINITY's sep-CMA-ES over the
 *   whole head (weights and bias) started from it, the best generation on the other 20 % kept (validation
 *   early stopping; generation 0 = the ridge head).
 *
 * Both refinements get the same budget of fitness evaluations: `generations × λ_head`, where λ_head is
 * sep-CMA-ES's default population for the whole head (4 + ⌊3 ln(k·(d+1))⌋).
 */
import { createCmaes, createRng } from '@openfugu/cmaes';
import * as trinity from '@openfugu/trinity';
import { checkDense, type RouterTrainer, type RouterTrainingInput, type TrainedRouter } from './evaluate.js';

import type { SupervisedTrainerName } from './names.js';

export { SUPERVISED_TRAINERS, type SupervisedTrainerName } from './names.js';

function outcomeRows(input: RouterTrainingInput, rows?: readonly number[]): number[][] {
  const k = input.models.length;
  const list = rows ?? input.features.map((_, p) => p);
  return list.map((p) => Array.from(input.outcomes.subarray(p * k, p * k + k)));
}

function headRouter(
  head: trinity.RouterHead,
  history: unknown,
  trainUtilities?: Float64Array,
): TrainedRouter {
  return {
    history,
    ...(trainUtilities === undefined ? {} : { trainUtilities }),
    utilities(features) {
      const k = head.agentCount;
      const out = new Float64Array(features.length * k);
      features.forEach((x, q) => {
        const { agentLogits } = trinity.headLogits(head, x);
        out.set(trinity.predictQuality(head, agentLogits), q * k);
      });
      return out;
    },
  };
}

/** The half-decade λ grid of `ridge-fine`: 10^-3, 10^-2.5, …, 10^2 (relative to the mean squared norm). */
export const FINE_LAMBDA_SCALES: readonly number[] = Array.from({ length: 11 }, (_, i) => 10 ** (i / 2 - 3));

/**
 * The supervised value head as the eval's trainers (and `openfugu-train head --trainer ridge`) fit it:
 * `trainValueHead`, 5-fold CV over λ with folds drawn from `createRng(seed · 7919 + 1)`, per-model bias. Ridge
 * with two models chooses λ by the out-of-fold deferral area (the ranking the deferral curve and the knob use);
 * otherwise by held-out loss (more models: the argmax routes; logistic: measured only with the loss criterion).
 * Ridge on sparse features (`concat-sparse`) also cross-validates the IDF scaling (`featureScale: 'cv'`: kept
 * when its held-out loss is lower — on RouteLLM MMLU, not on GSM8K).
 */
export function fitValueHead(settings: {
  features: readonly trinity.FeatureVector[];
  outcomes: readonly (readonly number[])[];
  models: readonly string[];
  seed: number;
  model?: 'ridge' | 'logistic';
  backboneId?: string;
  variant?: { featureScale?: 'idf'; lambdaScales?: readonly number[] };
}): trinity.TrainValueHeadResult {
  const model = settings.model ?? 'ridge';
  const sparse = settings.features.some(trinity.isSparseVector);
  return trinity.trainValueHead({
    features: settings.features,
    outcomes: settings.outcomes,
    model,
    criterion: model === 'ridge' && settings.models.length === 2 ? 'deferral' : 'loss',
    ...(sparse && model === 'ridge' ? { featureScale: 'cv' as const } : {}),
    ...settings.variant,
    agents: settings.models,
    ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
    random: createRng(settings.seed * 7919 + 1),
  });
}

function valueHead(
  input: RouterTrainingInput,
  model: 'ridge' | 'logistic',
  rows?: readonly number[],
  variant: { featureScale?: 'idf'; lambdaScales?: readonly number[] } = {},
) {
  return fitValueHead({
    features: rows ? rows.map((p) => input.features[p]!) : input.features,
    outcomes: outcomeRows(input, rows),
    models: input.models,
    seed: input.seed,
    model,
    variant,
  });
}

/**
 * How a value head was fitted, for a report: algorithm, criterion, solver (and CG iterations), λ, the CV path,
 * the out-of-fold calibration.
 */
export function describeValueHead(result: trinity.TrainValueHeadResult): Record<string, unknown> {
  return {
    algorithm: `${result.model} value head (5-fold CV over λ by ${result.criterion === 'loss' ? 'held-out loss' : 'out-of-fold deferral area'}, per-model bias${result.featureScales ? ', IDF-scaled features' : ''}${result.cv.some((c) => c.featureScale !== undefined) ? ` (scaling chosen by held-out loss: ${result.featureScales ? 'IDF' : 'none'})` : ''}${result.solver === 'cg' ? ', conjugate gradients on sparse features' : ''})`,
    feature_scale: result.featureScales ? 'idf' : 'none',
    criterion: result.criterion,
    solver: result.solver,
    ...(result.iterations === undefined ? {} : { cg_iterations: result.iterations }),
    lambda: result.lambda,
    cv: result.cv,
    oof_calibration: result.calibration,
  };
}

/** Mean outcome of `argmax(predictions + bias)` per prompt (prompts × k predictions). */
function argmaxReward(
  predictions: Float64Array,
  outcomes: Float64Array,
  k: number,
  bias: ArrayLike<number>,
): number {
  const n = predictions.length / k;
  let sum = 0;
  for (let p = 0; p < n; p++) {
    let best = 0;
    let bestValue = predictions[p * k]! + bias[0]!;
    for (let a = 1; a < k; a++) {
      const v = predictions[p * k + a]! + bias[a]!;
      if (v > bestValue) {
        best = a;
        bestValue = v;
      }
    }
    sum += outcomes[p * k + best]!;
  }
  return sum / n;
}

/** Creates one of the supervised trainers. */
export function createSupervisedTrainer(
  name: SupervisedTrainerName,
  options: { generations?: number; onProgress?: (line: string) => void } = {},
): RouterTrainer {
  const generations = options.generations ?? 100;
  const log = options.onProgress ?? (() => {});
  return {
    name,
    async train(input) {
      const k = input.models.length;
      const d = input.features[0] === undefined ? 0 : trinity.featureLength(input.features[0]);
      const budget = generations * (4 + Math.floor(3 * Math.log(k * (d + 1))));
      if (name === 'ridge' || name === 'logistic' || name === 'ridge-idf' || name === 'ridge-fine') {
        const result =
          name === 'ridge-idf'
            ? valueHead(input, 'ridge', undefined, { featureScale: 'idf' })
            : name === 'ridge-fine'
              ? valueHead(input, 'ridge', undefined, { lambdaScales: FINE_LAMBDA_SCALES })
              : valueHead(input, name);
        log(`${name}: λ ${result.lambda.toExponential(2)}, OOF Brier ${result.calibration.brier.toFixed(4)}`);
        return headRouter(result.head, describeValueHead(result), result.oofPredictions);
      }
      if (name === 'knn') {
        const { index, cv } = trinity.trainKnnRouter({
          features: input.features,
          outcomes: outcomeRows(input),
          agents: input.models,
          random: createRng(input.seed * 7919 + 2),
        });
        log(`knn: k ${index.k}`);
        return {
          history: {
            algorithm: 'kNN (cosine, uniform, k by leave-one-out CV on ≤ 1,000 prompts)',
            k: index.k,
            cv,
          },
          utilities(features) {
            const out = new Float64Array(features.length * k);
            for (const [q, x] of features.entries()) out.set(index.predict(x), q * k);
            return out;
          },
        };
      }
      if (name === 'ridge+cmaes') {
        const result = valueHead(input, 'ridge');
        const oof = result.oofPredictions;
        const start = argmaxReward(oof, input.outcomes, k, new Float64Array(k));
        const es = createCmaes({ dimension: k, sigma0: 0.05, seed: input.seed, maxEvaluations: budget });
        let best = { reward: start, delta: new Float64Array(k) };
        while (!es.stop()) {
          const xs = es.ask();
          const rewards = xs.map((x) => argmaxReward(oof, input.outcomes, k, x));
          rewards.forEach((r, i) => {
            if (r > best.reward) best = { reward: r, delta: Float64Array.from(xs[i]!) };
          });
          es.tell(
            xs,
            rewards.map((r) => -r),
          );
        }
        const bias = Float64Array.from(result.head.agentBias!, (b, a) => b + best.delta[a]!);
        const head = trinity.createRouterHead({
          agentCount: k,
          dimension: d,
          roles: false,
          weights: result.head.weights,
          agentBias: bias,
          valueLink: 'identity',
          agents: input.models,
        });
        log(
          `ridge+cmaes: OOF argmax reward ${start.toFixed(4)} → ${best.reward.toFixed(4)} (${es.evaluations} evaluations)`,
        );
        const shifted = Float64Array.from(oof, (v, i) => v + best.delta[i % k]!);
        return headRouter(
          head,
          {
            ...describeValueHead(result),
            refinement: 'CMA-ES over per-model biases on out-of-fold predictions',
            evaluations: es.evaluations,
            oof_reward_start: start,
            oof_reward_refined: best.reward,
            bias_delta: Array.from(best.delta),
          },
          shifted,
        );
      }
      // ridge+cmaes-head: ridge on 80 %, sep-CMA-ES over the whole augmented head, validation on 20 %.
      const split = trinity.splitIndices(input.features.length, 0.2, input.seed);
      const fitted = valueHead(input, 'ridge', split.train);
      const augmented = checkDense(input.features, name).map((x) => {
        const out = new Float32Array(d + 1);
        out.set(x);
        out[d] = 1;
        return out;
      });
      const init = new Float64Array(k * (d + 1));
      for (let a = 0; a < k; a++) {
        init.set(fitted.head.weights.subarray(a * d, (a + 1) * d), a * (d + 1));
        init[a * (d + 1) + d] = fitted.head.agentBias![a]!;
      }
      const trained = trinity.trainRouterHead({
        features: augmented,
        outcomes: outcomeRows(input),
        validationIndices: split.validation,
        seed: input.seed,
        sigma0: 0.02,
        maxGenerations: generations,
        init,
        agents: input.models,
      });
      log(`ridge+cmaes-head: selected generation ${trained.selectedGeneration}`);
      const w = trained.head.weights;
      return {
        history: {
          ...describeValueHead(fitted),
          refinement:
            'sep-CMA-ES over the whole head (σ₀ 0.02) from the ridge head, best validation generation',
          selected_generation: trained.selectedGeneration,
          evaluations: trained.history.at(-1)?.evaluations ?? 0,
          curve: trained.history.map((g) => ({
            generation: g.generation,
            train: g.trainReward,
            validation: g.validationReward,
          })),
        },
        utilities(features) {
          const out = new Float64Array(features.length * k);
          checkDense(features, name).forEach((x, q) => {
            for (let a = 0; a < k; a++) {
              let s = w[a * (d + 1) + d]!;
              for (let i = 0; i < d; i++) s += w[a * (d + 1) + i]! * x[i]!;
              out[q * k + a] = s;
            }
          });
          return out;
        },
      };
    },
  };
}
