/**
 * TRINITY routing quality on recorded outcomes: trains a router head (@openfugu/trinity, sep-CMA-ES or
 * GRPO) on a seeded train split and reports the held-out mean outcome of the trained head vs the best single
 * model (chosen on the train split), random routing and the oracle, with 95 % bootstrap intervals, for the
 * hashing and GloVe backbones. Data loading and metrics are this package's (loadAlpacaEval, loadRouteLLM,
 * selectModels, dropIncomplete, bestSingle, oracleValues, randomValues, routedValues, bootstrapInterval).
 *
 *   pnpm --filter @openfugu/eval bench:trinity-routing [--generations 150] [--seed 2026] [--sigma 0.3]
 *     [--hash-dim 1024] [--train-cap 3000] [--only alpaca-a,alpaca-b,gsm8k,mmlu] [--trainer cmaes|grpo]
 *
 * Held-out discipline: the test split (30 % of prompts, seeded with trinity's `splitIndices`) never enters
 * training; model selection (which generation's head to keep) uses a validation part (20 %) of the train
 * split only. Prompts are rendered as the router sees them: `user: <text>` (trinity's `renderMessages`).
 * Data: $OPENFUGU_DATA_DIR (relative to the repo root) or ../shared/data.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '@openfugu/cmaes';
import type { Backbone } from '@openfugu/schema';
import {
  createGloveBackbone,
  createHashingBackbone,
  evaluateHead,
  renderMessages,
  splitIndices,
  trainRouterHead,
  trainRouterHeadGrpo,
} from '@openfugu/trinity';
import {
  bestSingle,
  bootstrapInterval,
  dropIncomplete,
  type Interval,
  loadAlpacaEval,
  loadRouteLLM,
  type OutcomeTable,
  oracleValues,
  randomValues,
  routedValues,
  selectModels,
  selectPrompts,
} from '../src/index.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const SEED = Number(arg('seed', '2026'));
const GENERATIONS = Number(arg('generations', '150'));
const ONLY = arg('only', '').split(',').filter(Boolean);
const TEST_FRACTION = 0.3;
const SIGMA0 = Number(arg('sigma', '0.3'));
const BOOTSTRAP = 2000;
/** MMLU has 14k prompts; training uses a seeded sample of this many train prompts to keep the bench short. */
const TRAIN_CAP = Number(arg('train-cap', '3000'));
/** Hashing backbone dimension (ablation: fewer features → fewer head parameters). */
const HASH_DIM = Number(arg('hash-dim', '1024'));
/** `cmaes` (sep-CMA-ES, default) or `grpo` (trinity's trainRouterHeadGrpo, 30 epochs). */
const TRAINER = arg('trainer', 'cmaes');

const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const dataDir = path.resolve(repoRoot, process.env.OPENFUGU_DATA_DIR ?? '../shared/data');

const POOL_A = [
  'FuseChat-Gemma-2-9B-Instruct',
  'FuseChat-Llama-3.2-1B-Instruct',
  'claude-2',
  'gpt-3.5-turbo-1106',
  'OpenHermes-2.5-Mistral-7B',
];
const POOL_B = [
  'claude-2',
  'claude-instant-1.2',
  'gpt-3.5-turbo-1106',
  'OpenHermes-2.5-Mistral-7B',
  'Mixtral-8x7B-Instruct-v0.1_concise',
];

/** AlpacaEval dev prompts, P(model beats gpt4_1106_preview), only the prompts every pool model has. */
const alpaca = (pool: readonly string[]): OutcomeTable =>
  dropIncomplete(selectModels(loadAlpacaEval(path.join(dataDir, 'alpacaeval')), pool)).table;
/** RouteLLM GSM8K / MMLU 0/1 correctness, contaminated ids dropped (models `gpt4`, `mixtral`). */
const routellm = (set: 'gsm8k' | 'mmlu'): OutcomeTable =>
  loadRouteLLM(path.join(dataDir, 'routellm', `${set}.csv`));

const datasets: { key: string; label: string; load: () => OutcomeTable }[] = [
  {
    key: 'alpaca-a',
    label: 'AlpacaEval, pool A (5 models incl. FuseChat-Gemma-2-9B)',
    load: () => alpaca(POOL_A),
  },
  { key: 'alpaca-b', label: 'AlpacaEval, pool B (5 models, no FuseChat)', load: () => alpaca(POOL_B) },
  { key: 'gsm8k', label: 'RouteLLM GSM8K (GPT-4 vs Mixtral)', load: () => routellm('gsm8k') },
  { key: 'mmlu', label: 'RouteLLM MMLU (GPT-4 vs Mixtral)', load: () => routellm('mmlu') },
];

/** Rows of a row-major prompts × models table, as trinity's trainers take them. */
const rowsOf = (table: OutcomeTable): number[][] => {
  const k = table.models.length;
  return table.prompts.map((_, p) => Array.from(table.outcomes.subarray(p * k, p * k + k)));
};

/** 95 % percentile interval; every series is resampled with the same seed, so resamples are paired. */
const interval = (values: ArrayLike<number>): Interval =>
  bootstrapInterval(values, createRng(SEED), { resamples: BOOTSTRAP, level: 0.95 });

