/**
 * Routing quality on recorded outcomes: trains a router head with sep-CMA-ES on a seeded train split and
 * reports the held-out mean outcome of the trained head vs the best single model (chosen on the train
 * split), random routing and the oracle, with 95 % bootstrap intervals, for the hashing and GloVe backbones.
 *
 *   pnpm --filter @openfugu/trinity bench:routing [--generations 150] [--seed 2026] [--sigma 0.3] [--hash-dim 1024]
 *     [--train-cap 3000] [--only alpaca-a,alpaca-b,gsm8k,mmlu] [--trainer cmaes|grpo]
 *
 * Held-out discipline: the test split (30 % of prompts, seeded) never enters training; model selection
 * (which generation's head to keep) uses a validation part (20 %) of the train split only.
 */

import { createRng } from '@openfugu/cmaes';
import type { Backbone } from '@openfugu/schema';
import {
  createGloveBackbone,
  createHashingBackbone,
  evaluateHead,
  splitIndices,
  trainRouterHead,
  trainRouterHeadGrpo,
} from '../src/index.js';
import { loadAlpacaEval, loadRouteLlm, type OutcomeTable } from './data.js';

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
/** `cmaes` (sep-CMA-ES, default) or `grpo` (@openfugu/grpo softmax-linear trainer, 30 epochs). */
const TRAINER = arg('trainer', 'cmaes');

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

const datasets: { key: string; label: string; load: () => OutcomeTable }[] = [
  {
    key: 'alpaca-a',
    label: 'AlpacaEval, pool A (5 models incl. FuseChat-Gemma-2-9B)',
    load: () => loadAlpacaEval(POOL_A),
  },
  {
    key: 'alpaca-b',
    label: 'AlpacaEval, pool B (5 models, no FuseChat)',
    load: () => loadAlpacaEval(POOL_B),
  },
  { key: 'gsm8k', label: 'RouteLLM GSM8K (GPT-4 vs Mixtral)', load: () => loadRouteLlm('gsm8k') },
  { key: 'mmlu', label: 'RouteLLM MMLU (GPT-4 vs Mixtral)', load: () => loadRouteLlm('mmlu') },
];

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / (values.length || 1);
}

/** Percentile bootstrap 95 % interval of the mean of each series, resampling prompts (paired across series). */
function bootstrap(series: readonly (readonly number[])[], seed: number): [number, number][] {
  const n = series[0]!.length;
  const rng = createRng(seed);
  const samples = series.map(() => new Float64Array(BOOTSTRAP));
  for (let b = 0; b < BOOTSTRAP; b++) {
    const sums = series.map(() => 0);
    for (let k = 0; k < n; k++) {
      const i = Math.floor(rng() * n);
      for (let s = 0; s < series.length; s++) sums[s]! += series[s]![i]!;
    }
    for (let s = 0; s < series.length; s++) samples[s]![b] = sums[s]! / n;
  }
  return samples.map((x) => {
    const sorted = Array.from(x).sort((a, b) => a - b);
    return [sorted[Math.floor(0.025 * BOOTSTRAP)]!, sorted[Math.ceil(0.975 * BOOTSTRAP) - 1]!];
  });
}

const fmt = (x: number): string => x.toFixed(3);
const ci = (x: number, [lo, hi]: [number, number]): string => `${fmt(x)} [${fmt(lo)}, ${fmt(hi)}]`;

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
    '| dataset | backbone | n test | router | best single (train-chosen) | random | oracle | router − best [95 % CI] | train s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const dataset of datasets) {
    if (ONLY.length > 0 && !ONLY.includes(dataset.key)) continue;
    const table = dataset.load();
    const { train: trainAll, validation: test } = splitIndices(table.ids.length, TEST_FRACTION, SEED);
    let train = trainAll;
    if (train.length > TRAIN_CAP)
      train = splitIndices(train.length, 1 - TRAIN_CAP / train.length, SEED + 1).train.map(
        (i) => trainAll[i]!,
      );
    const agentCount = table.models.length;
    const trainMeans = table.models.map((_, a) => mean(train.map((p) => table.outcomes[p]![a]!)));
    const bestAgent = trainMeans.indexOf(Math.max(...trainMeans));
    for (const { name: backboneName, backbone } of backbones) {
      const name = TRAINER === 'grpo' ? `${backboneName} · GRPO` : backboneName;
      const features = table.texts.map((t) => backbone.embedSync(t));
      const started = performance.now();
      const trainFeatures = train.map((p) => features[p]!);
      const trainOutcomes = train.map((p) => table.outcomes[p]!);
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
      const testOutcomes = test.map((p) => table.outcomes[p]!);
      const routed = evaluateHead(
        result.head,
        test.map((p) => features[p]!),
        testOutcomes,
      );
      const best = testOutcomes.map((o) => o[bestAgent]!);
      const random = testOutcomes.map((o) => mean(o));
      const oracle = testOutcomes.map((o) => Math.max(...o));
      const diff = routed.rewards.map((r, i) => r - best[i]!);
      const [ciRouter, ciBest, ciRandom, ciOracle, ciDiff] = bootstrap(
        [routed.rewards, best, random, oracle, diff],
        SEED,
      );
      const share = table.models.map((_, a) => routed.choices.filter((c) => c === a).length / test.length);
      console.log(
        `| ${dataset.label} | ${name} | ${test.length} | ${ci(mean(routed.rewards), ciRouter!)} | ${ci(mean(best), ciBest!)} (${table.models[bestAgent]}) | ${ci(mean(random), ciRandom!)} | ${ci(mean(oracle), ciOracle!)} | ${ci(mean(diff), ciDiff!)} | ${seconds.toFixed(0)} |`,
      );
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
