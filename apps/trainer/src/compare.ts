/**
 * GRPO vs sep-CMA-ES on one routing task with the same budget of reward evaluations, several seeds.
 *
 * Per seed: a held-out test split by prompt (never seen by either trainer), then both trainers on the
 * training prompts (each holds out 20 % of them for model selection). Budget: CMA-ES spends λ × n_train
 * lookups per generation; GRPO spends batch × G per step and runs round(λ n_train / (batch G)) steps per
 * "generation". After every generation the current iterate (CMA-ES mean / GRPO weights) is scored on
 * the test prompts: the held-out curve. The head each trainer returns (best validation) is scored too.
 */
import { writeFileSync } from 'node:fs';
import { renderLineChartSvg, seededRandom, selectPrompts, splitByPrompt } from '@openfugu/eval';
import { denseRoutingData, loadRoutingData, type RoutingData, referencePoints } from './data.js';
import { routedReward, trainHead } from './head.js';
import type { ProgressSink } from './progress.js';

/** Options of {@link runCompareCommand}. */
export interface CompareOptions {
  data: string;
  models?: string[];
  name?: string;
  seeds: number[];
  generations: number;
  holdout: number;
  maxPrompts?: number;
  json?: string;
  svg?: string;
  markdown?: string;
}

interface SeedRun {
  seed: number;
  trainer: 'cmaes' | 'grpo';
  seconds: number;
  evaluationsPerGeneration: number;
  /** Held-out reward of the current iterate after each generation. */
  heldOut: { generation: number; evaluations: number; test: number; validation: number | null }[];
  selectedGeneration: number;
  /** Held-out reward of the returned (best-validation) head. */
  selectedTest: number;
  bestSingleTest: number;
  oracleTest: number;
  prompts: { train: number; test: number };
}

