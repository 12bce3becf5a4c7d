/**
 * The TRINITY backbone: a local decoder-only ONNX export (Qwen3-0.6B in the paper) run with
 * onnxruntime-node. The feature of a text is the final hidden state, after the last norm, at the
 * second-to-last token — no pooling (DESIGN.md, "TRINITY — facts").
 *
 * Decoder exports output logits and the KV cache, not hidden states, so the model is rewritten once to
 * output the LM head's input (see `graph-surgery.ts`) and the result is cached beside the original file.
 */
import { constants } from 'node:fs';
import { access, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import {
  AbortedError,
  type AbortSignalLike,
  type Backbone,
  InvalidArgumentError,
  OpenFuguError,
} from '@openfugu/schema';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { MissingPeerDependencyError } from '../../errors.js';
import { BackboneLoadError } from './backbone-load-error.js';
import { float16BitsToFloat32 } from './float16.js';
import {
  findLmHeadInput,
  HIDDEN_STATE_OUTPUT_NAMES,
  inspectOnnxModel,
  rewriteOutputs,
} from './graph-surgery.js';

/** Settings of `createOnnxDecoderBackbone`. */
export interface OnnxDecoderBackboneSettings {
  /** Directory holding config.json, tokenizer.json (+ tokenizer_config.json) and the ONNX file. */
  modelDir: string;
  /** ONNX file, relative to `modelDir`. Default `onnx/model.onnx` (HF Optimum / onnx-community layout). */
  modelFile?: string;
  /** ONNX Runtime execution provider. Default `'cpu'`; `'cuda'` needs onnxruntime-node's CUDA binaries. */
  executionProvider?: 'cpu' | 'cuda';
  /**
   * Texts per forward pass. Default 1 (exact for any export). Larger batches right-pad with the attention
   * mask set to 0; with causal attention the padding cannot reach earlier positions, so features equal the
   * unbatched ones up to float rounding — check with your export before relying on it.
   */
  batchSize?: number;
  /** Keep only the last `maxTokens` tokens of longer texts (the feature token is near the end). Default: no limit. */
  maxTokens?: number;
  /** Tensor to read instead of auto-detecting the LM head's input (e.g. a custom export's norm output). */
  hiddenStateName?: string;
  /**
   * Save the rewritten model as `<model>.hidden.onnx` beside the original and reuse it while it is newer
   * than the original. Default true. When false, or when the directory is not writable, the rewritten
   * model is kept in memory (models with external weight files need the on-disk copy).
   */
  cache?: boolean;
  /** ONNX Runtime intra-op threads. Default: ONNX Runtime's choice (all cores). */
  threads?: number;
  /** Backbone id stored with trained heads. Default `onnx-decoder:<directory name>`. */
  id?: string;
}

/** How the hidden-state model was obtained. */
export type HiddenStateSource =
  /** The export already outputs the hidden state (`last_hidden_state` or `hiddenStateName`). */
  | 'model-output'
  /** Rewritten now and saved beside the original. */
  | 'created'
  /** A previously saved rewrite was reused. */
  | 'reused'
  /** Rewritten now, kept in memory only. */
  | 'in-memory';

/** A loaded onnx-decoder backbone. */
export interface OnnxDecoderBackbone extends Backbone {
  /** The ONNX file the session runs (the rewritten copy when one was saved). */
  readonly modelPath: string;
  /** Name of the tensor read as the feature. */
  readonly hiddenStateName: string;
  /** Where that tensor comes from. */
  readonly hiddenStateSource: HiddenStateSource;
  /** Token ids the backbone feeds for a text (after truncation to `maxTokens`). */
  tokenize(text: string): number[];
  /** Releases the ONNX Runtime session; later `embed` calls throw. */
  dispose(): Promise<void>;
}

interface DecoderConfig {
  hiddenSize: number;
  numKvHeads: number | undefined;
  headDim: number | undefined;
}

type OrtModule = typeof import('onnxruntime-node');
type Tokenizer = { encode(text: string): number[] };

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new BackboneLoadError({ code: 'not_found', path, message: `${what} not found at ${path}`, cause });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new BackboneLoadError({
      code: 'config_error',
      path,
      message: `${what} at ${path} is not valid JSON`,
      cause,
    });
  }
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function parseDecoderConfig(raw: Record<string, unknown>, path: string): DecoderConfig {
  // Multimodal configs nest the language model's settings.
  const text = (
    typeof raw.text_config === 'object' && raw.text_config !== null ? raw.text_config : raw
  ) as Record<string, unknown>;
  const hiddenSize = positiveInteger(text.hidden_size);
  if (hiddenSize === undefined) {
    throw new BackboneLoadError({
      code: 'config_error',
      path,
      message: `config.json at ${path} has no positive hidden_size`,
    });
  }
  const heads = positiveInteger(text.num_attention_heads);
  return {
    hiddenSize,
    numKvHeads: positiveInteger(text.num_key_value_heads) ?? heads,
    headDim: positiveInteger(text.head_dim) ?? (heads === undefined ? undefined : hiddenSize / heads),
  };
}

