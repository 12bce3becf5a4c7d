import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFuguError } from '@openfugu/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnx } from './__fixtures__/onnx-proto.js';
import { referenceHiddenStates } from './__fixtures__/reference-qwen3.js';
import {
  buildTinyQwen3Onnx,
  createTinyQwen3Weights,
  TINY_FINAL_NORM_NAME,
  type TinyQwen3Config,
  type TinyQwen3Weights,
  tinyQwen3Config,
  writeTinyQwen3Dir,
} from './__fixtures__/tiny-qwen3.js';
import { BackboneLoadError } from './backbone-load-error.js';
import { createOnnxDecoderBackbone, type OnnxDecoderBackbone } from './onnx-decoder.js';

const TEXTS = [
  'user: what is the answer?',
  'system: You are a router.\nuser: Write a short poem about the sea.',
  'user: 12',
  'user: Ünïcödé and emoji 🚀 are bytes too',
];

function castTo(to: number): { name: string; type: number; i: number } {
  return { name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

let root: string;
let tiedDir: string;
let config: TinyQwen3Config;
let weights: TinyQwen3Weights;
let backbone: OnnxDecoderBackbone;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'openfugu-onnx-decoder-'));
  tiedDir = join(root, 'tiny-qwen3');
  config = tinyQwen3Config();
  weights = createTinyQwen3Weights(config);
  await writeTinyQwen3Dir(tiedDir, config, weights);
  backbone = await createOnnxDecoderBackbone({ modelDir: tiedDir, threads: 1 });
});

