/**
 * Generates a tiny Qwen3-architecture decoder as an ONNX model, laid out like an HF Optimum export
 * (inputs `input_ids`, `attention_mask`, `position_ids`, `past_key_values.{i}.key|value`; outputs `logits`,
 * `present.{i}.key|value`), plus the `config.json`, a byte-level BPE `tokenizer.json` and a
 * `tokenizer_config.json` of a model directory. Weights are random but seeded.
 *
 * Architecture (transformers' `Qwen3ForCausalLM`): token embedding → per layer [RMSNorm → q/k/v projections
 * (no bias) → per-head q_norm/k_norm RMSNorm → RoPE → causal grouped-query attention → o_proj → residual;
 * RMSNorm → SwiGLU MLP → residual] → final RMSNorm → LM head (tied to the embedding or not).
 *
 * Used by the tests and the benchmark; nothing here is shipped.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { onnx } from './onnx-proto.js';

/** Shape and hyper-parameters of the generated decoder (names follow Qwen3's config.json). */
export interface TinyQwen3Config {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  ropeTheta: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  seed: number;
}

/** Row-major weights in transformers' layout (`Linear.weight` is [out, in]). */
export interface TinyQwen3Layer {
  inputNorm: Float32Array;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  o: Float32Array;
  qNorm: Float32Array;
  kNorm: Float32Array;
  postNorm: Float32Array;
  gate: Float32Array;
  up: Float32Array;
  down: Float32Array;
}

export interface TinyQwen3Weights {
  embed: Float32Array;
  layers: TinyQwen3Layer[];
  finalNorm: Float32Array;
  /** [vocab, hidden]; the same array as `embed` when tied. */
  lmHead: Float32Array;
}

/** The byte-level BPE vocabulary below has 256 byte tokens + 24 merges + 1 special token. */
export const TINY_VOCAB_SIZE = 281;

/** Defaults: vocab 281, hidden 32, 2 layers, 4 query heads, 2 KV heads, head_dim 8, tied embeddings. */
export function tinyQwen3Config(overrides: Partial<TinyQwen3Config> = {}): TinyQwen3Config {
  return {
    vocabSize: TINY_VOCAB_SIZE,
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    ropeTheta: 10_000,
    rmsNormEps: 1e-6,
    tieWordEmbeddings: true,
    seed: 7,
    ...overrides,
  };
}

/** mulberry32: a small seeded generator, enough for test weights. */
function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded random weights: projections uniform in ±1/√fan_in·√3 (unit variance outputs), norms near 1. */
export function createTinyQwen3Weights(config: TinyQwen3Config): TinyQwen3Weights {
  const random = createRng(config.seed);
  const uniform = (size: number, scale: number): Float32Array => {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = (random() * 2 - 1) * scale;
    return out;
  };
  const norm = (size: number): Float32Array => {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = 0.8 + 0.4 * random();
    return out;
  };
  const { hiddenSize: h, intermediateSize: m, numHeads, numKvHeads, headDim: d, vocabSize: v } = config;
  const linear = (out: number, inp: number): Float32Array => uniform(out * inp, Math.sqrt(3 / inp));
  const embed = uniform(v * h, 1);
  const layers: TinyQwen3Layer[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    layers.push({
      inputNorm: norm(h),
      q: linear(numHeads * d, h),
      k: linear(numKvHeads * d, h),
      v: linear(numKvHeads * d, h),
      o: linear(h, numHeads * d),
      qNorm: norm(d),
      kNorm: norm(d),
      postNorm: norm(h),
      gate: linear(m, h),
      up: linear(m, h),
      down: linear(h, m),
    });
  }
  const finalNorm = norm(h);
  const lmHead = config.tieWordEmbeddings ? embed : linear(v, h);
  return { embed, layers, finalNorm, lmHead };
}