async function importOrt(path: string): Promise<OrtModule> {
  try {
    return await import('onnxruntime-node');
  } catch (cause) {
    throw new MissingPeerDependencyError({
      packageName: 'onnxruntime-node',
      message: `the onnx-decoder backbone needs the optional peer dependency 'onnxruntime-node' (npm install onnxruntime-node@1.30.0); model ${path}`,
      cause,
    });
  }
}

async function loadTokenizer(modelDir: string): Promise<Tokenizer> {
  const tokenizerPath = join(modelDir, 'tokenizer.json');
  if (!(await exists(tokenizerPath))) {
    throw new BackboneLoadError({
      code: 'not_found',
      path: tokenizerPath,
      message: `tokenizer.json not found in ${modelDir}`,
    });
  }
  let transformers: typeof import('@huggingface/transformers');
  try {
    transformers = await import('@huggingface/transformers');
  } catch (cause) {
    throw new MissingPeerDependencyError({
      packageName: '@huggingface/transformers',
      message: `tokenising needs the optional peer dependency '@huggingface/transformers' (npm install @huggingface/transformers@4.3.1); model ${modelDir}`,
      cause,
    });
  }
  try {
    // An absolute path is not a valid Hub id, so transformers.js reads it from disk without touching `env`.
    if (await exists(join(modelDir, 'tokenizer_config.json'))) {
      const tokenizer = await transformers.AutoTokenizer.from_pretrained(modelDir, {
        local_files_only: true,
      });
      return { encode: (text) => tokenizer.encode(text) };
    }
    const tokenizerJson = await readJson(tokenizerPath, 'tokenizer.json');
    const tokenizer = new transformers.PreTrainedTokenizer(tokenizerJson, {});
    return { encode: (text) => tokenizer.encode(text) };
  } catch (cause) {
    if (OpenFuguError.isInstance(cause)) throw cause;
    throw new BackboneLoadError({
      code: 'config_error',
      path: tokenizerPath,
      message: `could not load the tokenizer in ${modelDir}: ${(cause as Error).message}`,
      cause,
    });
  }
}

interface PreparedModel {
  source: string | Uint8Array;
  modelPath: string;
  hiddenStateName: string;
  hiddenStateSource: HiddenStateSource;
}

