/**
 * Any local feature-extraction model (sentence-transformers style encoders exported to ONNX, e.g.
 * all-MiniLM-L6-v2, bge-small, e5-small) as a `Backbone`, through @huggingface/transformers'
 * `pipeline('feature-extraction')`, with local files only — nothing is downloaded.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import {
  AbortedError,
  type AbortSignalLike,
  type Backbone,
  InvalidArgumentError,
  OpenFuguError,
} from '@openfugu/schema';
import { MissingPeerDependencyError } from '../../errors.js';
import { BackboneLoadError } from '../onnx/backbone-load-error.js';

/** How token vectors become one text vector. */
export type TransformersPooling =
  /** Mean over tokens, weighted by the attention mask (sentence-transformers' default). */
  | 'mean'
  /** The first token (`[CLS]`). */
  | 'cls'
  /** The last token of each text (its own last token, not the padded end). */
  | 'last_token';

/** Model weight variants transformers.js looks for (`onnx/model{suffix}.onnx`). */
export type TransformersDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';

const DTYPE_SUFFIX: Record<TransformersDtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** Settings of `createTransformersBackbone`. */
export interface TransformersBackboneSettings {
  /** Directory with config.json, tokenizer.json, tokenizer_config.json and onnx/model{suffix}.onnx. */
  modelDir: string;
  /** Pooling. Default `'mean'`. */
  pooling?: TransformersPooling;
  /** L2-normalise each vector. Default true. */
  normalize?: boolean;
  /** Weight file variant. Default `'fp32'` (onnx/model.onnx). */
  dtype?: TransformersDtype;
  /** Execution device. Default `'cpu'`. */
  device?: 'cpu' | 'cuda';
  /** Texts per forward pass (padded to the longest). Default 16; `last_token` pooling always runs one at a time. */
  batchSize?: number;
  /** Backbone id stored with trained heads. Default `transformers:<directory name>`. */
  id?: string;
}

/** A loaded transformers backbone. */
export interface TransformersBackbone extends Backbone {
  /** Releases the ONNX Runtime session; later `embed` calls throw. */
  dispose(): Promise<void>;
}

interface TensorLike {
  dims: number[];
  data: ArrayLike<number>;
}
type Extractor = ((
  texts: string[],
  options: { pooling: string; normalize: boolean },
) => Promise<TensorLike>) & {
  dispose(): Promise<void>;
};

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads a local feature-extraction model directory as a `Backbone` through @huggingface/transformers
 * (optional peer dependency), offline: `local_files_only` is set and the directory is given as an absolute
 * path, so nothing is fetched and transformers.js' global `env` is left untouched.
 *
 * Defaults: `pooling: 'mean'`, `normalize: true`, `dtype: 'fp32'`, `device: 'cpu'`, `batchSize: 16`.
 * Throws `BackboneLoadError` (`not_found` / `config_error`) for a missing or invalid directory,
 * `MissingPeerDependencyError` when @huggingface/transformers is not installed.
 *
 * @example
 * ```ts
 * const backbone = await createTransformersBackbone({ modelDir: './models/all-MiniLM-L6-v2' });
 * const [vector] = await backbone.embed(['user: route me']); // Float32Array(384), unit length
 * ```
 */
