/**
 * Per-query latency of the onnx-decoder backbone on CPU, on GENERATED decoders (random weights, Qwen3
 * architecture), not on a real Qwen3-0.6B:
 *   - tiny: hidden 32, 2 layers, vocab 281 (the test model);
 *   - wide: hidden 1024, 2 layers, 16 query / 8 KV heads of 128, MLP 3072, vocab 32,768 (Qwen3-0.6B's layer
 *     shapes, 2 of its 28 layers, a fifth of its vocabulary).
 * Baseline in the same run: the unmodified export (logits + KV cache outputs) run directly with
 * onnxruntime-node on the same token ids — the cost the graph surgery removes.
 *
 * Prompts: a short question (26 tokens) and 2 KB of text cut to its last 512 tokens.
 *
 * Run: pnpm --filter @openfugu/trinity exec tsx bench/onnx-decoder.ts [--repeats 20] [--threads N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import {
  createTinyQwen3Weights,
  tinyQwen3Config,
  writeTinyQwen3Dir,
} from '../src/backbones/onnx/__fixtures__/tiny-qwen3.js';
import { createOnnxDecoderBackbone } from '../src/backbones/onnx/onnx-decoder.js';

const argument = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const repeats = argument('repeats', 20);
const threadsArgument = process.argv.includes('--threads') ? argument('threads', 0) : undefined;

const sentence =
  'user: The quick brown fox jumps over the lazy dog while the router decides which worker should answer. ';
// The test tokenizer has only 281 byte-level tokens (2 KB of text → ~1,600 tokens); Qwen3's 151k-token
// vocabulary gives roughly 4 characters per token on English, so the long prompt is cut to its last 512 tokens.
const LONG_TOKENS = 512;
const prompts = {
  short: 'user: What is the capital of France?',
  long: sentence.repeat(Math.ceil(2048 / sentence.length)).slice(0, 2048),
};

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Timing {
  wallMedian: number;
  wallP90: number;
  cpuMedian: number;
}

/**
 * Times two variants alternately (A, B, A, B, …) so both see the same drift in machine load, and records
 * process CPU time (all threads) next to wall time: on a shared machine CPU time is the steadier figure.
 */
async function timePair(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  runs: number,
): Promise<[Timing, Timing]> {
  for (let i = 0; i < 2; i++) {
    await a();
    await b();
  }
  const samples: [number[], number[]][] = [
    [[], []],
    [[], []],
  ];
  for (let i = 0; i < runs; i++) {
    for (const [k, run] of [a, b].entries()) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      await run();
      samples[k]![0].push(performance.now() - start);
      const used = process.cpuUsage(cpu);
      samples[k]![1].push((used.user + used.system) / 1000);
    }
  }
  return samples.map(([wall, cpu]) => {
    wall.sort((x, y) => x - y);
    cpu.sort((x, y) => x - y);
    return { wallMedian: quantile(wall, 0.5), wallP90: quantile(wall, 0.9), cpuMedian: quantile(cpu, 0.5) };
  }) as [Timing, Timing];
}

const rows: string[][] = [];
const root = await mkdtemp(join(tmpdir(), 'openfugu-bench-onnx-'));
try {
  const models = {
    tiny: tinyQwen3Config(),
    wide: tinyQwen3Config({
      hiddenSize: 1024,
      intermediateSize: 3072,
      numHeads: 16,
      numKvHeads: 8,
      headDim: 128,
      vocabSize: 32_768,
      seed: 1,
    }),
  };
  for (const [name, config] of Object.entries(models)) {
    const dir = join(root, name);
    const generated = performance.now();
    await writeTinyQwen3Dir(dir, config, createTinyQwen3Weights(config));
    const generateMs = performance.now() - generated;
    const loadStart = performance.now();
    const backbone = await createOnnxDecoderBackbone({
      modelDir: dir,
      maxTokens: LONG_TOKENS,
      ...(threadsArgument === undefined ? {} : { threads: threadsArgument }),
    });
    const loadMs = performance.now() - loadStart;
    const baseline = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'), {
      graphOptimizationLevel: 'all',
      ...(threadsArgument === undefined ? {} : { intraOpNumThreads: threadsArgument }),
    });
    console.error(
      `${name}: generated in ${generateMs.toFixed(0)} ms, first load (incl. surgery) ${loadMs.toFixed(0)} ms`,
    );
    for (const [label, text] of Object.entries(prompts)) {
      const ids = backbone.tokenize(text);
      const length = ids.length;
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]),
        position_ids: new ort.Tensor(
          'int64',
          BigInt64Array.from(ids, (_, i) => BigInt(i)),
          [1, length],
        ),
      };
      for (let layer = 0; layer < config.numLayers; layer++) {
        for (const kind of ['key', 'value']) {
          feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
            1,
            config.numKvHeads,
            0,
            config.headDim,
          ]);
        }
      }
      const runs = config.hiddenSize >= 1024 && length > 100 ? Math.max(3, Math.ceil(repeats / 4)) : repeats;
      const [surgery, full] = await timePair(
        () => backbone.embed([text]),
        () => baseline.run(feeds),
        runs,
      );
      const tokenizeStart = performance.now();
      for (let i = 0; i < 20; i++) backbone.tokenize(text);
      const tokenizeMs = (performance.now() - tokenizeStart) / 20;
      const shape = `h${config.hiddenSize} L${config.numLayers} V${config.vocabSize}`;
      const prompt = `${label === 'long' ? '2 KB → last' : label} ${length} tok`;
      const cells = (t: Timing): string[] => [
        t.wallMedian.toFixed(2),
        t.wallP90.toFixed(2),
        t.cpuMedian.toFixed(2),
      ];
      rows.push([
        name,
        shape,
        prompt,
        `backbone.embed (surgery; tokenise ${tokenizeMs.toFixed(2)} ms)`,
        ...cells(surgery),
        String(runs),
      ]);
      rows.push([
        name,
        shape,
        prompt,
        'baseline: unmodified export, ids given',
        ...cells(full),
        String(runs),
      ]);
    }
    await baseline.release();
    await backbone.dispose();
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

const header = ['model', 'shape', 'prompt', 'path', 'wall median ms', 'wall p90 ms', 'CPU median ms', 'runs'];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
console.log(
  `\nTimed runs alternate the two paths after 2 warm-ups each; CPU = process user+system time (all threads); onnxruntime-node ${ort.env.versions.node}, CPU EP, ` +
    `${threadsArgument === undefined ? 'default threads' : `${threadsArgument} threads`}; Node ${process.version}. ` +
    'Generated random-weight models, not a real Qwen3-0.6B. Shared machine: timings are noisy.',
);