/** 32-bit FNV-1a of a string, as 8 hex digits (cache file names). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

async function isFresh(candidate: string, original: string): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([stat(candidate), stat(original)]);
    return a.mtimeMs >= b.mtimeMs;
  } catch {
    return false;
  }
}

async function prepareModel(
  ort: OrtModule,
  modelPath: string,
  settings: OnnxDecoderBackboneSettings,
  sessionOptions: InferenceSession.SessionOptions,
): Promise<{ session: InferenceSession; prepared: PreparedModel }> {
  // Auto-detected and explicitly named hidden states are cached in different files, so one never
  // silently reuses the other.
  const suffix =
    settings.hiddenStateName === undefined
      ? '.hidden.onnx'
      : `.hidden-${fnv1a(settings.hiddenStateName)}.onnx`;
  const hiddenPath = modelPath.replace(/(\.onnx)?$/, suffix);
  const cache = settings.cache ?? true;
  if (cache && (await isFresh(hiddenPath, modelPath))) {
    // A cached rewrite that no longer loads (e.g. written by another version) is simply redone below.
    const session = await createSession(ort, hiddenPath, sessionOptions).catch(() => undefined);
    if (session === undefined) return prepareFresh(ort, modelPath, hiddenPath, settings, sessionOptions);
    const [only, ...rest] = session.outputNames;
    if (only !== undefined && rest.length === 0 && (settings.hiddenStateName ?? only) === only) {
      return {
        session,
        prepared: {
          source: hiddenPath,
          modelPath: hiddenPath,
          hiddenStateName: only,
          hiddenStateSource: 'reused',
        },
      };
    }
    await session.release();
  }
  return prepareFresh(ort, modelPath, hiddenPath, settings, sessionOptions);
}

async function prepareFresh(
  ort: OrtModule,
  modelPath: string,
  hiddenPath: string,
  settings: OnnxDecoderBackboneSettings,
  sessionOptions: InferenceSession.SessionOptions,
): Promise<{ session: InferenceSession; prepared: PreparedModel }> {
  const cache = settings.cache ?? true;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(modelPath);
  } catch (cause) {
    throw new BackboneLoadError({
      code: 'not_found',
      path: modelPath,
      message: `ONNX model not found at ${modelPath}`,
      cause,
    });
  }
  let rewritten: Uint8Array;
  let hiddenStateName: string;
  let hasExternalData = false;
  try {
    const graph = inspectOnnxModel(bytes);
    const outputs = graph.outputs.map((o) => o.name);
    const existing = outputs.find((name) =>
      settings.hiddenStateName === undefined
        ? HIDDEN_STATE_OUTPUT_NAMES.includes(name)
        : name === settings.hiddenStateName,
    );
    if (existing !== undefined) {
      const session = await createSession(ort, modelPath, sessionOptions);
      return {
        session,
        prepared: {
          source: modelPath,
          modelPath,
          hiddenStateName: existing,
          hiddenStateSource: 'model-output',
        },
      };
    }
    const location =
      settings.hiddenStateName === undefined
        ? findLmHeadInput(graph)
        : { name: settings.hiddenStateName, elemType: graph.valueInfo.get(settings.hiddenStateName) };
    if (!graph.nodes.some((node) => node.outputs.includes(location.name))) {
      throw new Error(`no node produces "${location.name}"`);
    }
    hiddenStateName = location.name;
    hasExternalData = graph.hasExternalData;
    rewritten = rewriteOutputs(bytes, location);
  } catch (cause) {
    if (OpenFuguError.isInstance(cause)) throw cause;
    throw new BackboneLoadError({
      code: 'config_error',
      path: modelPath,
      message: `cannot locate the final hidden state in ${modelPath}: ${(cause as Error).message}`,
      cause,
    });
  }

  if (cache) {
    const temporary = `${hiddenPath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await writeFile(temporary, rewritten);
      await rename(temporary, hiddenPath);
      const session = await createSession(ort, hiddenPath, sessionOptions);
      return {
        session,
        prepared: {
          source: hiddenPath,
          modelPath: hiddenPath,
          hiddenStateName,
          hiddenStateSource: 'created',
        },
      };
    } catch (cause) {
      await unlink(temporary).catch(() => undefined);
      if (OpenFuguError.isInstance(cause)) throw cause;
      // Not writable: fall through to an in-memory session.
    }
  }
  if (hasExternalData) {
    throw new BackboneLoadError({
      code: 'config_error',
      path: hiddenPath,
      message: `${modelPath} keeps its weights in external data files, so the rewritten model must be saved beside it as ${hiddenPath}: ${cache ? 'make the directory writable' : 'set cache: true'} (or write it once with a writable copy of the directory)`,
    });
  }
  const session = await createSession(ort, rewritten, sessionOptions, modelPath);
  return {
    session,
    prepared: { source: rewritten, modelPath, hiddenStateName, hiddenStateSource: 'in-memory' },
  };
}

async function createSession(
  ort: OrtModule,
  source: string | Uint8Array,
  options: InferenceSession.SessionOptions,
  pathForErrors = typeof source === 'string' ? source : '(in memory)',
): Promise<InferenceSession> {
  try {
    return typeof source === 'string'
      ? await ort.InferenceSession.create(source, options)
      : await ort.InferenceSession.create(source, options);
  } catch (cause) {
    const provider = options.executionProviders?.[0];
    const hint =
      provider === 'cuda'
        ? ' (the CUDA provider needs onnxruntime-node installed with its CUDA binaries)'
        : '';
    throw new BackboneLoadError({
      code: 'config_error',
      path: pathForErrors,
      message: `ONNX Runtime could not load ${pathForErrors}${hint}: ${(cause as Error).message}`,
      cause,
    });
  }
}

function checkAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
}

/**
 * Loads a local decoder-only ONNX export (Qwen3 family: HF Optimum / onnx-community layout) as a
 * `Backbone`. Each text is tokenised as is (no chat template) and mapped to the final-norm hidden state
 * at its second-to-last token (the last token when a text has only one).
 *
 * On first load the graph is rewritten so its only output is the LM head's input (the final norm's
 * output); the rewrite is saved as `onnx/model.hidden.onnx` and reused while newer than the original.
 * Needs the optional peers `onnxruntime-node` and `@huggingface/transformers`.
 *
 * Defaults: `modelFile: 'onnx/model.onnx'`, `executionProvider: 'cpu'`, `batchSize: 1`, `cache: true`.
 * Throws `BackboneLoadError` (`not_found` / `config_error`) for a missing or invalid model directory,
 * `MissingPeerDependencyError` when an optional peer is not installed.
 *
 * @example
 * ```ts
 * const backbone = await createOnnxDecoderBackbone({ modelDir: './models/Qwen3-0.6B-onnx' });
 * const [feature] = await backbone.embed(['user: What is 2+2?']); // Float32Array(1024)
 * await backbone.dispose();
 * ```
 */