afterAll(async () => {
  await backbone?.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('createOnnxDecoderBackbone on a generated Qwen3-architecture decoder', () => {
  it('rewrites the export to output the LM head input and caches the rewrite', async () => {
    expect(backbone.dimension).toBe(config.hiddenSize);
    expect(backbone.id).toBe('onnx-decoder:tiny-qwen3');
    expect(backbone.hiddenStateName).toBe(TINY_FINAL_NORM_NAME);
    expect(backbone.hiddenStateSource).toBe('created');
    expect(backbone.modelPath).toBe(join(tiedDir, 'onnx', 'model.hidden.onnx'));
    await expect(stat(backbone.modelPath)).resolves.toBeTruthy();
  });

  it('returns one hidden-size Float32Array per text, in order', async () => {
    const features = await backbone.embed(TEXTS);
    expect(features).toHaveLength(TEXTS.length);
    for (const feature of features) {
      expect(feature).toBeInstanceOf(Float32Array);
      expect(feature).toHaveLength(config.hiddenSize);
    }
    await expect(backbone.embed([])).resolves.toEqual([]);
  });

  it('agrees (≤ 1e-4) with an independent TypeScript forward pass at the second-to-last token', async () => {
    const features = await backbone.embed(TEXTS);
    TEXTS.forEach((text, i) => {
      const ids = backbone.tokenize(text);
      expect(ids.length).toBeGreaterThan(2);
      const reference = referenceHiddenStates(config, weights, ids);
      expect(maxAbsDiff(features[i]!, reference[ids.length - 2]!)).toBeLessThanOrEqual(1e-4);
      // The check can fail: the last and third-to-last positions are far from the feature.
      expect(maxAbsDiff(features[i]!, reference[ids.length - 1]!)).toBeGreaterThan(1e-2);
      expect(maxAbsDiff(features[i]!, reference[ids.length - 3]!)).toBeGreaterThan(1e-2);
    });
  });

  it('tokenises with the Qwen pre-tokenizer through transformers.js (no special tokens added)', () => {
    // 'user' is one merged token; ':' and ' ' are bytes; Qwen's regex splits numbers into single digits.
    const ids = backbone.tokenize('user: 123');
    expect(ids).toHaveLength(6);
    // Byte tokens have id = byte value in the fixture vocabulary: ':' 58, ' ' 32, '1' 49, '2' 50, '3' 51.
    expect(ids.slice(1)).toEqual([58, 32, 49, 50, 51]);
    expect(ids[0]).toBeGreaterThanOrEqual(256);
  });

  it('reads the second-to-last token: the last token does not matter, the one before does', async () => {
    const base = backbone.tokenize('user: 12');
    const lastChanged = backbone.tokenize('user: 13');
    const secondToLastChanged = backbone.tokenize('user: 22');
    expect(lastChanged.slice(0, -1)).toEqual(base.slice(0, -1));
    expect(lastChanged.at(-1)).not.toBe(base.at(-1));
    expect(secondToLastChanged.slice(0, -2)).toEqual(base.slice(0, -2));
    expect(secondToLastChanged.at(-2)).not.toBe(base.at(-2));
    const [a, b, c] = await backbone.embed(['user: 12', 'user: 13', 'user: 22']);
    expect(maxAbsDiff(a!, b!)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(a!, c!)).toBeGreaterThan(1e-2);
  });

  it('uses the only token of a one-token text', async () => {
    const ids = backbone.tokenize('a');
    expect(ids).toHaveLength(1);
    const [feature] = await backbone.embed(['a']);
    expect(maxAbsDiff(feature!, referenceHiddenStates(config, weights, ids)[0]!)).toBeLessThanOrEqual(1e-4);
    await expect(backbone.embed([''])).rejects.toMatchObject({
      code: 'invalid_argument',
      argument: 'texts[0]',
    });
  });

  it('is deterministic across calls and across loads (reusing the cached rewrite)', async () => {
    const first = await backbone.embed(TEXTS);
    const second = await backbone.embed(TEXTS);
    const reloaded = await createOnnxDecoderBackbone({ modelDir: tiedDir, threads: 1 });
    try {
      expect(reloaded.hiddenStateSource).toBe('reused');
      const third = await reloaded.embed(TEXTS);
      first.forEach((feature, i) => {
        expect(Array.from(second[i]!)).toEqual(Array.from(feature));
        expect(Array.from(third[i]!)).toEqual(Array.from(feature));
      });
    } finally {
      await reloaded.dispose();
    }
  });

  it('batches with right padding and returns the same features as one text at a time', async () => {
    const batched = await createOnnxDecoderBackbone({ modelDir: tiedDir, batchSize: 3, threads: 1 });
    try {
      const texts = [...TEXTS, 'user: hi', 'assistant: The answer is 42, since 6 * 7 = 42.'];
      const single = await backbone.embed(texts);
      const together = await batched.embed(texts);
      for (let i = 0; i < texts.length; i++) {
        expect(maxAbsDiff(together[i]!, single[i]!)).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await batched.dispose();
    }
  });

  it('keeps the last maxTokens tokens of long texts', async () => {
    const truncated = await createOnnxDecoderBackbone({ modelDir: tiedDir, maxTokens: 5, threads: 1 });
    try {
      const text = TEXTS[1]!;
      const full = backbone.tokenize(text);
      const ids = truncated.tokenize(text);
      expect(ids).toEqual(full.slice(-5));
      const [feature] = await truncated.embed([text]);
      expect(maxAbsDiff(feature!, referenceHiddenStates(config, weights, ids)[3]!)).toBeLessThanOrEqual(1e-4);
    } finally {
      await truncated.dispose();
    }
  });

  it('honours an AbortSignal before and between texts', async () => {
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    await expect(backbone.embed(TEXTS, { signal: aborted.signal })).rejects.toMatchObject({
      code: 'aborted',
    });

    const controller = new AbortController();
    const pending = backbone.embed(TEXTS, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
  });

  it('serialises concurrent calls; dispose() waits for the queue and fails pending passes cleanly', async () => {
    const shared = await createOnnxDecoderBackbone({ modelDir: tiedDir, threads: 1 });
    const [one, two] = await Promise.all([shared.embed(TEXTS), shared.embed([...TEXTS].reverse())]);
    TEXTS.forEach((_, i) => {
      expect(Array.from(two![TEXTS.length - 1 - i]!)).toEqual(Array.from(one![i]!));
    });
    const pending = shared.embed(TEXTS);
    await shared.dispose();
    // dispose() takes effect at once: passes still queued fail cleanly instead of running on a released session.
    await expect(pending).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('throws after dispose()', async () => {
    const temporary = await createOnnxDecoderBackbone({ modelDir: tiedDir, threads: 1 });
    await temporary.dispose();
    await temporary.dispose();
    await expect(temporary.embed(['user: hi'])).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('graph-surgery cache', () => {
  it('rewrites again when the original model is newer than the cached rewrite', async () => {
    const dir = join(root, 'cache-refresh');
    await writeTinyQwen3Dir(dir, config, weights);
    const first = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1 });
    await first.dispose();
    expect(first.hiddenStateSource).toBe('created');
    const cachedAt = (await stat(first.modelPath)).mtimeMs;

    const again = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1 });
    await again.dispose();
    expect(again.hiddenStateSource).toBe('reused');
    expect((await stat(first.modelPath)).mtimeMs).toBe(cachedAt);

    const future = new Date(Date.now() + 60_000);
    await utimes(join(dir, 'onnx', 'model.onnx'), future, future);
    const refreshed = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1 });
    await refreshed.dispose();
    expect(refreshed.hiddenStateSource).toBe('created');

    // A corrupt cached rewrite is redone, not fatal.
    await writeFile(first.modelPath, 'garbage');
    await utimes(first.modelPath, new Date(Date.now() + 120_000), new Date(Date.now() + 120_000));
    const repaired = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1 });
    try {
      expect(repaired.hiddenStateSource).toBe('created');
      const [a] = await repaired.embed([TEXTS[0]!]);
      const [b] = await backbone.embed([TEXTS[0]!]);
      expect(maxAbsDiff(a!, b!)).toBe(0);
    } finally {
      await repaired.dispose();
    }
  });

  it('keeps the rewrite in memory when cache is false', async () => {
    const dir = join(root, 'no-cache');
    await writeTinyQwen3Dir(dir, config, weights);
    const inMemory = await createOnnxDecoderBackbone({ modelDir: dir, cache: false, threads: 1 });
    try {
      expect(inMemory.hiddenStateSource).toBe('in-memory');
      await expect(stat(join(dir, 'onnx', 'model.hidden.onnx'))).rejects.toThrow();
      const [a] = await inMemory.embed([TEXTS[0]!]);
      const [b] = await backbone.embed([TEXTS[0]!]);
      expect(maxAbsDiff(a!, b!)).toBe(0);
    } finally {
      await inMemory.dispose();
    }
  });
});

describe('other export shapes', () => {
  it('handles an untied LM head and a tokenizer without tokenizer_config.json', async () => {
    const untiedConfig = tinyQwen3Config({ tieWordEmbeddings: false, seed: 11, numLayers: 3 });
    const untiedWeights = createTinyQwen3Weights(untiedConfig);
    const dir = join(root, 'untied');
    await writeTinyQwen3Dir(dir, untiedConfig, untiedWeights, { tokenizerConfig: false });
    const untied = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1, id: 'custom' });
    try {
      expect(untied.id).toBe('custom');
      expect(untied.tokenize(TEXTS[1]!)).toEqual(backbone.tokenize(TEXTS[1]!));
      const features = await untied.embed(TEXTS);
      TEXTS.forEach((text, i) => {
        const ids = untied.tokenize(text);
        const reference = referenceHiddenStates(untiedConfig, untiedWeights, ids);
        expect(maxAbsDiff(features[i]!, reference[ids.length - 2]!)).toBeLessThanOrEqual(1e-4);
      });
    } finally {
      await untied.dispose();
    }
  });

  it('reads an explicitly named tensor, cached apart from the auto-detected one', async () => {
    const dir = join(root, 'named');
    await writeTinyQwen3Dir(dir, config, weights);
    const auto = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1 });
    await auto.dispose();
    // The residual stream before the final norm: the last layer's MLP residual Add.
    const graph = onnx.ModelProto.decode(buildTinyQwen3Onnx(config, weights)).graph!;
    const normInput = graph.node!.find((node) => node.name?.startsWith('/model/norm/Pow'))!.input![0]!;
    const named = await createOnnxDecoderBackbone({ modelDir: dir, hiddenStateName: normInput, threads: 1 });
    try {
      expect(named.hiddenStateName).toBe(normInput);
      expect(named.modelPath).not.toBe(auto.modelPath);
      const [preNorm] = await named.embed([TEXTS[0]!]);
      const [postNorm] = await backbone.embed([TEXTS[0]!]);
      // RMSNorm of the pre-norm vector with the final norm weights gives the feature.
      const rms = Math.sqrt(
        preNorm!.reduce((sum, x) => sum + x * x, 0) / preNorm!.length + config.rmsNormEps,
      );
      const renormed = preNorm!.map((x, i) => (x / rms) * weights.finalNorm[i]!);
      expect(maxAbsDiff(renormed, postNorm!)).toBeLessThanOrEqual(1e-5);
    } finally {
      await named.dispose();
    }
    const again = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1 });
    await again.dispose();
    expect(again).toMatchObject({ hiddenStateSource: 'reused', hiddenStateName: TINY_FINAL_NORM_NAME });
    await expect(createOnnxDecoderBackbone({ modelDir: dir, hiddenStateName: 'nope' })).rejects.toMatchObject(
      {
        code: 'config_error',
        message: expect.stringContaining('no node produces "nope"'),
      },
    );
  });

  it('drops inputs only the LM head path reads, so they need not be fed', async () => {
    const dir = join(root, 'extra-input');
    await writeTinyQwen3Dir(dir, config, weights);
    const model = onnx.ModelProto.decode(buildTinyQwen3Onnx(config, weights));
    model.graph!.input!.push({
      name: 'custom_logits_flag',
      type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [] } } },
    });
    model.graph!.node!.push({ opType: 'Identity', input: ['custom_logits_flag'], output: ['flag_copy'] });
    model.graph!.output!.push({ name: 'flag_copy' });
    await writeFile(join(dir, 'onnx', 'model.onnx'), onnx.ModelProto.encode(model).finish());
    const pruned = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1 });
    try {
      const [a] = await pruned.embed([TEXTS[0]!]);
      const [b] = await backbone.embed([TEXTS[0]!]);
      expect(maxAbsDiff(a!, b!)).toBe(0);
    } finally {
      await pruned.dispose();
    }
  });

  it('uses an existing last_hidden_state output without rewriting', async () => {
    const dir = join(root, 'feature-export');
    await writeTinyQwen3Dir(dir, config, weights);
    const model = onnx.ModelProto.decode(buildTinyQwen3Onnx(config, weights));
    model.graph!.node!.push({
      opType: 'Identity',
      input: [TINY_FINAL_NORM_NAME],
      output: ['last_hidden_state'],
    });
    model.graph!.output!.push({ name: 'last_hidden_state' });
    await writeFile(join(dir, 'onnx', 'model.onnx'), onnx.ModelProto.encode(model).finish());
    const featureBackbone = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1 });
    try {
      expect(featureBackbone.hiddenStateSource).toBe('model-output');
      expect(featureBackbone.hiddenStateName).toBe('last_hidden_state');
      const [a] = await featureBackbone.embed([TEXTS[0]!]);
      const [b] = await backbone.embed([TEXTS[0]!]);
      expect(maxAbsDiff(a!, b!)).toBeLessThanOrEqual(1e-6);
    } finally {
      await featureBackbone.dispose();
    }
  });
});

