/**
 * Training time of the supervised value head (issue 16 target: RouteLLM MMLU, ≈ 10k training prompts, under a
 * minute on 2 cores): `trainValueHead` (ridge, 5-fold CV over 6 λ, per-model bias) on the 70 % split (seed 1)
 * with the composed `concat` backbone, next to the embedding time and a baseline loop measured in this run.
 *
 *   OPENFUGU_DATA_DIR=/path/to/shared/data pnpm --filter @openfugu/eval bench:train [--wide | --sparse]
 *
 * `--wide`: the CLI's `concat-wide` (hashed-word block 1024 instead of 512; 1,556 features). `--sparse`: the
 * CLI's `concat-sparse` (98,324 hashed features as sparse vectors), fitted as `--trainer ridge` fits it
 * (`fitValueHead`: conjugate gradients over 4 λ, λ by the out-of-fold deferral area, the unscaled and the
 * IDF-scaled features both cross-validated — twice the solves of one scaling —, the lower held-out loss kept),
 * next to the IDF-scaled fit alone; no kNN row (kNN on 98k-d vectors is not the point of this bench).
 */
import path from 'node:path';
import { createRng } from '@openfugu/cmaes';
import {
  createDefaultConcatBackbone,
  createWideConcatBackbone,
  trainKnnRouter,
  trainValueHead,
} from '@openfugu/trinity';
import {
  dropIncomplete,
  fitValueHead,
  loadOutcomes,
  seededRandom,
  selectPrompts,
  splitByPrompt,
} from '../src/index.js';

const data = process.env.OPENFUGU_DATA_DIR ?? path.resolve(import.meta.dirname, '../../../../shared/data');
const table = loadOutcomes(path.join(data, 'routellm/mmlu.csv'));
const { train: rows } = splitByPrompt(table, 0.7, seededRandom(1));
const train = dropIncomplete(selectPrompts(table, rows)).table;
const k = train.models.length;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const time = <T>(fn: () => T): { value: T; wall: number; cpu: number } => {
  const c = cpu();
  const start = performance.now();
  const value = fn();
  return { value, wall: (performance.now() - start) / 1000, cpu: cpu() - c };
};
const loop = time(() => {
  let s = 0;
  for (let i = 0; i < 1e8; i++) s = (s + i * 7) | 0;
  return s;
});
const sparse = process.argv.includes('--sparse');
const name = sparse ? 'concat-sparse' : process.argv.includes('--wide') ? 'concat-wide' : 'concat';
const backbone = sparse
  ? createWideConcatBackbone()
  : createDefaultConcatBackbone(name === 'concat-wide' ? { wordDimension: 1024 } : {});
const embed = time(() =>
  train.prompts.map((p) => (sparse ? backbone.embedSparseSync(p.text) : backbone.embedSync(p.text))),
);
const outcomes = train.prompts.map((_, p) => Array.from(train.outcomes.subarray(p * k, p * k + k)));
const ridge = time(() =>
  sparse
    ? fitValueHead({ features: embed.value, outcomes, models: train.models, seed: 1 })
    : trainValueHead({ features: embed.value, outcomes, random: createRng(1) }),
);
const idfOnly = sparse
  ? time(() =>
      fitValueHead({
        features: embed.value,
        outcomes,
        models: train.models,
        seed: 1,
        variant: { featureScale: 'idf' },
      }),
    )
  : undefined;
const dense = embed.value.filter((x): x is Float32Array => x instanceof Float32Array);
const knn = sparse
  ? undefined
  : time(() => trainKnnRouter({ features: dense, outcomes, agents: train.models, random: createRng(2) }));
console.log(
  `Node ${process.version}; MMLU train split: ${train.prompts.length} prompts × ${backbone.dimension} features\n`,
);
console.log('| step | wall s | CPU s | target |');
console.log('|---|---|---|---|');
console.log(
  `| baseline: 1e8-iteration integer loop | ${loop.wall.toFixed(2)} | ${loop.cpu.toFixed(2)} | — |`,
);
console.log(`| embed (${name}) | ${embed.wall.toFixed(2)} | ${embed.cpu.toFixed(2)} | — |`);
const solver = (r: typeof ridge.value) =>
  r.solver === 'cg'
    ? `conjugate gradients, ${r.cv.length} λ, ${r.iterations} iterations`
    : `Cholesky, ${r.cv.length} λ`;
const scaled = ridge.value.featureScales ? 'IDF' : 'unscaled';
console.log(
  `| ${sparse ? `ridge as --trainer ridge fits it (fitValueHead: none vs IDF by CV → ${scaled}` : 'trainValueHead ridge (5-fold CV + refit'}; ${solver(ridge.value)}; λ = ${ridge.value.lambda.toPrecision(3)}) | ${ridge.wall.toFixed(2)} | ${ridge.cpu.toFixed(2)} | < 60 |`,
);
if (idfOnly) {
  console.log(
    `| ridge, IDF-scaled only (fitValueHead with featureScale idf; ${solver(idfOnly.value)}; λ = ${idfOnly.value.lambda.toPrecision(3)}) | ${idfOnly.wall.toFixed(2)} | ${idfOnly.cpu.toFixed(2)} | < 60 |`,
  );
}
if (knn) {
  console.log(
    `| trainKnnRouter (k by LOO on 1,000 queries; k = ${knn.value.index.k}) | ${knn.wall.toFixed(2)} | ${knn.cpu.toFixed(2)} | — |`,
  );
}