export async function createOnnxDecoderBackbone(
  settings: OnnxDecoderBackboneSettings,
): Promise<OnnxDecoderBackbone> {
  const batchSize = settings.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidArgumentError({
      argument: 'batchSize',
      message: `batchSize must be a positive integer, got ${batchSize}`,
    });
  }
  const maxTokens = settings.maxTokens;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw new InvalidArgumentError({
      argument: 'maxTokens',
      message: `maxTokens must be a positive integer, got ${maxTokens}`,
    });
  }
  const provider = settings.executionProvider ?? 'cpu';
  if (provider !== 'cpu' && provider !== 'cuda') {
    throw new InvalidArgumentError({
      argument: 'executionProvider',
      message: `executionProvider must be 'cpu' or 'cuda'`,
    });
  }
  const modelDir = resolve(settings.modelDir);
  let directory: Awaited<ReturnType<typeof stat>>;
  try {
    directory = await stat(modelDir);
  } catch (cause) {
    throw new BackboneLoadError({
      code: 'not_found',
      path: modelDir,
      message: `model directory not found: ${modelDir}`,
      cause,
    });
  }
  if (!directory.isDirectory()) {
    throw new BackboneLoadError({
      code: 'config_error',
      path: modelDir,
      message: `not a directory: ${modelDir}`,
    });
  }
  const configPath = join(modelDir, 'config.json');
  const config = parseDecoderConfig(await readJson(configPath, 'config.json'), configPath);
  const modelPath = join(modelDir, settings.modelFile ?? join('onnx', 'model.onnx'));
  if (!(await exists(modelPath))) {
    throw new BackboneLoadError({
      code: 'not_found',
      path: modelPath,
      message: `ONNX model not found at ${modelPath}`,
    });
  }
  const tokenizer = await loadTokenizer(modelDir);
  const ort = await importOrt(modelPath);

  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(settings.threads === undefined ? {} : { intraOpNumThreads: settings.threads }),
  };
  const { session, prepared } = await prepareModel(ort, modelPath, settings, sessionOptions);
  const feedPlan = planFeeds(session, config, prepared.modelPath);

  const tokenize = (text: string): number[] => {
    const ids = tokenizer.encode(text);
    return maxTokens !== undefined && ids.length > maxTokens ? ids.slice(ids.length - maxTokens) : ids;
  };

  let released = false;
  // One forward pass at a time: ONNX Runtime already uses every core for one pass, and dispose() must not
  // release the session under a running pass.
  let queue: Promise<unknown> = Promise.resolve();
  const serialised = <T>(task: () => Promise<T>): Promise<T> => {
    const result = queue.then(task);
    queue = result.catch(() => undefined);
    return result;
  };
  const runBatch = async (batch: readonly number[][]): Promise<Float32Array[]> => {
    const rows = batch.length;
    const width = Math.max(...batch.map((ids) => ids.length));
    const inputIds = new BigInt64Array(rows * width);
    const attention = new BigInt64Array(rows * width);
    const positions = new BigInt64Array(rows * width);
    batch.forEach((ids, row) => {
      for (let t = 0; t < width; t++) {
        inputIds[row * width + t] = BigInt(t < ids.length ? ids[t]! : 0);
        attention[row * width + t] = t < ids.length ? 1n : 0n;
        positions[row * width + t] = BigInt(t);
      }
    });
    const feeds: Record<string, Tensor> = {};
    for (const input of feedPlan) {
      if (input.kind === 'past') {
        const dims = [rows, input.heads, 0, input.headDim];
        feeds[input.name] =
          input.type === 'float16'
            ? new ort.Tensor('float16', new Uint16Array(0), dims)
            : new ort.Tensor('float32', new Float32Array(0), dims);
      } else if (input.kind === 'input_ids')
        feeds[input.name] = new ort.Tensor('int64', inputIds, [rows, width]);
      else if (input.kind === 'attention_mask')
        feeds[input.name] = new ort.Tensor('int64', attention, [rows, width]);
      else if (input.kind === 'position_ids')
        feeds[input.name] = new ort.Tensor('int64', positions, [rows, width]);
      else if (input.kind === 'logits_to_keep') {
        // 0 keeps every position (transformers' `logits_to_keep` semantics).
        feeds[input.name] = new ort.Tensor('int64', new BigInt64Array(1), input.scalar ? [] : [1]);
      } else feeds[input.name] = new ort.Tensor('bool', [false], [1]);
    }
    let output: Tensor;
    try {
      const result = await session.run(feeds, [prepared.hiddenStateName]);
      output = result[prepared.hiddenStateName] as Tensor;
    } catch (cause) {
      throw new OpenFuguError({
        code: 'internal_error',
        message: `ONNX Runtime failed on ${prepared.modelPath}: ${(cause as Error).message}`,
        cause,
      });
    }
    const [outRows, outTokens, outHidden] = output.dims;
    if (
      output.dims.length !== 3 ||
      outRows !== rows ||
      outTokens !== width ||
      outHidden !== config.hiddenSize
    ) {
      throw new BackboneLoadError({
        code: 'config_error',
        path: prepared.modelPath,
        message: `hidden state "${prepared.hiddenStateName}" has shape [${output.dims.join(', ')}], expected [${rows}, ${width}, ${config.hiddenSize}]`,
      });
    }
    const data =
      output.type === 'float16'
        ? float16BitsToFloat32(output.data as Uint16Array)
        : output.type === 'float32'
          ? (output.data as Float32Array)
          : undefined;
    if (data === undefined) {
      throw new BackboneLoadError({
        code: 'config_error',
        path: prepared.modelPath,
        message: `hidden state "${prepared.hiddenStateName}" has unsupported type ${output.type}`,
      });
    }
    const hidden = config.hiddenSize;
    return batch.map((ids, row) => {
      const position = Math.max(ids.length - 2, 0);
      const start = (row * width + position) * hidden;
      return data.slice(start, start + hidden);
    });
  };

  return {
    id: settings.id ?? `onnx-decoder:${basename(modelDir)}`,
    dimension: config.hiddenSize,
    modelPath: prepared.modelPath,
    hiddenStateName: prepared.hiddenStateName,
    hiddenStateSource: prepared.hiddenStateSource,
    tokenize,
    async embed(
      texts: readonly string[],
      options: { signal?: AbortSignalLike } = {},
    ): Promise<Float32Array[]> {
      if (released) {
        throw new InvalidArgumentError({ argument: 'backbone', message: 'embed called after dispose()' });
      }
      checkAborted(options.signal);
      const tokenised = texts.map((text, i) => {
        const ids = tokenize(text);
        if (ids.length === 0) {
          throw new InvalidArgumentError({ argument: `texts[${i}]`, message: `text ${i} has no tokens` });
        }
        return ids;
      });
      // Sorting by length keeps padding small when batching; results go back in input order.
      const order = tokenised.map((_, i) => i);
      if (batchSize > 1) order.sort((a, b) => tokenised[a]!.length - tokenised[b]!.length);
      const features: Float32Array[] = new Array(texts.length);
      for (let start = 0; start < order.length; start += batchSize) {
        const indices = order.slice(start, start + batchSize);
        const vectors = await serialised(() => {
          checkAborted(options.signal);
          if (released) {
            throw new InvalidArgumentError({
              argument: 'backbone',
              message: 'backbone disposed during embed()',
            });
          }
          return runBatch(indices.map((i) => tokenised[i]!));
        });
        indices.forEach((index, k) => {
          features[index] = vectors[k]!;
        });
      }
      return features;
    },
    async dispose(): Promise<void> {
      if (released) return;
      released = true;
      await serialised(() => session.release());
    },
  };
}

