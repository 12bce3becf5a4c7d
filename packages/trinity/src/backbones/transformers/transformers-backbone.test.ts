import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackboneLoadError } from '../onnx/backbone-load-error.js';
import {
  createTinyBert,
  type TinyBert,
  tinyBertHiddenStates,
  writeTinyBertDir,
} from './__fixtures__/tiny-bert.js';
import { createTransformersBackbone, type TransformersBackbone } from './transformers-backbone.js';

// Token ids worked out by hand from the fixture vocabulary (BERT lower-casing, WordPiece, [CLS] … [SEP]).
const CASES: [string, number[]][] = [
  ['Hello world', [2, 5, 6, 3]],
  ['The cats sat on a mat.', [2, 7, 8, 12, 9, 10, 13, 11, 15, 3]],
  ['user: what is the router?', [2, 23, 24, 19, 20, 7, 21, 22, 17, 3]],
  ['Zebra!', [2, 1, 18, 3]],
];

function pool(
  rows: Float64Array[],
  pooling: 'mean' | 'cls' | 'last_token',
  normalize: boolean,
): Float64Array {
  const h = rows[0]!.length;
  let out: Float64Array;
  if (pooling === 'cls') out = rows[0]!.slice();
  else if (pooling === 'last_token') out = rows.at(-1)!.slice();
  else {
    out = new Float64Array(h);
    for (const row of rows) for (let j = 0; j < h; j++) out[j]! += row[j]! / rows.length;
  }
  if (normalize) {
    const norm = Math.hypot(...out);
    out = out.map((x) => x / norm);
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

let root: string;
let dir: string;
let model: TinyBert;
const opened: TransformersBackbone[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'openfugu-transformers-'));
  dir = join(root, 'tiny-bert');
  model = createTinyBert();
  await writeTinyBertDir(dir, model);
});

afterAll(async () => {
  for (const backbone of opened) await backbone.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('createTransformersBackbone on a generated BERT-like model', () => {
  for (const pooling of ['mean', 'cls', 'last_token'] as const) {
    for (const normalize of [true, false]) {
      it(`matches a reference computation with ${pooling} pooling, normalize=${normalize}`, async () => {
        const backbone = await createTransformersBackbone({
          modelDir: dir,
          pooling,
          normalize,
          batchSize: 3,
        });
        opened.push(backbone);
        expect(backbone.dimension).toBe(model.hiddenSize);
        expect(backbone.id).toBe('transformers:tiny-bert');
        const vectors = await backbone.embed(CASES.map(([text]) => text));
        expect(vectors).toHaveLength(CASES.length);
        CASES.forEach(([, ids], i) => {
          expect(vectors[i]).toBeInstanceOf(Float32Array);
          const expected = pool(tinyBertHiddenStates(model, ids), pooling, normalize);
          expect(maxAbsDiff(vectors[i]!, expected)).toBeLessThanOrEqual(1e-5);
        });
      });
    }
  }

  it('defaults to mean pooling with unit-length vectors, and is deterministic', async () => {
    const backbone = await createTransformersBackbone({ modelDir: dir });
    opened.push(backbone);
    const [a] = await backbone.embed([CASES[1]![0]]);
    const [b] = await backbone.embed([CASES[1]![0]]);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 5);
    expect(Array.from(b!)).toEqual(Array.from(a!));
    expect(maxAbsDiff(a!, pool(tinyBertHiddenStates(model, CASES[1]![1]), 'mean', true))).toBeLessThanOrEqual(
      1e-5,
    );
  });

  it('honours an AbortSignal between batches and throws after dispose()', async () => {
    const backbone = await createTransformersBackbone({ modelDir: dir, batchSize: 1 });
    const controller = new AbortController();
    const pending = backbone.embed(['hello', 'world', 'cat'], { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    await backbone.dispose();
    await expect(backbone.embed(['hello'])).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('reports missing and invalid model directories with typed errors', async () => {
    const missing = createTransformersBackbone({ modelDir: join(root, 'nope') });
    await expect(missing).rejects.toBeInstanceOf(BackboneLoadError);
    await expect(missing).rejects.toMatchObject({ code: 'not_found', path: join(root, 'nope') });
    await expect(createTransformersBackbone({ modelDir: dir, dtype: 'q8' })).rejects.toMatchObject({
      code: 'not_found',
      path: join(dir, 'onnx', 'model_quantized.onnx'),
    });
    const broken = join(root, 'broken');
    await writeTinyBertDir(broken, model);
    await writeFile(join(broken, 'onnx', 'model.onnx'), 'not an onnx model');
    await expect(createTransformersBackbone({ modelDir: broken })).rejects.toMatchObject({
      code: 'config_error',
    });
    await expect(
      createTransformersBackbone({ modelDir: dir, pooling: 'max' as 'mean' }),
    ).rejects.toMatchObject({
      code: 'invalid_argument',
      argument: 'pooling',
    });
  });
});