export async function createTransformersBackbone(
  settings: TransformersBackboneSettings,
): Promise<TransformersBackbone> {
  const pooling = settings.pooling ?? 'mean';
  if (pooling !== 'mean' && pooling !== 'cls' && pooling !== 'last_token') {
    throw new InvalidArgumentError({
      argument: 'pooling',
      message: `pooling must be 'mean', 'cls' or 'last_token'`,
    });
  }
  const normalize = settings.normalize ?? true;
  const dtype = settings.dtype ?? 'fp32';
  if (!(dtype in DTYPE_SUFFIX)) {
    throw new InvalidArgumentError({ argument: 'dtype', message: `unsupported dtype ${String(dtype)}` });
  }
  const batchSize = pooling === 'last_token' ? 1 : (settings.batchSize ?? 16);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidArgumentError({
      argument: 'batchSize',
      message: `batchSize must be a positive integer, got ${batchSize}`,
    });
  }
  const modelDir = resolve(settings.modelDir);
  try {
    if (!(await stat(modelDir)).isDirectory()) {
      throw new BackboneLoadError({
        code: 'config_error',
        path: modelDir,
        message: `not a directory: ${modelDir}`,
      });
    }
  } catch (cause) {
    if (OpenFuguError.isInstance(cause)) throw cause;
    throw new BackboneLoadError({
      code: 'not_found',
      path: modelDir,
      message: `model directory not found: ${modelDir}`,
      cause,
    });
  }
  for (const file of [
    'config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    join('onnx', `model${DTYPE_SUFFIX[dtype]}.onnx`),
  ]) {
    const path = join(modelDir, file);
    if (!(await exists(path))) {
      throw new BackboneLoadError({ code: 'not_found', path, message: `${file} not found in ${modelDir}` });
    }
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new BackboneLoadError({
      code: 'config_error',
      path: join(modelDir, 'config.json'),
      message: `config.json in ${modelDir} is not valid JSON`,
      cause,
    });
  }

  let transformers: typeof import('@huggingface/transformers');
  try {
    transformers = await import('@huggingface/transformers');
  } catch (cause) {
    throw new MissingPeerDependencyError({
      packageName: '@huggingface/transformers',
      message: `the transformers backbone needs the optional peer dependency '@huggingface/transformers' (npm install @huggingface/transformers@4.3.1)`,
      cause,
    });
  }
  let extractor: Extractor;
  try {
    // An absolute path is not a valid Hub id: transformers.js reads it from disk, never from the network.
    extractor = (await transformers.pipeline('feature-extraction', modelDir, {
      local_files_only: true,
      dtype,
      device: settings.device ?? 'cpu',
    })) as unknown as Extractor;
  } catch (cause) {
    throw new BackboneLoadError({
      code: 'config_error',
      path: modelDir,
      message: `@huggingface/transformers could not load ${modelDir}: ${(cause as Error).message}`,
      cause,
    });
  }

  const run = async (texts: string[]): Promise<Float32Array[]> => {
    const output = await extractor(texts, { pooling, normalize });
    const [rows, width] = output.dims;
    if (output.dims.length !== 2 || rows !== texts.length || width === undefined) {
      throw new OpenFuguError({
        code: 'internal_error',
        message: `feature extraction returned shape [${output.dims.join(', ')}] for ${texts.length} texts`,
      });
    }
    return texts.map((_, row) =>
      Float32Array.from({ length: width }, (_, j) => output.data[row * width + j]!),
    );
  };

  const declared = [config.hidden_size, config.d_model, config.dim].find(
    (value): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0,
  );
  const dimension = declared ?? (await run(['a']))[0]!.length;
  let released = false;

  return {
    id: settings.id ?? `transformers:${basename(modelDir)}`,
    dimension,
    async embed(
      texts: readonly string[],
      options: { signal?: AbortSignalLike } = {},
    ): Promise<Float32Array[]> {
      if (released)
        throw new InvalidArgumentError({ argument: 'backbone', message: 'embed called after dispose()' });
      const out: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        if (options.signal?.aborted) throw new AbortedError({ cause: options.signal.reason });
        const vectors = await run(texts.slice(start, start + batchSize));
        for (const vector of vectors) {
          if (vector.length !== dimension) {
            throw new OpenFuguError({
              code: 'internal_error',
              message: `model returned ${vector.length}-d vectors; config declares ${dimension}`,
            });
          }
          out.push(vector);
        }
      }
      return out;
    },
    async dispose(): Promise<void> {
      if (released) return;
      released = true;
      await extractor.dispose();
    },
  };
}
