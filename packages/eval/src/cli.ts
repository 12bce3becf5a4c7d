/**
 * `openfugu-eval` — routing evaluations on recorded outcomes.
 *
 *   openfugu-eval routing --train DIR [--test DIR | --split 0.7] [--models a,b,c]
 *     --backbone hashing|glove|concat|concat-glove|concat-wide|concat-sparse --trainer cmaes|grpo|ridge|ridge-idf|ridge-fine|logistic|knn|ridge+cmaes|ridge+cmaes-head
 *     --seed N [--metadata subset] --json OUT.json [--markdown OUT.md] [--svg OUT.svg]
 *
 * Exit codes: 0 success, 2 bad usage or bad data (unknown model, empty split, malformed or mismatched files),
 * 1 unexpected failure. `src/bin.ts` is the process entry; `runEvalCli` runs in-process (tests).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { OpenFuguError } from '@openfugu/schema';
import {
  BACKBONE_NAMES,
  type BackboneName,
  SUBSET_FEATURES,
  TRAINER_NAMES,
  type TrainerName,
} from './names.js';
import { createProgress, silentProgress } from './progress.js';

const usage = `Usage:
  openfugu-eval routing --train DIR [--test DIR | --split 0.7] [--models a,b,c]
                        [--backbone hashing|glove|concat|concat-glove|concat-wide|concat-sparse]
                        [--trainer cmaes|grpo|ridge|ridge-idf|ridge-fine|logistic|knn|ridge+cmaes|ridge+cmaes-head]
                        [--seed N] [--metadata subset]
                        --json OUT.json [--markdown OUT.md] [--svg OUT.svg]
                        [--generations N] [--resamples N] [--quiet]

DIR is an AlpacaEval directory (prompts.jsonl + outcomes.csv), a RouteLLM directory or table
(<model>_correct columns; model names gpt4, mixtral), or a generic outcome CSV.
Defaults: --split 0.7 --backbone hashing --trainer cmaes --seed 0.`;

class UsageError extends Error {}

/** Where the CLI writes: process.stdout / process.stderr by default. */
export interface EvalCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/**
 * Runs `openfugu-eval` with `argv` (without node and script) and resolves to the exit code; never rejects.
 *
 * @example
 * ```ts
 * process.exitCode = await runEvalCli(process.argv.slice(2));
 * ```
 */