describe('external data and float16', () => {
  it('keeps external weight files working: the rewrite is saved beside them and references them', async () => {
    const dir = join(root, 'external');
    await writeTinyQwen3Dir(dir, config, weights, { externalData: true });
    const modelSize = (await stat(join(dir, 'onnx', 'model.onnx'))).size;
    expect(modelSize).toBeLessThan((await stat(join(dir, 'onnx', 'model.onnx_data'))).size / 3);
    const external = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1 });
    try {
      expect(external.hiddenStateSource).toBe('created');
      expect((await stat(external.modelPath)).size).toBeLessThan(modelSize + 1_000);
      const features = await external.embed(TEXTS);
      const expected = await backbone.embed(TEXTS);
      TEXTS.forEach((_, i) => {
        expect(maxAbsDiff(features[i]!, expected[i]!)).toBeLessThanOrEqual(1e-6);
      });
    } finally {
      await external.dispose();
    }
    const otherDir = join(root, 'external-no-cache');
    await writeTinyQwen3Dir(otherDir, config, weights, { externalData: true });
    await expect(createOnnxDecoderBackbone({ modelDir: otherDir, cache: false })).rejects.toMatchObject({
      code: 'config_error',
      message: expect.stringContaining('external data'),
    });
  });

  it('reads a float16 hidden state (fp16 LM head behind a Cast) and converts it to float32', async () => {
    const dir = join(root, 'fp16-head');
    await writeTinyQwen3Dir(dir, config, weights);
    const model = onnx.ModelProto.decode(buildTinyQwen3Onnx(config, weights));
    const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
    const head = model.graph!.node!.find((node) => node.output?.[0] === 'logits')!;
    head.input = ['norm_fp16', 'head_fp16'];
    head.output = ['logits_fp16'];
    model.graph!.node!.push(
      { opType: 'Cast', input: [TINY_FINAL_NORM_NAME], output: ['norm_fp16'], attribute: [castTo(FLOAT16)] },
      {
        opType: 'Cast',
        input: ['/lm_head/Transpose_fp32'],
        output: ['head_fp16'],
        attribute: [castTo(FLOAT16)],
      },
      {
        opType: 'Cast',
        input: ['logits_fp16'],
        output: ['logits'],
        attribute: [castTo(onnx.TensorProto.DataType.FLOAT)],
      },
    );
    // The tied head's Transpose output is renamed so the new Cast can consume it.
    const transpose = model.graph!.node!.find(
      (node) => node.opType === 'Transpose' && node.input?.[0] === 'model.embed_tokens.weight',
    )!;
    transpose.output = ['/lm_head/Transpose_fp32'];
    await writeFile(join(dir, 'onnx', 'model.onnx'), onnx.ModelProto.encode(model).finish());
    const half = await createOnnxDecoderBackbone({ modelDir: dir, threads: 1 });
    try {
      expect(half.hiddenStateName).toBe('norm_fp16');
      const features = await half.embed(TEXTS);
      const expected = await backbone.embed(TEXTS);
      TEXTS.forEach((_, i) => {
        expect(features[i]).toBeInstanceOf(Float32Array);
        // float16 keeps 11 significant bits: |x| < 4 here, so the rounding error is below 4 · 2^-11.
        expect(maxAbsDiff(features[i]!, expected[i]!)).toBeLessThanOrEqual(2e-3);
        expect(maxAbsDiff(features[i]!, expected[i]!)).toBeGreaterThan(0);
      });
    } finally {
      await half.dispose();
    }
  });
});

