/**
 * Throughput of the GRPO loss + gradient and of the softmax-linear trainer.
 *
 *   pnpm --filter @openfugu/grpo bench
 *
 * Prints the median and the best (minimum) time over repeated runs; on a loaded machine the best is the
 * closer estimate of the intrinsic cost, the median of what a user sees. Each table has a baseline measured in the same run:
 * - loss: a straightforward "tensor-style" implementation (one materialised array per intermediate,
 *   like the PyTorch expression in TRL's `_compute_loss`) — its results are checked against ours;
 * - trainer: the forward pass alone (π(·|x) for every prompt of the batch), the floor of a step.
 */
import { performance } from 'node:perf_hooks';
import { clippedSurrogateLoss, createSoftmaxLinearTrainer, type SurrogateOptions } from '../src/index.js';
import { gaussian, mulberry32 } from '../test/mulberry32.js';

interface Timing {
  median: number;
  best: number;
}

function summarise(values: number[]): Timing {
  return { median: median(values), best: Math.min(...values) };
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `fn` until `minMs` has passed (at least `minRuns` times) after a warm-up; returns per-call ms. */
function time(fn: () => unknown, minRuns = 30, minMs = 1000): number[] {
  for (let i = 0; i < 20; i++) fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

// ---------------------------------------------------------------------------------------------------------
// 1. Loss + gradient on a 64 × 512 batch.
const B = 64;
const T = 512;
const random = mulberry32(1);
const old = Float64Array.from({ length: B * T }, () => -0.05 - 3 * random());
const logp = old.map((o) => o + 0.4 * (random() - 0.5));
const ref = old.map((o) => o + 0.4 * (random() - 0.5));
const mask = new Float64Array(B * T);
for (let i = 0; i < B; i++) {
  const length = 128 + Math.floor(random() * (T - 128));
  for (let t = 0; t < length; t++) mask[i * T + t] = 1;
}
const advantages = Float64Array.from({ length: B }, () => gaussian(random));
const tokens = mask.reduce((a, b) => a + b, 0);

/** Tensor-style baseline: the TRL expression with every intermediate materialised, then a manual backward. */
function tensorStyle(options: { beta: number; epsilon: number }): { loss: number; gradient: Float64Array } {
  const n = B * T;
  const logRatio = new Float64Array(n);
  for (let j = 0; j < n; j++) logRatio[j] = logp[j]! - old[j]!;
  const coef1 = logRatio.map(Math.exp);
  const coef2 = coef1.map((c) => Math.min(Math.max(c, 1 - options.epsilon), 1 + options.epsilon));
  const loss1 = coef1.map((c, j) => c * advantages[Math.floor(j / T)]!);
  const loss2 = coef2.map((c, j) => c * advantages[Math.floor(j / T)]!);
  const perToken = loss1.map((a, j) => -Math.min(a, loss2[j]!));
  const kl = ref.map((r, j) => Math.exp(r - logp[j]!) - (r - logp[j]!) - 1);
  const total = perToken.map((l, j) => (l + options.beta * kl[j]!) * mask[j]!);
  const loss = total.reduce((a, b) => a + b, 0) / tokens;
  const gradient = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    if (!mask[j]) continue;
    const a = advantages[Math.floor(j / T)]!;
    const useFirst = loss1[j]! < loss2[j]!;
    const tie = loss1[j] === loss2[j];
    const clipped = coef1[j]! < 1 - options.epsilon || coef1[j]! > 1 + options.epsilon;
    const dRatio = tie ? (clipped ? -a / 2 : -a) : useFirst ? -a : clipped ? 0 : -a;
    gradient[j] = (dRatio * coef1[j]! + options.beta * (1 - Math.exp(ref[j]! - logp[j]!))) / tokens;
  }
  return { loss, gradient };
}

const gradientOut = new Float64Array(B * T);
const variants: Array<[string, SurrogateOptions]> = [
  ['token, dapo, β 0 (TRL default)', {}],
  ['token, dapo, β 0.04 k3', { beta: 0.04 }],
  ['token, grpo, β 0.04 k3', { beta: 0.04, aggregation: 'grpo' }],
  ['sequence (GSPO), dapo, β 0', { importanceSampling: 'sequence' }],
  ['token, dapo, β 0.04, gradientOut reused', { beta: 0.04, gradientOut }],
];

const baseline = tensorStyle({ beta: 0.04, epsilon: 0.2 });
const check = clippedSurrogateLoss(
  { sequences: B, tokens: T, logProbs: logp, oldLogProbs: old, refLogProbs: ref, mask, advantages },
  { beta: 0.04 },
);
let maxDiff = Math.abs(check.loss - baseline.loss);
for (let j = 0; j < B * T; j++)
  maxDiff = Math.max(maxDiff, Math.abs(check.gradient[j]! - baseline.gradient[j]!));
if (maxDiff > 1e-12) throw new Error(`bench: implementation and baseline disagree (max diff ${maxDiff})`);

const rows: string[][] = [];
const baselineTiming = summarise(time(() => tensorStyle({ beta: 0.04, epsilon: 0.2 })));
const baselineMs = baselineTiming.median;
rows.push([
  'baseline: tensor-style arrays, dapo, β 0.04',
  baselineMs.toFixed(3),
  baselineTiming.best.toFixed(3),
  (((tokens / baselineMs) * 1e3) / 1e6).toFixed(1),
  '1.00×',
]);
for (const [name, options] of variants) {
  const timing = summarise(
    time(() =>
      clippedSurrogateLoss(
        { sequences: B, tokens: T, logProbs: logp, oldLogProbs: old, refLogProbs: ref, mask, advantages },
        options,
      ),
    ),
  );
  const ms = timing.median;
  rows.push([
    name,
    ms.toFixed(3),
    timing.best.toFixed(3),
    (((tokens / ms) * 1e3) / 1e6).toFixed(1),
    `${(baselineMs / ms).toFixed(2)}×`,
  ]);
}
console.log(`\nclippedSurrogateLoss: loss + gradient, ${B} × ${T} batch (${tokens} unmasked tokens)\n`);
printTable(['variant', 'median ms', 'best ms', 'M tokens/s (median)', 'speed-up (median)'], rows);

// ---------------------------------------------------------------------------------------------------------
// 2. Trainer steps at 7 actions × 1024 features.
const A = 7;
const F = 1024;
const P = 512;
const G = 8;
const batchSize = 32;
const taskRandom = mulberry32(2);
const observations = Array.from({ length: P }, () =>
  Float32Array.from({ length: F }, () => gaussian(taskRandom)),
);
const outcomes = Array.from({ length: P }, () =>
  Array.from({ length: A }, () => (taskRandom() < 0.4 ? 1 : 0)),
);
const batchRandom = mulberry32(3);
const nextBatch = (): number[] => Array.from({ length: batchSize }, () => Math.floor(batchRandom() * P));

const trainerRows: string[][] = [];
const forwardTrainer = createSoftmaxLinearTrainer({
  actions: A,
  features: F,
  observations,
  reward: (p, a) => outcomes[p]![a]!,
  random: mulberry32(4),
});
const forwardBatch = nextBatch();
const forwardTiming = summarise(
  time(() => {
    for (const p of forwardBatch) forwardTrainer.probabilities(p);
  }),
);
const forwardMs = forwardTiming.median;
trainerRows.push([
  'baseline: forward pass only (π for 32 prompts)',
  forwardMs.toFixed(3),
  forwardTiming.best.toFixed(3),
  (1e3 / forwardMs).toFixed(0),
]);
for (const [name, extra] of [
  ['step, G 8, μ 1, β 0', {}],
  ['step, G 8, μ 2, β 0.04, entropy 0.01', { innerSteps: 2, beta: 0.04, entropyCoefficient: 0.01 }],
] as const) {
  const trainer = createSoftmaxLinearTrainer({
    actions: A,
    features: F,
    observations,
    reward: (p, a) => outcomes[p]![a]!,
    random: mulberry32(5),
    groupSize: G,
    optimizer: { learningRate: 0.01 },
    ...extra,
  });
  const timing = summarise(time(() => trainer.step(nextBatch())));
  trainerRows.push([
    `${name} (32 prompts × 8)`,
    timing.median.toFixed(3),
    timing.best.toFixed(3),
    (1e3 / timing.median).toFixed(0),
  ]);
}
console.log(`\nsoftmax-linear trainer: ${A} actions × ${F} features, batch ${batchSize} prompts × G ${G}\n`);
printTable(['operation', 'median ms', 'best ms', 'per second (median)'], trainerRows);
console.log(
  `\nNode ${process.versions.node}; shared machine, timings are noisy — compare rows of the same run only.`,
);

function printTable(header: string[], body: string[][]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of body) console.log(line(row));
}