export async function runEvalCli(
  argv: string[],
  io: EvalCliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    return await main(argv, io);
  } catch (error) {
    if (error instanceof UsageError || OpenFuguError.isInstance(error)) {
      io.stderr.write(`openfugu-eval: ${(error as Error).message}\n`);
      if (error instanceof UsageError) io.stderr.write(`${usage}\n`);
      return 2;
    }
    io.stderr.write(`openfugu-eval: unexpected failure: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}

async function main(argv: string[], io: EvalCliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    io.stdout.write(`${usage}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'routing') throw new UsageError(`unknown command '${command}'`);
  let parsed: ReturnType<typeof parseRoutingArgs>;
  try {
    parsed = parseRoutingArgs(rest);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout.write(`${usage}\n`);
    return 0;
  }
  if (!values.train) throw new UsageError('--train is required');
  if (!values.json) throw new UsageError('--json is required');
  if (values.test && values.split !== undefined)
    throw new UsageError('give either --test or --split, not both');
  const split = values.split === undefined ? 0.7 : Number(values.split);
  if (!(split > 0 && split < 1))
    throw new UsageError(`--split must be a number in (0, 1), got '${values.split}'`);
  const seed = Number(values.seed ?? '0');
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  const backbone = (values.backbone ?? 'hashing') as BackboneName;
  if (!BACKBONE_NAMES.includes(backbone))
    throw new UsageError(`--backbone must be one of ${BACKBONE_NAMES.join(', ')}`);
  const trainerName = (values.trainer ?? 'cmaes') as TrainerName;
  if (!TRAINER_NAMES.includes(trainerName))
    throw new UsageError(`--trainer must be one of ${TRAINER_NAMES.join(', ')}`);
  if (values.metadata !== undefined && values.metadata !== 'subset')
    throw new UsageError(`--metadata must be subset`);
  const generations = values.generations === undefined ? undefined : Number(values.generations);
  if (generations !== undefined && !(Number.isSafeInteger(generations) && generations > 0)) {
    throw new UsageError('--generations must be a positive integer');
  }
  const resamples = values.resamples === undefined ? 1000 : Number(values.resamples);
  if (!(Number.isSafeInteger(resamples) && resamples > 0))
    throw new UsageError('--resamples must be a positive integer');
  const log = values.quiet ? () => {} : (line: string) => io.stderr.write(`${line}\n`);
  // Quiet means no log lines and no tables, not no sign of life: on a terminal, one progress line.
  const progress =
    values.quiet && io.stderr.isTTY === true
      ? createProgress('openfugu-eval', generations ?? 100, io.stderr)
      : silentProgress;

  // The modules that pull in trinity, cmaes and grpo load only now, after the arguments are checked, so a
  // usage error answers at once instead of after loading the training stack.
  const [{ evaluateRouting }, { loadOutcomes }, { renderCurveSvg, renderMarkdownReport }, wiring, trinity] =
    await Promise.all([
      import('./evaluate.js'),
      import('./loaders.js'),
      import('./report.js'),
      import('./wiring.js'),
      import('@openfugu/trinity'),
    ]);
  const { createBackboneEmbedder, createRouterTrainer, seededRandom } = wiring;
  const train = loadOutcomes(values.train);
  const test = values.test ? loadOutcomes(values.test) : undefined;
  const models = values.models
    ?.split(',')
    .map((m) => m.trim())
    .filter((m) => m.length > 0);
  if (test && !models) {
    const missing = train.models.filter((m) => !test.models.includes(m));
    if (missing.length > 0) {
      throw new UsageError(`train and test tables disagree on models: test lacks ${missing.join(', ')}`);
    }
  }
  log(`loaded ${train.name}: ${train.prompts.length} prompts × ${train.models.length} models`);
  const embedder = await createBackboneEmbedder(backbone);
  const trainerOptions: Parameters<typeof createRouterTrainer>[1] = {
    onProgress: log,
    onStep: (done, total) => progress.update(Math.min(done, total), `training ${done}/${total}`),
  };
  if (generations !== undefined) trainerOptions.generations = generations;
  const trainer = createRouterTrainer(trainerName, trainerOptions);
  const started = performance.now();
  const options: Parameters<typeof evaluateRouting>[0] = {
    train,
    embed: embedder.embed,
    trainer,
    seed,
    random: seededRandom(seed),
    resamples,
    backboneName: embedder.id,
  };
  if (test) options.test = test;
  else options.split = split;
  if (values.metadata === 'subset') {
    // The subject (MMLU) / source (AlpacaEval) column, hashed into 256 features (trinity categoryFeatures).
    options.metadataFeatures = (prompt) =>
      trinity.categoryFeatures(prompt.subset === undefined ? [] : [prompt.subset], SUBSET_FEATURES);
    options.backboneName = trinity.withCategoryId(embedder.id, SUBSET_FEATURES);
  }
  if (models) options.models = models;
  progress.update(0, 'embedding and training');
  let report: Awaited<ReturnType<typeof evaluateRouting>>;
  try {
    report = await evaluateRouting(options, () => performance.now());
  } finally {
    progress.stop();
  }
  const output = {
    ...report,
    wall_ms: performance.now() - started,
    command: `openfugu-eval routing ${rest.join(' ')}`,
  };
  writeOut(values.json, `${JSON.stringify(output, null, 2)}\n`);
  if (values.markdown) writeOut(values.markdown, renderMarkdownReport(report));
  if (values.svg) writeOut(values.svg, renderCurveSvg(report));
  log(
    `router ${report.router.mean.toFixed(4)} | best single ${report.best_single.model} ${report.best_single.mean.toFixed(4)} | oracle ${report.oracle.mean.toFixed(4)} | random ${report.random.mean.toFixed(4)} | APGR ${report.apgr.toFixed(3)} | CPT50 ${report.cpt50?.toFixed(3) ?? 'n/a'} CPT80 ${report.cpt80?.toFixed(3) ?? 'n/a'} | n_test ${report.n_test}`,
  );
  return 0;
}

function parseRoutingArgs(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      train: { type: 'string' },
      test: { type: 'string' },
      split: { type: 'string' },
      models: { type: 'string' },
      backbone: { type: 'string' },
      trainer: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      markdown: { type: 'string' },
      svg: { type: 'string' },
      generations: { type: 'string' },
      resamples: { type: 'string' },
      quiet: { type: 'boolean' },
      metadata: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function writeOut(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
}