type FeedInput =
  | { kind: 'input_ids' | 'attention_mask' | 'position_ids' | 'use_cache_branch'; name: string }
  | { kind: 'logits_to_keep'; name: string; scalar: boolean }
  | { kind: 'past'; name: string; type: 'float32' | 'float16'; heads: number; headDim: number };

/** Decides what to feed each model input; rejects inputs a decoder export should not have. */
function planFeeds(session: InferenceSession, config: DecoderConfig, modelPath: string): FeedInput[] {
  const plan: FeedInput[] = [];
  for (const metadata of session.inputMetadata) {
    const name = metadata.name;
    if (
      name === 'input_ids' ||
      name === 'attention_mask' ||
      name === 'position_ids' ||
      name === 'use_cache_branch'
    ) {
      plan.push({ kind: name, name });
      continue;
    }
    if (name === 'num_logits_to_keep' || name === 'logits_to_keep') {
      plan.push({ kind: 'logits_to_keep', name, scalar: metadata.isTensor && metadata.shape.length === 0 });
      continue;
    }
    if (
      name.startsWith('past_key_values.') ||
      name.startsWith('past_key.') ||
      name.startsWith('past_value.')
    ) {
      const shape = metadata.isTensor ? metadata.shape : [];
      const type = metadata.isTensor ? metadata.type : undefined;
      const heads = typeof shape[1] === 'number' ? shape[1] : config.numKvHeads;
      const headDim = typeof shape[3] === 'number' ? shape[3] : config.headDim;
      if ((type !== 'float32' && type !== 'float16') || heads === undefined || headDim === undefined) {
        throw new BackboneLoadError({
          code: 'config_error',
          path: modelPath,
          message: `cannot build an empty KV cache for input "${name}" (type ${String(type)}, shape [${shape.join(', ')}])`,
        });
      }
      plan.push({ kind: 'past', name, type, heads, headDim });
      continue;
    }
    throw new BackboneLoadError({
      code: 'config_error',
      path: modelPath,
      message: `unsupported model input "${name}" (expected input_ids, attention_mask, position_ids, past_key_values.*)`,
    });
  }
  if (!plan.some((input) => input.kind === 'input_ids')) {
    throw new BackboneLoadError({
      code: 'config_error',
      path: modelPath,
      message: `model has no input_ids input`,
    });
  }
  return plan;
}
