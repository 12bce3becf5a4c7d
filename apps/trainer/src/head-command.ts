/**
 * `openfugu-train head`: load recorded outcomes, train a head (cmaes or grpo) with checkpoints and
 * resume, write the head file, a results JSON and an SVG learning curve — or fit the supervised ridge value
 * head (`ridge`: one fit, λ by 5-fold CV; the SVG then shows the CV path).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Features, renderLineChartSvg } from '@openfugu/eval';
import { InvalidArgumentError } from '@openfugu/schema';
import { type RouterHead, saveHeadFile } from '@openfugu/trinity';
import {
  denseRoutingData,
  type HeadBackbone,
  loadRoutingData,
  type RoutingData,
  referencePoints,
} from './data.js';
import {
  type CurvePoint,
  type HeadCheckpoint,
  routedReward,
  trainHead,
  trainRidgeHead,
  valueRoutedReward,
} from './head.js';
import { createProgress, type ProgressSink } from './progress.js';

/** Options of {@link runHeadCommand} (parsed CLI flags). */
export interface HeadCommandOptions {
  data: string;
  models?: string[];
  backbone: HeadBackbone;
  /** `ridge` ignores the generation, validation, checkpoint, GRPO and role settings (the CLI refuses them). */
  trainer: 'cmaes' | 'grpo' | 'ridge';
  seed: number;
  generations: number;
  out: string;
  holdout: number;
  validationFraction: number;
  checkpoint?: string;
  checkpointEvery: number;
  resume?: string;
  json?: string;
  svg?: string;
  groupSize?: number;
  batchSize?: number;
  learningRate?: number;
  /** Write the three (zero) role rows. Default true. */
  roles?: boolean;
  /** `subset`: the prompts' subset label as request-category features (ridge only; see `loadRoutingData`). */
  metadata?: 'subset';
}

/** Writes a file atomically (write to a temporary name, then rename), creating its directory. */
export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

