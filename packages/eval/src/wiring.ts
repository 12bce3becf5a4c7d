/**
 * The edge wiring of the CLI: real backbones from @openfugu/trinity and real trainers — TRINITY's
 * sep-CMA-ES head training (@openfugu/trinity → @openfugu/cmaes) and GRPO on a softmax-linear policy
 * (@openfugu/grpo). Both trainers hold out 20% of the *training* prompts for model selection; the test
 * prompts never reach them.
 */
import { createRng } from '@openfugu/cmaes';
import { createSoftmaxLinearTrainer } from '@openfugu/grpo';
import { type Backbone, InvalidArgumentError, type Random } from '@openfugu/schema';
import * as trinity from '@openfugu/trinity';
import type { RouterTrainer, RouterTrainingInput, TrainedRouter } from './evaluate.js';

/** A seeded `Random` (xoshiro128** from @openfugu/cmaes). */
export function seededRandom(seed: number): Random {
  return createRng(seed);
}

/** An embedding function backed by a trinity backbone, with a per-run cache keyed by text. */
export async function createBackboneEmbedder(
  name: 'hashing' | 'glove',
): Promise<{ id: string; embed: (texts: readonly string[]) => Promise<Float32Array[]> }> {
  let backbone: Backbone;
  if (name === 'hashing') {
    backbone = trinity.createHashingBackbone({ dimension: 1024 });
  } else {
    const factory = (trinity as Record<string, unknown>).createGloveBackbone as
      | ((settings?: Record<string, unknown>) => Backbone | Promise<Backbone>)
      | undefined;
    if (!factory) {
      throw new InvalidArgumentError({
        argument: 'backbone',
        message: 'this build of @openfugu/trinity has no glove backbone',
      });
    }
    backbone = await factory();
  }
  const cache = new Map<string, Float32Array>();
  return {
    id: backbone.id,
    async embed(texts) {
      const missing = [...new Set(texts.filter((t) => !cache.has(t)))];
      const vectors = missing.length > 0 ? await backbone.embed(missing) : [];
      for (let i = 0; i < missing.length; i++) cache.set(missing[i]!, vectors[i]!);
      return texts.map((t) => cache.get(t)!);
    },
  };
}

/** Trainer settings shared by both algorithms. */
export interface RouterTrainerOptions {
  /** CMA-ES generations (default 100); GRPO gets the same budget of reward evaluations. */
  generations?: number;
  onProgress?: (line: string) => void;
}

function rows(input: RouterTrainingInput): number[][] {
  const k = input.models.length;
  return input.features.map((_, p) => Array.from(input.outcomes.subarray(p * k, p * k + k)));
}

function linearRouter(weights: ArrayLike<number>, k: number, d: number, history: unknown): TrainedRouter {
  return {
    history,
    utilities(features) {
      const out = new Float64Array(features.length * k);
      features.forEach((x, q) => {
        for (let a = 0; a < k; a++) {
          let sum = 0;
          for (let i = 0; i < d; i++) sum += weights[a * d + i]! * x[i]!;
          out[q * k + a] = sum;
        }
      });
      return out;
    },
  };
}

/** Creates the named trainer. */
export function createRouterTrainer(
  name: 'cmaes' | 'grpo',
  options: RouterTrainerOptions = {},
): RouterTrainer {
  const generations = options.generations ?? 100;
  const log = options.onProgress ?? (() => {});
  if (name === 'cmaes') {
    return {
      name: 'cmaes',
      async train(input) {
        const k = input.models.length;
        const d = input.features[0]?.length ?? 0;
        const settings: Parameters<typeof trinity.trainRouterHead>[0] = {
          features: input.features,
          outcomes: rows(input),
          seed: input.seed,
          maxGenerations: generations,
          validationFraction: 0.2,
          agents: input.models,
          onProgress: (g) => {
            if (g.generation % 10 === 0 || g.generation === generations) {
              log(
                `cmaes gen ${g.generation}: train ${g.trainReward.toFixed(4)} validation ${g.validationReward?.toFixed(4) ?? 'n/a'} σ ${g.stepSize.toExponential(2)}`,
              );
            }
          },
        };
        const result = trinity.trainRouterHead(settings);
        const history = {
          algorithm: 'sep-CMA-ES',
          generations: result.history.length,
          evaluations: result.history.at(-1)?.evaluations ?? 0,
          selected_generation: result.selectedGeneration,
          termination: result.termination,
          curve: result.history.map((g) => ({
            generation: g.generation,
            evaluations: g.evaluations,
            train: g.trainReward,
            validation: g.validationReward,
          })),
        };
        return linearRouter(result.head.weights, k, d, history);
      },
    };
  }
  return {
    name: 'grpo',
    async train(input) {
      const k = input.models.length;
      const d = input.features[0]?.length ?? 0;
      const n = input.features.length;
      const random = createRng(input.seed);
      // Same 80/20 selection split as the CMA-ES trainer, drawn with the run's seed.
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const validationCount = n >= 10 ? Math.round(n * 0.2) : 0;
      const validation = order.slice(0, validationCount);
      const train = order.slice(validationCount);
      const groupSize = 8;
      const batchSize = Math.min(32, train.length);
      // Budget: CMA-ES evaluates λ candidates on every training prompt per generation.
      const lambda = 4 + Math.floor(3 * Math.log(k * d));
      const budget = generations * lambda * train.length;
      const steps = Math.max(1, Math.round(budget / (batchSize * groupSize)));
      const trainer = createSoftmaxLinearTrainer({
        actions: k,
        features: d,
        observations: input.features,
        reward: (p, a) => input.outcomes[p * k + a]!,
        random,
        groupSize,
        optimizer: { learningRate: 0.05 },
      });
      const evalEvery = Math.max(1, Math.round(steps / generations));
      let best = {
        score: validation.length > 0 ? trainer.evaluate(validation).meanReward : 0,
        step: 0,
        weights: trainer.weights(),
      };
      const curve: { step: number; evaluations: number; train: number; validation: number | null }[] = [];
      let cursor = train.length;
      const batch = new Int32Array(batchSize);
      for (let s = 1; s <= steps; s++) {
        for (let b = 0; b < batchSize; b++) {
          if (cursor >= train.length) {
            for (let i = train.length - 1; i > 0; i--) {
              const j = Math.floor(random() * (i + 1));
              [train[i], train[j]] = [train[j]!, train[i]!];
            }
            cursor = 0;
          }
          batch[b] = train[cursor++]!;
        }
        trainer.step(batch);
        if (s % evalEvery === 0 || s === steps) {
          const validationReward = validation.length > 0 ? trainer.evaluate(validation).meanReward : null;
          const trainReward = trainer.evaluate(train).meanReward;
          curve.push({
            step: s,
            evaluations: s * batchSize * groupSize,
            train: trainReward,
            validation: validationReward,
          });
          if (validationReward !== null && validationReward > best.score)
            best = { score: validationReward, step: s, weights: trainer.weights() };
          if (curve.length % 10 === 0)
            log(
              `grpo step ${s}/${steps}: train ${trainReward.toFixed(4)} validation ${validationReward?.toFixed(4) ?? 'n/a'}`,
            );
        }
      }
      const weights = validation.length > 0 ? best.weights : trainer.weights();
      const history = {
        algorithm: 'GRPO (softmax-linear, Adam lr 0.05, G 8, batch 32)',
        steps,
        evaluations: steps * batchSize * groupSize,
        selected_step: validation.length > 0 ? best.step : steps,
        curve,
      };
      return linearRouter(weights, k, d, history);
    },
  };
}