const fmt = (x: number): string => x.toFixed(3);
const ci = (i: Interval): string => `${fmt(i.mean)} [${fmt(i.low)}, ${fmt(i.high)}]`;

async function main(): Promise<void> {
  const glove = createGloveBackbone({ pooling: 'sif' });
  const backbones: { name: string; backbone: Backbone & { embedSync(text: string): Float32Array } }[] = [
    { name: `hashing-${HASH_DIM}`, backbone: createHashingBackbone({ dimension: HASH_DIM }) },
    { name: 'glove-sif-100', backbone: glove },
  ];
  const t0 = performance.now();
  await glove.load();
  console.error(`GloVe vectors loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(
    TRAINER === 'grpo'
      ? `# Routing on recorded outcomes (seed ${SEED}, test ${TEST_FRACTION * 100} %, GRPO 30 epochs, batch 32, G 8, Adam lr 0.05)\n`
      : `# Routing on recorded outcomes (seed ${SEED}, test ${TEST_FRACTION * 100} %, ${GENERATIONS} generations, sep-CMA-ES σ₀ ${SIGMA0})\n`,
  );
  console.log(
    'RouteLLM models are named as @openfugu/eval loads them: `gpt4` = gpt-4-1106-preview, `mixtral` = Mixtral-8x7B-Instruct-v0.1.\n',
  );
  console.log(
    '| dataset | backbone | n test | router | best single (train-chosen) | random | oracle | router − best [95 % CI] | train s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const dataset of datasets) {
    if (ONLY.length > 0 && !ONLY.includes(dataset.key)) continue;
    const table = dataset.load();
    const texts = table.prompts.map((p) => renderMessages([{ role: 'user', content: p.text }]));
    const outcomes = rowsOf(table);
    const { train: trainAll, validation: test } = splitIndices(table.prompts.length, TEST_FRACTION, SEED);
    let train = trainAll;
    if (train.length > TRAIN_CAP)
      train = splitIndices(train.length, 1 - TRAIN_CAP / train.length, SEED + 1).train.map(
        (i) => trainAll[i]!,
      );
    const agentCount = table.models.length;
    const bestAgent = bestSingle(selectPrompts(table, train)).index;
    const testTable = selectPrompts(table, test);
    for (const { name: backboneName, backbone } of backbones) {
      const name = TRAINER === 'grpo' ? `${backboneName} · GRPO` : backboneName;
      const features = texts.map((t) => backbone.embedSync(t));
      const started = performance.now();
      const trainFeatures = train.map((p) => features[p]!);
      const trainOutcomes = train.map((p) => outcomes[p]!);
      const result =
        TRAINER === 'grpo'
          ? (() => {
              const r = trainRouterHeadGrpo({
                features: trainFeatures,
                outcomes: trainOutcomes,
                agents: table.models,
                seed: SEED,
                epochs: 30,
                validationFraction: 0.2,
              });
              return { ...r, selectedGeneration: r.selectedEpoch };
            })()
          : trainRouterHead({
              features: trainFeatures,
              outcomes: trainOutcomes,
              agents: table.models,
              seed: SEED,
              sigma0: SIGMA0,
              maxGenerations: GENERATIONS,
              validationFraction: 0.2,
              backboneId: backbone.id,
            });
      const seconds = (performance.now() - started) / 1000;
      const { choices } = evaluateHead(
        result.head,
        test.map((p) => features[p]!),
        test.map((p) => outcomes[p]!),
      );
      const routed = routedValues(testTable, choices);
      const best = routedValues(
        testTable,
        test.map(() => bestAgent),
      );
      const diff = routed.map((r, i) => r - best[i]!);
      console.log(
        `| ${dataset.label} | ${name} | ${test.length} | ${ci(interval(routed))} | ${ci(interval(best))} (${table.models[bestAgent]}) | ${ci(interval(randomValues(testTable)))} | ${ci(interval(oracleValues(testTable)))} | ${ci(interval(diff))} | ${seconds.toFixed(0)} |`,
      );
      const share = table.models.map((_, a) => choices.filter((c) => c === a).length / test.length);
      const chosen = result.history[result.selectedGeneration]!;
      console.error(
        `  ${dataset.key}/${name}: train ${train.length} (fit ${result.trainIndices.length}, validation ${result.validationIndices.length}), selected generation ${result.selectedGeneration} ` +
          `(train ${fmt(chosen.trainReward)}, validation ${fmt(chosen.validationReward ?? Number.NaN)}; generation 0: train ${fmt(result.history[0]!.trainReward)}, validation ${fmt(result.history[0]!.validationReward ?? Number.NaN)}; final: train ${fmt(result.history.at(-1)!.trainReward)}, validation ${fmt(result.history.at(-1)!.validationReward ?? Number.NaN)}); ` +
          `test routing share ${share.map((s, a) => `${table.models[a]} ${(100 * s).toFixed(0)}%`).join(', ')}; agents ${agentCount}`,
      );
    }
  }
}

await main();