/** Renders a learning curve (train and validation reward against reward evaluations). */
export function renderLearningCurveSvg(
  title: string,
  subtitle: string,
  curve: readonly CurvePoint[],
  references: { name: string; y: number; color: string }[] = [],
): string {
  return renderLineChartSvg({
    title,
    subtitle,
    xLabel: 'reward evaluations',
    yLabel: 'mean reward (argmax routing)',
    series: [
      { name: 'train', color: '#1f77b4', points: curve.map((c) => ({ x: c.evaluations, y: c.train })) },
      {
        name: 'validation',
        color: '#d62728',
        points: curve
          .filter((c) => c.validation !== null)
          .map((c) => ({ x: c.evaluations, y: c.validation! })),
      },
    ],
    references,
    xFormat: (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(0)}k` : `${x}`),
    yFormat: (y) => y.toFixed(2),
  });
}

/** Runs the `head` command; returns the results object it wrote. */
export async function runHeadCommand(
  options: HeadCommandOptions,
  stderr: ProgressSink,
): Promise<Record<string, unknown>> {
  const started = performance.now();
  if (options.backbone === 'concat-sparse' && options.trainer !== 'ridge')
    throw new InvalidArgumentError({
      argument: 'backbone',
      message: `--backbone concat-sparse yields sparse vectors, which only --trainer ridge fits (--trainer ${options.trainer} needs a dense backbone: hashing, glove or concat)`,
    });
  if (options.metadata !== undefined && options.trainer !== 'ridge')
    throw new InvalidArgumentError({
      argument: 'metadata',
      message: `--metadata applies to --trainer ridge (the value head the server routes with a request category), not ${options.trainer}`,
    });
  if (options.trainer === 'ridge') return runRidgeHeadCommand(options, stderr, started);
  let resume: HeadCheckpoint | undefined;
  if (options.resume !== undefined) {
    if (!existsSync(options.resume))
      throw new InvalidArgumentError({
        argument: 'resume',
        message: `no such checkpoint: ${options.resume}`,
      });
    resume = JSON.parse(readFileSync(options.resume, 'utf8')) as HeadCheckpoint;
    if (resume.trainer !== options.trainer)
      throw new InvalidArgumentError({
        argument: 'resume',
        message: `checkpoint is for --trainer ${resume.trainer}, not ${options.trainer}`,
      });
  }
  const data = denseRoutingData(await loadData(options, stderr), `--trainer ${options.trainer}`);
  const log = (line: string): void => stderr.write(`${line}\n`);
  const startGeneration = resume?.curve.at(-1)?.generation ?? 0;
  const progress = createProgress(options.trainer, options.generations, stderr, { start: startGeneration });
  const fmt = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(4));
  const result = trainHead({
    trainer: options.trainer,
    features: data.train.features,
    outcomes: data.train.outcomes,
    models: data.models,
    backboneId: data.backboneId,
    seed: options.seed,
    generations: options.generations,
    validationFraction: options.validationFraction,
    checkpointEvery: options.checkpointEvery,
    roles: options.roles !== false,
    grpo: {
      ...(options.groupSize === undefined ? {} : { groupSize: options.groupSize }),
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.learningRate === undefined ? {} : { learningRate: options.learningRate }),
    },
    ...(resume ? { resume } : {}),
    onGeneration: (point) => {
      progress.update(point.generation, `train ${fmt(point.train)} val ${fmt(point.validation)}`);
    },
    ...(options.checkpoint === undefined
      ? {}
      : {
          onCheckpoint: (cp: HeadCheckpoint) => writeFileAtomic(options.checkpoint!, JSON.stringify(cp)),
        }),
  });
  progress.stop();
  await saveHeadFile(options.out, result.head);
  const seconds = (performance.now() - started) / 1000;
  const trainRefs = referencePoints(data.train);
  const test = heldOut(data, (set) =>
    routedReward(
      result.head.weights.subarray(0, data.models.length * result.head.dimension),
      set.features,
      set.outcomes,
      data.models.length,
    ),
  );
  const results = {
    ...resultsHeader(options, data),
    generations: options.generations,
    resumed_from_generation: resume ? startGeneration : null,
    prompts: {
      train: result.trainIndices.length,
      validation: result.validationIndices.length,
      test: data.test?.features.length ?? 0,
      dropped_incomplete: data.dropped,
    },
    hyperparameters: result.hyperparameters,
    evaluations: result.evaluations,
    evaluations_per_generation: result.evaluationsPerGeneration,
    selected_generation: result.selectedGeneration,
    selected: result.curve.find((c) => c.generation === result.selectedGeneration) ?? null,
    train_reference: trainReference(data.models, trainRefs),
    test,
    head: headSummary(options.out, data.models, result.head),
    curve: result.curve,
    seconds,
  };
  if (options.json !== undefined) writeFileAtomic(options.json, `${JSON.stringify(results, null, 2)}\n`);
  if (options.svg !== undefined) {
    writeFileAtomic(
      options.svg,
      renderLearningCurveSvg(
        `${data.name}: ${options.trainer} head training`,
        `${data.models.length} models, ${options.backbone} backbone, seed ${options.seed}, ${result.trainIndices.length} train / ${result.validationIndices.length} validation prompts`,
        result.curve,
        [
          {
            name: `best single (${data.models[trainRefs.bestModel]}, train)`,
            y: trainRefs.bestSingle,
            color: '#7f7f7f',
          },
          { name: 'oracle (train)', y: trainRefs.oracle, color: '#2ca02c' },
        ],
      ),
    );
  }
  log(
    `done in ${seconds.toFixed(1)} s: selected generation ${result.selectedGeneration}` +
      `${test ? `, held-out reward ${test.router.toFixed(4)} (best single ${test.best_single.mean.toFixed(4)})` : ''}; head → ${options.out}`,
  );
  return results;
}

/** Loads and embeds the data of a `head` run and logs what it trains on. */
async function loadData(options: HeadCommandOptions, stderr: ProgressSink) {
  const data = await loadRoutingData({
    data: options.data,
    ...(options.models ? { models: options.models } : {}),
    backbone: options.backbone,
    holdout: options.holdout,
    seed: options.seed,
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
  stderr.write(
    `openfugu-train head: ${data.name}, ${data.models.length} models, ${data.train.features.length} training prompts` +
      `${data.test ? `, ${data.test.features.length} held out` : ''}${data.dropped > 0 ? `, ${data.dropped} incomplete dropped` : ''}; trainer ${options.trainer}, backbone ${options.backbone}${options.metadata ? ` + ${options.metadata} as request category` : ''}, seed ${options.seed}\n`,
  );
  return data;
}

/**
 * The held-out block of the results: the router's mean reward on the test prompts against the best single
 * model (chosen on the training prompts, scored on the test prompts) and the oracle; null without a test set.
 */
function heldOut<F extends Features>(
  data: RoutingData<F>,
  routerMean: (set: NonNullable<RoutingData<F>['test']>) => number,
) {
  if (!data.test) return null;
  const m = referencePoints(data.train).bestModel;
  return {
    prompts: data.test.features.length,
    router: routerMean(data.test),
    best_single: {
      model: data.models[m],
      mean: data.test.outcomes.reduce((s, row) => s + row[m]!, 0) / data.test.outcomes.length,
      oracle: referencePoints(data.test).oracle,
    },
  };
}

/** The first fields of every `head` results JSON. */
function resultsHeader(options: HeadCommandOptions, data: RoutingData<Features>) {
  return {
    command: 'head',
    dataset: data.name,
    data: options.data,
    models: data.models,
    backbone: data.backboneId,
    trainer: options.trainer,
    seed: options.seed,
  };
}

function trainReference(models: readonly string[], refs: ReturnType<typeof referencePoints>) {
  return { best_single: models[refs.bestModel], best_single_mean: refs.bestSingle, oracle: refs.oracle };
}

function headSummary(file: string, models: readonly string[], head: RouterHead) {
  return {
    file,
    agents: models,
    role_rows: head.roleCount,
    dimension: head.dimension,
    ...(head.backboneId === undefined ? {} : { backbone_id: head.backboneId }),
    agent_bias: head.agentBias === undefined ? null : Array.from(head.agentBias),
  };
}

/** `head --trainer ridge`: one supervised fit, the head, the results JSON and (optionally) the CV path as SVG. */
async function runRidgeHeadCommand(
  options: HeadCommandOptions,
  stderr: ProgressSink,
  started: number,
): Promise<Record<string, unknown>> {
  if (options.out.toLowerCase().endsWith('.npy'))
    throw new InvalidArgumentError({
      argument: 'out',
      message: `--trainer ridge writes a per-model bias, which .npy cannot hold: write ${options.out.replace(/\.npy$/i, '.safetensors')} or .json`,
    });
  const data = await loadData(options, stderr);
  const result = trainRidgeHead({
    features: data.train.features,
    outcomes: data.train.outcomes,
    models: data.models,
    backboneId: data.backboneId,
    seed: options.seed,
  });
  await saveHeadFile(options.out, result.head);
  const seconds = (performance.now() - started) / 1000;
  const trainRefs = referencePoints(data.train);
  const test = heldOut(data, (set) => valueRoutedReward(result.head, set.features, set.outcomes));
  const results = {
    ...resultsHeader(options, data),
    prompts: {
      train: data.train.features.length,
      test: data.test?.features.length ?? 0,
      dropped_incomplete: data.dropped,
    },
    hyperparameters: result.hyperparameters,
    lambda: result.lambda,
    criterion: result.criterion,
    cv: result.cv,
    train_reference: trainReference(data.models, trainRefs),
    train_router: valueRoutedReward(result.head, data.train.features, data.train.outcomes),
    test,
    head: headSummary(options.out, data.models, result.head),
    seconds,
  };
  if (options.json !== undefined) writeFileAtomic(options.json, `${JSON.stringify(results, null, 2)}\n`);
  if (options.svg !== undefined) {
    const deferral = result.criterion === 'deferral';
    writeFileAtomic(
      options.svg,
      renderLineChartSvg({
        title: `${data.name}: ridge value head, 5-fold CV over λ`,
        subtitle: `${data.models.length} models, ${options.backbone} backbone, seed ${options.seed}, ${data.train.features.length} training prompts; chosen λ ${result.lambda.toPrecision(3)}`,
        xLabel: 'log10 λ',
        yLabel: deferral ? 'out-of-fold deferral area (higher is better)' : 'held-out MSE (lower is better)',
        series: [
          {
            name: deferral ? 'CV deferral area' : 'CV loss',
            color: '#1f77b4',
            points: result.cv.map((c) => ({
              x: Math.log10(c.lambda),
              y: deferral ? (c.deferral ?? Number.NaN) : c.loss,
            })),
          },
        ],
        references: [],
        xFormat: (x) => x.toFixed(1),
        yFormat: (y) => y.toFixed(4),
      }),
    );
  }
  stderr.write(
    `done in ${seconds.toFixed(1)} s: ridge λ ${result.lambda.toPrecision(3)} (${result.criterion} criterion, ${result.solver})` +
      `${test ? `, held-out reward ${test.router.toFixed(4)} (best single ${test.best_single.mean.toFixed(4)})` : ''}; head → ${options.out}\n`,
  );
  return results;
}