function transpose(matrix: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(matrix.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = matrix[r * cols + c]!;
  return out;
}

/** Graph-building helpers over onnx-proto. */
class GraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  private counter = 0;

  float(name: string, values: Float32Array, dims: number[]): string {
    this.initializers.push({
      name,
      dataType: onnx.TensorProto.DataType.FLOAT,
      dims,
      rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
    });
    return name;
  }

  int64(name: string, values: number[]): string {
    const data = BigInt64Array.from(values.map((x) => BigInt(x)));
    this.initializers.push({
      name,
      dataType: onnx.TensorProto.DataType.INT64,
      dims: [values.length],
      rawData: new Uint8Array(data.buffer),
    });
    return name;
  }

  scalarFloat(name: string, value: number): string {
    this.initializers.push({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [value] });
    return name;
  }

  scalarInt64(name: string, value: number): string {
    this.initializers.push({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [], int64Data: [value] });
    return name;
  }

  op(
    opType: string,
    inputs: string[],
    attributes: OnnxTypes.IAttributeProto[] = [],
    output?: string,
    scope = '',
  ): string {
    const name = `${scope}/${opType}_${this.counter++}`;
    const out = output ?? `${name}_output_0`;
    this.nodes.push({ opType, input: inputs, output: [out], name, attribute: attributes });
    return out;
  }
}

const ints = (name: string, values: number[]): OnnxTypes.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: values,
});
const int = (name: string, value: number): OnnxTypes.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INT,
  i: value,
});