function subsample(data: RoutingData, max: number, seed: number): RoutingData {
  const set = data.train;
  if (set.features.length <= max) return data;
  const random = seededRandom(seed + 7919);
  const order = set.features.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const keep = order.slice(0, max).sort((a, b) => a - b);
  return {
    ...data,
    train: {
      table: selectPrompts(set.table, keep),
      features: keep.map((i) => set.features[i]!),
      outcomes: keep.map((i) => set.outcomes[i]!),
    },
  };
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / (xs.length || 1);
const sd = (xs: readonly number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};

/** Runs the comparison and writes JSON / SVG / Markdown; returns the results object. */
export async function runCompareCommand(
  options: CompareOptions,
  stderr: ProgressSink,
): Promise<Record<string, unknown>> {
  const started = performance.now();
  const runs: SeedRun[] = [];
  let label = options.name ?? options.data;
  let models: string[] = [];
  // Load and embed once; the subsample (if any) is fixed, the test split changes with the seed.
  let data = denseRoutingData(
    await loadRoutingData({
      data: options.data,
      ...(options.models ? { models: options.models } : {}),
      backbone: 'hashing',
      holdout: 0,
    }),
    'compare',
  );
  if (options.maxPrompts !== undefined) data = subsample(data, options.maxPrompts, 0);
  for (const seed of options.seeds) {
    const table = data.train.table;
    label = options.name ?? data.name;
    models = data.models;
    // Held-out split by prompt text with this seed.
    const split = splitByPrompt(table, 1 - options.holdout, seededRandom(seed));
    const pickRows = <T>(xs: readonly T[], rows: readonly number[]): T[] => rows.map((r) => xs[r]!);
    const train = {
      features: pickRows(data.train.features, split.train),
      outcomes: pickRows(data.train.outcomes, split.train),
    };
    const test = {
      table: selectPrompts(table, split.test),
      features: pickRows(data.train.features, split.test),
      outcomes: pickRows(data.train.outcomes, split.test),
    };
    const trainRefs = referencePoints({ table, ...train });
    const testRefs = referencePoints(test);
    const bestSingleTest = mean(test.outcomes.map((row) => row[trainRefs.bestModel]!));
    for (const trainer of ['cmaes', 'grpo'] as const) {
      const t0 = performance.now();
      const heldOut: SeedRun['heldOut'] = [];
      const result = trainHead({
        trainer,
        features: train.features,
        outcomes: train.outcomes,
        models: data.models,
        seed,
        generations: options.generations,
        onGeneration: (point, weights) => {
          heldOut.push({
            generation: point.generation,
            evaluations: point.evaluations,
            test: routedReward(weights, test.features, test.outcomes, data.models.length),
            validation: point.validation,
          });
        },
      });
      const seconds = (performance.now() - t0) / 1000;
      const selectedTest = routedReward(
        result.head.weights,
        test.features,
        test.outcomes,
        data.models.length,
      );
      runs.push({
        seed,
        trainer,
        seconds,
        evaluationsPerGeneration: result.evaluationsPerGeneration,
        heldOut,
        selectedGeneration: result.selectedGeneration,
        selectedTest,
        bestSingleTest,
        oracleTest: testRefs.oracle,
        prompts: { train: train.features.length, test: test.features.length },
      });
      stderr.write(
        `${label} seed ${seed} ${trainer}: held-out ${selectedTest.toFixed(4)} (selected gen ${result.selectedGeneration}, best single ${bestSingleTest.toFixed(4)}, oracle ${testRefs.oracle.toFixed(4)}), ${result.evaluations} evaluations, ${seconds.toFixed(1)} s\n`,
      );
    }
  }
  // Aggregate: mean held-out curve per trainer over seeds, by generation.
  const summary = (['cmaes', 'grpo'] as const).map((trainer) => {
    const mine = runs.filter((r) => r.trainer === trainer);
    const generations = new Map<number, { evaluations: number[]; test: number[] }>();
    for (const run of mine)
      for (const p of run.heldOut) {
        const entry = generations.get(p.generation) ?? { evaluations: [], test: [] };
        entry.evaluations.push(p.evaluations);
        entry.test.push(p.test);
        generations.set(p.generation, entry);
      }
    const curve = [...generations.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([generation, e]) => ({
        generation,
        evaluations: mean(e.evaluations),
        test_mean: mean(e.test),
        test_sd: sd(e.test),
      }));
    const at = (frac: number): number | null => {
      const g = Math.round(options.generations * frac);
      return curve.find((c) => c.generation === g)?.test_mean ?? null;
    };
    return {
      trainer,
      selected_test_mean: mean(mine.map((r) => r.selectedTest)),
      selected_test_sd: sd(mine.map((r) => r.selectedTest)),
      final_iterate_test_mean: mean(mine.map((r) => r.heldOut.at(-1)?.test ?? Number.NaN)),
      test_at_25: at(0.25),
      test_at_50: at(0.5),
      evaluations: mean(mine.map((r) => r.heldOut.at(-1)?.evaluations ?? 0)),
      seconds_mean: mean(mine.map((r) => r.seconds)),
      curve,
    };
  });
  const bestSingle = mean(runs.filter((r) => r.trainer === 'cmaes').map((r) => r.bestSingleTest));
  const oracle = mean(runs.filter((r) => r.trainer === 'cmaes').map((r) => r.oracleTest));
  const seconds = (performance.now() - started) / 1000;
  const results = {
    command: 'compare',
    dataset: label,
    data: options.data,
    models,
    seeds: options.seeds,
    generations: options.generations,
    holdout: options.holdout,
    max_prompts: options.maxPrompts ?? null,
    backbone: 'hashing-1024',
    budget_rule:
      'CMA-ES: λ × n_train reward lookups per generation; GRPO: batch × G per step, round(λ n_train / (batch G)) steps per generation',
    best_single_test: bestSingle,
    oracle_test: oracle,
    summary,
    runs,
    seconds,
  };
  if (options.json) writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
  if (options.svg) {
    const colors = { cmaes: '#1f77b4', grpo: '#d62728' } as const;
    writeFileSync(
      options.svg,
      renderLineChartSvg({
        title: `${label}: GRPO vs sep-CMA-ES, held-out reward`,
        subtitle: `${models.length} models, hashing backbone, ${runs[0]?.prompts.train ?? 0} train / ${runs[0]?.prompts.test ?? 0} held-out prompts${options.maxPrompts === undefined ? '' : ` (subsample of ${options.maxPrompts})`}, mean of ${options.seeds.length} seeds, same budget`,
        xLabel: 'reward evaluations (table lookups)',
        yLabel: 'held-out mean reward (argmax routing)',
        series: summary.map((s) => ({
          name: s.trainer === 'cmaes' ? 'sep-CMA-ES (mean)' : 'GRPO (mean)',
          color: colors[s.trainer],
          points: s.curve.map((c) => ({ x: c.evaluations, y: c.test_mean })),
        })),
        references: [
          { name: 'best single', y: bestSingle, color: '#7f7f7f' },
          { name: 'oracle', y: oracle, color: '#2ca02c' },
        ],
        xFormat: (x) =>
          x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(0)}k` : `${x}`,
        yFormat: (y) => y.toFixed(3),
      }),
    );
  }
  if (options.markdown) writeFileSync(options.markdown, renderCompareMarkdown(results));
  stderr.write(`compare done in ${seconds.toFixed(1)} s\n`);
  return results;
}

/** A Markdown table of a comparison. */
export function renderCompareMarkdown(results: {
  dataset: string;
  seeds: number[];
  best_single_test: number;
  oracle_test: number;
  summary: {
    trainer: string;
    selected_test_mean: number;
    selected_test_sd: number;
    final_iterate_test_mean: number;
    test_at_25: number | null;
    test_at_50: number | null;
    evaluations: number;
    seconds_mean: number;
  }[];
}): string {
  const f = (x: number | null): string => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(3));
  const lines = [
    `| ${results.dataset} | held-out, selected head (mean ± sd, ${results.seeds.length} seeds) | iterate at 25 % budget | at 50 % | at 100 % | evaluations | s / run |`,
    '|---|---|---|---|---|---|---|',
    ...results.summary.map(
      (s) =>
        `| ${s.trainer === 'cmaes' ? 'sep-CMA-ES' : 'GRPO'} | ${f(s.selected_test_mean)} ± ${f(s.selected_test_sd)} | ${f(s.test_at_25)} | ${f(s.test_at_50)} | ${f(s.final_iterate_test_mean)} | ${Math.round(s.evaluations).toLocaleString('en-US')} | ${s.seconds_mean.toFixed(1)} |`,
    ),
    `| best single (chosen on train) | ${f(results.best_single_test)} | | | | | |`,
    `| oracle | ${f(results.oracle_test)} | | | | | |`,
  ];
  return `${lines.join('\n')}\n`;
}