describe('load errors', () => {
  async function loadError(
    modelDir: string,
    settings: { modelFile?: string } = {},
  ): Promise<BackboneLoadError> {
    try {
      const loaded = await createOnnxDecoderBackbone({ modelDir, ...settings });
      await loaded.dispose();
    } catch (error) {
      expect(OpenFuguError.isInstance(error)).toBe(true);
      expect(BackboneLoadError.isBackboneLoadError(error)).toBe(true);
      return error as BackboneLoadError;
    }
    throw new Error('expected a BackboneLoadError');
  }

  it('reports a missing directory, config, tokenizer or model as not_found with the path', async () => {
    const missing = await loadError(join(root, 'does-not-exist'));
    expect(missing).toMatchObject({ code: 'not_found', path: join(root, 'does-not-exist') });

    const dir = join(root, 'broken');
    await writeTinyQwen3Dir(dir, config, weights);
    await expect(loadError(dir, { modelFile: 'onnx/nope.onnx' })).resolves.toMatchObject({
      code: 'not_found',
      path: join(dir, 'onnx', 'nope.onnx'),
    });
    await rm(join(dir, 'tokenizer.json'));
    await expect(loadError(dir)).resolves.toMatchObject({
      code: 'not_found',
      path: join(dir, 'tokenizer.json'),
    });
    await rm(join(dir, 'config.json'));
    await expect(loadError(dir)).resolves.toMatchObject({
      code: 'not_found',
      path: join(dir, 'config.json'),
    });
  });

  it('reports invalid config, file-for-directory and corrupt models as config_error', async () => {
    const dir = join(root, 'invalid');
    await writeTinyQwen3Dir(dir, config, weights);
    await expect(loadError(join(dir, 'config.json'))).resolves.toMatchObject({ code: 'config_error' });

    const goodConfig = await readFile(join(dir, 'config.json'), 'utf8');
    await writeFile(join(dir, 'config.json'), '{ not json');
    await expect(loadError(dir)).resolves.toMatchObject({
      code: 'config_error',
      path: join(dir, 'config.json'),
    });
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'qwen3' }));
    await expect(loadError(dir)).resolves.toMatchObject({
      code: 'config_error',
      message: expect.stringContaining('hidden_size'),
    });
    await writeFile(join(dir, 'config.json'), goodConfig);

    await writeFile(join(dir, 'onnx', 'model.onnx'), Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x01]));
    await expect(loadError(dir)).resolves.toMatchObject({
      code: 'config_error',
      path: join(dir, 'onnx', 'model.onnx'),
    });

    const noLmHead = onnx.ModelProto.decode(buildTinyQwen3Onnx(config, weights));
    noLmHead.graph!.node = noLmHead.graph!.node!.filter((node) => node.output?.[0] !== 'logits');
    noLmHead.graph!.node!.push({ opType: 'Identity', input: [TINY_FINAL_NORM_NAME], output: ['logits'] });
    await writeFile(join(dir, 'onnx', 'model.onnx'), onnx.ModelProto.encode(noLmHead).finish());
    await expect(loadError(dir)).resolves.toMatchObject({
      code: 'config_error',
      message: expect.stringContaining('no MatMul/Gemm'),
    });
  });

  it('rejects invalid settings as invalid_argument', async () => {
    await expect(createOnnxDecoderBackbone({ modelDir: tiedDir, batchSize: 0 })).rejects.toMatchObject({
      code: 'invalid_argument',
      argument: 'batchSize',
    });
    await expect(createOnnxDecoderBackbone({ modelDir: tiedDir, maxTokens: 1.5 })).rejects.toMatchObject({
      code: 'invalid_argument',
      argument: 'maxTokens',
    });
  });
});