function valueInfo(name: string, elemType: number, dims: (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Name of the final-norm output tensor in the generated graph (the LM head's input). */
export const TINY_FINAL_NORM_NAME = '/model/norm/Mul_1_output_0';

/** Encodes the decoder as an ONNX model (opset 15, IR 8). */
export function buildTinyQwen3Onnx(config: TinyQwen3Config, weights: TinyQwen3Weights): Uint8Array {
  const g = new GraphBuilder();
  const { hiddenSize: h, intermediateSize: m, numHeads, numKvHeads, headDim: d, vocabSize: v } = config;
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const INT64 = onnx.TensorProto.DataType.INT64;

  const two = g.scalarFloat('const_two', 2);
  const eps = g.scalarFloat('const_eps', config.rmsNormEps);
  const one = g.scalarFloat('const_one', 1);
  const scale = g.scalarFloat('const_scale', 1 / Math.sqrt(d));
  const negBig = g.scalarFloat('const_neg', -1e9);
  const zeroF = g.scalarFloat('const_zero_f', 0);
  const zeroI = g.scalarInt64('const_zero_i', 0);
  const oneI = g.scalarInt64('const_one_i', 1);
  const idx1 = g.scalarInt64('const_idx1', 1);

  const rmsNorm = (x: string, weight: string, scope: string, output?: string): string => {
    const pow = g.op('Pow', [x, two], [], undefined, scope);
    const mean = g.op('ReduceMean', [pow], [ints('axes', [-1]), int('keepdims', 1)], undefined, scope);
    const sqrt = g.op('Sqrt', [g.op('Add', [mean, eps], [], undefined, scope)], [], undefined, scope);
    const inv = g.op('Div', [one, sqrt], [], undefined, scope);
    const normed = g.op('Mul', [x, inv], [], undefined, scope);
    return g.op('Mul', [normed, weight], [], output, scope);
  };

  // Causal + padding mask, [B, 1, S, T] additive.
  const seqLen = g.op('Gather', [g.op('Shape', ['input_ids']), idx1], [int('axis', 0)]);
  const totalLen = g.op('Gather', [g.op('Shape', ['attention_mask']), idx1], [int('axis', 0)]);
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  const keyPositions = g.op('Range', [zeroI, totalLen, oneI]);
  const queryPositions = g.op('Unsqueeze', [
    g.op('Range', [pastLen, totalLen, oneI]),
    g.int64('axes_1', [1]),
  ]);
  const future = g.op('Greater', [keyPositions, queryPositions]);
  const padding = g.op('Unsqueeze', [g.op('Equal', ['attention_mask', zeroI]), g.int64('axes_1_2', [1, 2])]);
  const mask = g.op('Where', [g.op('Or', [future, padding]), negBig, zeroF]);

  // Rotary tables from position_ids, [B, 1, S, D].
  const invFreq = new Float32Array(d / 2);
  for (let j = 0; j < d / 2; j++) invFreq[j] = 1 / config.ropeTheta ** ((2 * j) / d);
  const positions = g.op('Unsqueeze', [
    g.op('Cast', ['position_ids'], [int('to', FLOAT)]),
    g.int64('axes_2', [2]),
  ]);
  const freqs = g.op('Mul', [positions, g.float('inv_freq', invFreq, [d / 2])]);
  const angles = g.op('Concat', [freqs, freqs], [int('axis', -1)]);
  const axes1 = g.int64('axes_1b', [1]);
  const cos = g.op('Unsqueeze', [g.op('Cos', [angles]), axes1]);
  const sin = g.op('Unsqueeze', [g.op('Sin', [angles]), axes1]);
  const half0 = g.int64('half_0', [0]);
  const halfMid = g.int64('half_mid', [d / 2]);
  const halfEnd = g.int64('half_end', [d]);
  const axis3 = g.int64('axis_3', [3]);
  const rope = (x: string, scope: string): string => {
    const x1 = g.op('Slice', [x, half0, halfMid, axis3], [], undefined, scope);
    const x2 = g.op('Slice', [x, halfMid, halfEnd, axis3], [], undefined, scope);
    const rotated = g.op(
      'Concat',
      [g.op('Neg', [x2], [], undefined, scope), x1],
      [int('axis', -1)],
      undefined,
      scope,
    );
    return g.op(
      'Add',
      [g.op('Mul', [x, cos], [], undefined, scope), g.op('Mul', [rotated, sin], [], undefined, scope)],
      [],
      undefined,
      scope,
    );
  };

  const headsShape = g.int64('shape_q', [0, 0, numHeads, d]);
  const kvHeadsShape = g.int64('shape_kv', [0, 0, numKvHeads, d]);
  const mergedShape = g.int64('shape_merged', [0, 0, numHeads * d]);
  const expandShape = g.int64('shape_expand', [1, 1, numHeads / numKvHeads, 1, 1]);
  const repeatedShape = g.int64('shape_repeated', [0, numHeads, -1, d]);
  const axes2 = g.int64('axes_2b', [2]);

  let x = g.op(
    'Gather',
    ['model.embed_tokens.weight', 'input_ids'],
    [int('axis', 0)],
    undefined,
    '/model/embed_tokens',
  );
  g.float('model.embed_tokens.weight', weights.embed, [v, h]);
  const inputs = [
    valueInfo('input_ids', INT64, ['batch_size', 'sequence_length']),
    valueInfo('attention_mask', INT64, ['batch_size', 'total_sequence_length']),
    valueInfo('position_ids', INT64, ['batch_size', 'sequence_length']),
  ];
  const outputs = [valueInfo('logits', FLOAT, ['batch_size', 'sequence_length', v])];

  weights.layers.forEach((layer, i) => {
    const s = `/model/layers.${i}`;
    const p = `model.layers.${i}`;
    const w = (name: string, values: Float32Array, out: number, inp: number): string =>
      g.float(`${p}.${name}.weight_T`, transpose(values, out, inp), [inp, out]);
    const hIn = rmsNorm(
      x,
      g.float(`${p}.input_layernorm.weight`, layer.inputNorm, [h]),
      `${s}/input_layernorm`,
    );
    const perm = ints('perm', [0, 2, 1, 3]);
    const q = g.op('Reshape', [
      g.op('MatMul', [hIn, w('self_attn.q_proj', layer.q, numHeads * d, h)]),
      headsShape,
    ]);
    const k = g.op('Reshape', [
      g.op('MatMul', [hIn, w('self_attn.k_proj', layer.k, numKvHeads * d, h)]),
      kvHeadsShape,
    ]);
    const vv = g.op('Reshape', [
      g.op('MatMul', [hIn, w('self_attn.v_proj', layer.v, numKvHeads * d, h)]),
      kvHeadsShape,
    ]);
    const qNormed = rmsNorm(
      q,
      g.float(`${p}.self_attn.q_norm.weight`, layer.qNorm, [d]),
      `${s}/self_attn/q_norm`,
    );
    const kNormed = rmsNorm(
      k,
      g.float(`${p}.self_attn.k_norm.weight`, layer.kNorm, [d]),
      `${s}/self_attn/k_norm`,
    );
    const qRot = rope(g.op('Transpose', [qNormed], [perm]), `${s}/self_attn/rope_q`);
    const kRot = rope(g.op('Transpose', [kNormed], [perm]), `${s}/self_attn/rope_k`);
    const vT = g.op('Transpose', [vv], [perm]);
    const pastKey = `past_key_values.${i}.key`;
    const pastValue = `past_key_values.${i}.value`;
    inputs.push(valueInfo(pastKey, FLOAT, ['batch_size', numKvHeads, 'past_sequence_length', d]));
    inputs.push(valueInfo(pastValue, FLOAT, ['batch_size', numKvHeads, 'past_sequence_length', d]));
    const presentKey = g.op('Concat', [pastKey, kRot], [int('axis', 2)], `present.${i}.key`);
    const presentValue = g.op('Concat', [pastValue, vT], [int('axis', 2)], `present.${i}.value`);
    outputs.push(valueInfo(presentKey, FLOAT, ['batch_size', numKvHeads, 'total_sequence_length', d]));
    outputs.push(valueInfo(presentValue, FLOAT, ['batch_size', numKvHeads, 'total_sequence_length', d]));
    const repeat = (t: string): string =>
      g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [t, axes2]), expandShape]), repeatedShape]);
    const keys = repeat(presentKey);
    const values = repeat(presentValue);
    const scores = g.op('Add', [
      g.op('Mul', [g.op('MatMul', [qRot, g.op('Transpose', [keys], [ints('perm', [0, 1, 3, 2])])]), scale]),
      mask,
    ]);
    const probs = g.op('Softmax', [scores], [int('axis', -1)]);
    const context = g.op('Reshape', [
      g.op('Transpose', [g.op('MatMul', [probs, values])], [perm]),
      mergedShape,
    ]);
    const attnOut = g.op('MatMul', [context, w('self_attn.o_proj', layer.o, h, numHeads * d)]);
    x = g.op('Add', [x, attnOut], [], undefined, s);
    const hPost = rmsNorm(
      x,
      g.float(`${p}.post_attention_layernorm.weight`, layer.postNorm, [h]),
      `${s}/post_attention_layernorm`,
    );
    const gate = g.op('MatMul', [hPost, w('mlp.gate_proj', layer.gate, m, h)]);
    const up = g.op('MatMul', [hPost, w('mlp.up_proj', layer.up, m, h)]);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    x = g.op('Add', [x, g.op('MatMul', [act, w('mlp.down_proj', layer.down, h, m)])], [], undefined, s);
  });

  const normed = rmsNorm(
    x,
    g.float('model.norm.weight', weights.finalNorm, [h]),
    '/model/norm',
    TINY_FINAL_NORM_NAME,
  );
  const lmHeadT = config.tieWordEmbeddings
    ? g.op('Transpose', ['model.embed_tokens.weight'], [ints('perm', [1, 0])], undefined, '/lm_head')
    : g.float('lm_head.weight_T', transpose(weights.lmHead, v, h), [h, v]);
  g.op('MatMul', [normed, lmHeadT], [], 'logits', '/lm_head');

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'openfugu-tiny-qwen3',
    opsetImport: [{ domain: '', version: 15 }],
    graph: {
      name: 'tiny-qwen3',
      node: g.nodes,
      initializer: g.initializers,
      input: inputs,
      output: outputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** GPT-2's byte → printable-unicode table used by byte-level BPE. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

const MERGES: [string, string][] = [
  ['Ġ', 't'],
  ['h', 'e'],
  ['Ġt', 'he'],
  ['e', 'r'],
  ['i', 'n'],
  ['Ġ', 'a'],
  ['o', 'n'],
  ['r', 'e'],
  ['u', 's'],
  ['us', 'er'],
  ['Ġ', 'w'],
  ['a', 't'],
  ['e', 's'],
  ['o', 'r'],
  ['i', 's'],
  ['Ġ', 's'],
  ['e', 'n'],
  ['a', 'n'],
  ['Ġ', 'i'],
  ['Ġ', 'c'],
  ['Ġw', 'h'],
  ['Ġwh', 'at'],
  ['a', 's'],
  ['as', 's'],
];

/** The Split pattern of Qwen2/Qwen3's tokenizer.json. */
export const QWEN_SPLIT_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Special end-of-text token (Qwen's name); the last id of the vocabulary. */
export const TINY_EOS = '<|endoftext|>';

/** A byte-level BPE tokenizer.json (256 byte tokens + merges + one special token), Qwen-style. */
export function tinyTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((token, id) => {
    vocab[token] = id;
  });
  let next = 256;
  for (const [a, b] of MERGES) vocab[a + b] = next++;
  const eosId = next;
  if (eosId + 1 !== TINY_VOCAB_SIZE) throw new Error(`vocabulary size drifted: ${eosId + 1}`);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: eosId,
        content: TINY_EOS,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
    ],
    normalizer: { type: 'NFC' },
    // Qwen2/Qwen3's pre-tokenizer: a Split on Qwen's regex (single digits, letters with one leading
    // non-letter, …), then byte-level mapping without GPT-2's regex.
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: QWEN_SPLIT_REGEX },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: MERGES.map(([a, b]) => [a, b]),
    },
  };
}

