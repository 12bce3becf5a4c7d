/**
 * Generates a tiny BERT-like feature-extraction model directory that @huggingface/transformers loads
 * offline: config.json (`model_type: bert`), a WordPiece tokenizer.json with BERT normalisation and
 * `[CLS] … [SEP]` post-processing, tokenizer_config.json, and onnx/model.onnx computing
 * `last_hidden_state = tanh(E[input_ids] + P[position] + T[token_type_ids])` from seeded random tables.
 * Test-only; nothing here is shipped.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { onnx } from '../../onnx/__fixtures__/onnx-proto.js';

/** WordPiece vocabulary, id = index. */
export const TINY_BERT_VOCAB: readonly string[] = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'hello',
  'world',
  'the',
  'cat',
  'sat',
  'on',
  'mat',
  '##s',
  'a',
  'dog',
  '.',
  ',',
  '?',
  '!',
  'what',
  'is',
  'route',
  '##r',
  'user',
  ':',
];

export interface TinyBert {
  hiddenSize: number;
  maxPositions: number;
  /** [vocab, hidden] row-major. */
  wordEmbeddings: Float32Array;
  /** [maxPositions, hidden]. */
  positionEmbeddings: Float32Array;
  /** [2, hidden]. */
  typeEmbeddings: Float32Array;
}

export function createTinyBert(seed = 3, hiddenSize = 16, maxPositions = 64): TinyBert {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const table = (rows: number): Float32Array =>
    Float32Array.from({ length: rows * hiddenSize }, () => random() * 2 - 1);
  return {
    hiddenSize,
    maxPositions,
    wordEmbeddings: table(TINY_BERT_VOCAB.length),
    positionEmbeddings: table(maxPositions),
    typeEmbeddings: table(2),
  };
}

/** Reference `last_hidden_state` rows for one tokenised text (token type 0 everywhere). */
export function tinyBertHiddenStates(model: TinyBert, ids: readonly number[]): Float64Array[] {
  const h = model.hiddenSize;
  return ids.map((id, position) =>
    Float64Array.from({ length: h }, (_, j) =>
      Math.tanh(
        model.wordEmbeddings[id * h + j]! +
          model.positionEmbeddings[position * h + j]! +
          model.typeEmbeddings[j]!,
      ),
    ),
  );
}

function tensor(name: string, values: Float32Array, dims: number[]): OnnxTypes.ITensorProto {
  return {
    name,
    dataType: onnx.TensorProto.DataType.FLOAT,
    dims,
    rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
  };
}

function buildOnnx(model: TinyBert): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const INT64 = onnx.TensorProto.DataType.INT64;
  const h = model.hiddenSize;
  const io = (name: string, elemType: number, dims: (string | number)[]): OnnxTypes.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
  const axis0 = { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 };
  const nodes: OnnxTypes.INodeProto[] = [
    { opType: 'Gather', input: ['word_embeddings', 'input_ids'], output: ['words'], attribute: [axis0] },
    {
      opType: 'Gather',
      input: ['token_type_embeddings', 'token_type_ids'],
      output: ['types'],
      attribute: [axis0],
    },
    { opType: 'Shape', input: ['input_ids'], output: ['shape'] },
    { opType: 'Gather', input: ['shape', 'one'], output: ['seq_len'], attribute: [axis0] },
    { opType: 'Range', input: ['zero', 'seq_len', 'one'], output: ['positions'] },
    { opType: 'Gather', input: ['position_embeddings', 'positions'], output: ['pos'], attribute: [axis0] },
    { opType: 'Add', input: ['words', 'types'], output: ['sum0'] },
    { opType: 'Add', input: ['sum0', 'pos'], output: ['sum1'] },
    { opType: 'Tanh', input: ['sum1'], output: ['last_hidden_state'] },
  ];
  const scalar = (name: string, value: number): OnnxTypes.ITensorProto => ({
    name,
    dataType: INT64,
    dims: [],
    int64Data: [value],
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'openfugu-tiny-bert',
      opsetImport: [{ domain: '', version: 15 }],
      graph: {
        name: 'tiny-bert',
        node: nodes,
        initializer: [
          tensor('word_embeddings', model.wordEmbeddings, [TINY_BERT_VOCAB.length, h]),
          tensor('position_embeddings', model.positionEmbeddings, [model.maxPositions, h]),
          tensor('token_type_embeddings', model.typeEmbeddings, [2, h]),
          scalar('zero', 0),
          scalar('one', 1),
        ],
        input: [
          io('input_ids', INT64, ['batch_size', 'sequence_length']),
          io('attention_mask', INT64, ['batch_size', 'sequence_length']),
          io('token_type_ids', INT64, ['batch_size', 'sequence_length']),
        ],
        output: [io('last_hidden_state', FLOAT, ['batch_size', 'sequence_length', h])],
      },
    }),
  ).finish();
}

function tokenizerJson(): Record<string, unknown> {
  const special = (id: number, content: string): Record<string, unknown> => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      special(0, '[PAD]'),
      special(1, '[UNK]'),
      special(2, '[CLS]'),
      special(3, '[SEP]'),
      special(4, '[MASK]'),
    ],
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(TINY_BERT_VOCAB.map((token, id) => [token, id])),
    },
  };
}

/** Writes config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx into `dir`. */
export async function writeTinyBertDir(dir: string, model: TinyBert): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['BertModel'],
      model_type: 'bert',
      hidden_size: model.hiddenSize,
      vocab_size: TINY_BERT_VOCAB.length,
      max_position_embeddings: model.maxPositions,
      type_vocab_size: 2,
      num_hidden_layers: 0,
      num_attention_heads: 1,
      pad_token_id: 0,
    }),
  );
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  await writeFile(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: model.maxPositions,
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      mask_token: '[MASK]',
    }),
  );
  await writeFile(join(dir, 'onnx', 'model.onnx'), buildOnnx(model));
}
