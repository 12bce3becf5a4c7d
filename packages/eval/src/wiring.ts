/**
 * The edge wiring of the CLI: real backbones from @openfugu/trinity and real trainers — TRINITY's
 * sep-CMA-ES head training (@openfugu/trinity → @openfugu/cmaes) and GRPO on a softmax-linear policy
 * (@openfugu/grpo). Both trainers hold out 20% of the *training* prompts for model selection; the test
 * prompts never reach them.
 */
import { createRng } from '@openfugu/cmaes';
import type { Backbone, Random } from '@openfugu/schema';
import * as trinity from '@openfugu/trinity';
import {
  checkDense,
  type Features,
  type RouterTrainer,
  type RouterTrainingInput,
  type TrainedRouter,
} from './evaluate.js';
import type { BackboneName, TrainerName } from './names.js';
import { createSupervisedTrainer } from './supervised.js';

/** A seeded `Random` (xoshiro128** from @openfugu/cmaes). */
export function seededRandom(seed: number): Random {
  return createRng(seed);
}

/**
 * An embedding function backed by a trinity backbone, with a per-run cache keyed by text. Each prompt is
 * embedded as the router reads a one-message conversation (`trinity.renderPrompt`: `user: <prompt>`), so a
 * head trained here routes real conversations as it was trained.
 */
export async function createBackboneEmbedder(
  name: BackboneName,
): Promise<{ id: string; embed: (texts: readonly string[]) => Promise<Features[]> }> {
  let backbone: Backbone;
  // `concat-sparse` hands over its non-zeros (the wide vectors are never made dense); the rest embed densely.
  let compute = (texts: readonly string[]): Promise<Features[]> => backbone.embed(texts);
  if (name === 'concat-sparse') {
    const wide = trinity.createWideConcatBackbone();
    backbone = wide;
    compute = async (texts) => texts.map((t) => wide.embedSparseSync(t));
  } else if (name === 'hashing') {
    backbone = trinity.createHashingBackbone({ dimension: 1024 });
  } else if (name === 'concat') {
    backbone = trinity.createDefaultConcatBackbone();
  } else if (name === 'concat-wide') {
    backbone = trinity.createDefaultConcatBackbone({ wordDimension: 1024 });
  } else if (name === 'concat-glove') {
    const glove = trinity.createGloveBackbone({ pooling: 'sif' });
    await glove.load();
    backbone = trinity.createDefaultConcatBackbone({ glove });
  } else {
    const glove = trinity.createGloveBackbone({ pooling: 'sif' });
    await glove.load();
    backbone = glove;
  }
  const cache = new Map<string, Features>();
  return {
    id: backbone.id,
    async embed(texts) {
      const missing = [...new Set(texts.filter((t) => !cache.has(t)))];
      const vectors = missing.length > 0 ? await compute(missing.map(trinity.renderPrompt)) : [];
      for (let i = 0; i < missing.length; i++) cache.set(missing[i]!, vectors[i]!);
      return texts.map((t) => cache.get(t)!);
    },
  };
}

export { BACKBONE_NAMES, type BackboneName, TRAINER_NAMES, type TrainerName } from './names.js';

/** Trainer settings shared by both algorithms. */
export interface RouterTrainerOptions {
  /** CMA-ES generations (default 100); GRPO gets the same budget of reward evaluations. */
  generations?: number;
  onProgress?: (line: string) => void;
  /** Called after each generation (CMA-ES) or epoch (GRPO) with how many are done of how many. */
  onStep?: (done: number, total: number) => void;
}

function rows(input: RouterTrainingInput): number[][] {
  const k = input.models.length;
  return input.features.map((_, p) => Array.from(input.outcomes.subarray(p * k, p * k + k)));
}

function linearRouter(
  weights: ArrayLike<number>,
  k: number,
  d: number,
  history: unknown,
  trainer: string,
): TrainedRouter {
  return {
    history,
    utilities(features) {
      const out = new Float64Array(features.length * k);
      checkDense(features, trainer).forEach((x, q) => {
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
export function createRouterTrainer(name: TrainerName, options: RouterTrainerOptions = {}): RouterTrainer {
  const generations = options.generations ?? 100;
  const log = options.onProgress ?? (() => {});
  if (name !== 'cmaes' && name !== 'grpo')
    return createSupervisedTrainer(name, { generations, onProgress: log });
  if (name === 'cmaes') {
    return {
      name: 'cmaes',
      async train(input) {
        const k = input.models.length;
        const features = checkDense(input.features, 'cmaes');
        const d = features[0]?.length ?? 0;
        const settings: Parameters<typeof trinity.trainRouterHead>[0] = {
          features,
          outcomes: rows(input),
          seed: input.seed,
          maxGenerations: generations,
          validationFraction: 0.2,
          agents: input.models,
          onProgress: (g) => {
            options.onStep?.(g.generation, generations);
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
        return linearRouter(result.head.weights, k, d, history, 'cmaes');
      },
    };
  }
  return {
    name: 'grpo',
    async train(input) {
      const k = input.models.length;
      const features = checkDense(input.features, 'grpo');
      const d = features[0]?.length ?? 0;
      const groupSize = 8;
      // Same budget of reward look-ups as CMA-ES: λ candidates × every training prompt per generation,
      // against G samples per prompt per GRPO epoch.
      const lambda = 4 + Math.floor(3 * Math.log(k * d));
      const epochs = Math.max(1, Math.round((generations * lambda) / groupSize));
      const result = trinity.trainRouterHeadGrpo({
        features,
        outcomes: rows(input),
        seed: input.seed,
        epochs,
        groupSize,
        validationFraction: 0.2,
        agents: input.models,
        onEpoch: (e) => {
          options.onStep?.(e.epoch, epochs);
          if (e.epoch % Math.max(1, Math.round(epochs / 10)) === 0) {
            log(
              `grpo epoch ${e.epoch}/${epochs}: train ${e.trainReward.toFixed(4)} validation ${e.validationReward?.toFixed(4) ?? 'n/a'}`,
            );
          }
        },
      });
      const history = {
        algorithm: 'GRPO (softmax-linear, Adam lr 0.05, G 8, batch 32)',
        epochs,
        selected_epoch: result.selectedEpoch,
        curve: result.history.map((e) => ({
          epoch: e.epoch,
          evaluations: e.epoch * result.trainIndices.length * groupSize,
          train: e.trainReward,
          validation: e.validationReward,
        })),
      };
      return linearRouter(result.head.weights, k, d, history, 'grpo');
    },
  };
}