/** Writes a complete model directory: config.json, tokenizer files and onnx/model.onnx. */
export async function writeTinyQwen3Dir(
  dir: string,
  config: TinyQwen3Config,
  weights: TinyQwen3Weights,
  options: { tokenizerConfig?: boolean; externalData?: boolean } = {},
): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const hfConfig = {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    rope_theta: config.ropeTheta,
    rms_norm_eps: config.rmsNormEps,
    tie_word_embeddings: config.tieWordEmbeddings,
    hidden_act: 'silu',
    attention_bias: false,
    max_position_embeddings: 4096,
    torch_dtype: 'float32',
  };
  await writeFile(join(dir, 'config.json'), JSON.stringify(hfConfig, null, 2));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  if (options.tokenizerConfig ?? true) {
    await writeFile(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({
        tokenizer_class: 'Qwen2Tokenizer',
        eos_token: TINY_EOS,
        pad_token: TINY_EOS,
        model_max_length: 4096,
      }),
    );
  }
  const model = buildTinyQwen3Onnx(config, weights);
  if (options.externalData) {
    const external = moveWeightsToExternalData(model, 'model.onnx_data');
    await writeFile(join(dir, 'onnx', 'model.onnx'), external.model);
    await writeFile(join(dir, 'onnx', 'model.onnx_data'), external.data);
  } else {
    await writeFile(join(dir, 'onnx', 'model.onnx'), model);
  }
}

/**
 * Moves every raw-data initializer of 1 KiB or more into one external data file, as exporters do for models over 2 GB
 * (`data_location: EXTERNAL`, `external_data: location/offset/length`).
 */
export function moveWeightsToExternalData(
  modelBytes: Uint8Array,
  location: string,
): { model: Uint8Array; data: Uint8Array } {
  const model = onnx.ModelProto.decode(modelBytes);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const tensor of model.graph?.initializer ?? []) {
    const raw = tensor.rawData;
    // Like onnx's convert_model_to_external_data(size_threshold=1024): small constants stay inline.
    if (raw === null || raw === undefined || raw.length < 1024) continue;
    chunks.push(Uint8Array.from(raw));
    tensor.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.rawData = new Uint8Array(0);
    offset += raw.length;
  }
  const data = new Uint8Array(offset);
  let position = 0;
  for (const chunk of chunks) {
    data.set(chunk, position);
    position += chunk.length;
  }
  return { model: onnx.ModelProto.encode(model).finish(), data };
}
