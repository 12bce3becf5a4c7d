import fc from 'fast-check';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { onnx } from './__fixtures__/onnx-proto.js';
import {
  buildTinyQwen3Onnx,
  createTinyQwen3Weights,
  TINY_FINAL_NORM_NAME,
  tinyQwen3Config,
} from './__fixtures__/tiny-qwen3.js';
import {
  findLmHeadInput,
  GraphSurgeryError,
  HIDDEN_STATE_METADATA_KEY,
  inspectOnnxModel,
  rewriteOutputs,
} from './graph-surgery.js';
import {
  concatBytes,
  fieldString,
  readFields,
  stringField,
  varintField,
  WireFormatError,
} from './protobuf-wire.js';

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function model(
  nodes: OnnxTypes.INodeProto[],
  outputs: OnnxTypes.IValueInfoProto[],
  initializers: string[] = [],
): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ version: 15 }],
      graph: {
        node: nodes,
        initializer: initializers.map((name) => ({ name, dataType: FLOAT, dims: [1], floatData: [1] })),
        input: [{ name: 'x', type: { tensorType: { elemType: FLOAT } } }],
        output: outputs,
      },
    }),
  ).finish();
}

const typed = (name: string, elemType: number): OnnxTypes.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType } },
});

describe('findLmHeadInput', () => {
  const config = tinyQwen3Config({ numLayers: 1 });
  const bytes = buildTinyQwen3Onnx(config, createTinyQwen3Weights(config));

  it('finds the final-norm output feeding the LM-head MatMul of a decoder export', () => {
    const graph = inspectOnnxModel(bytes);
    expect(graph.outputs.map((o) => o.name)).toEqual(['logits', 'present.0.key', 'present.0.value']);
    expect(findLmHeadInput(graph)).toEqual({
      name: TINY_FINAL_NORM_NAME,
      elemType: FLOAT,
      logitsName: 'logits',
    });
  });

  it('looks through Cast (type left unknown) and quantised MatMulInteger', () => {
    const cast = model(
      [
        { opType: 'Mul', input: ['x', 'w'], output: ['norm'] },
        { opType: 'MatMul', input: ['norm', 'head'], output: ['logits16'] },
        { opType: 'Cast', input: ['logits16'], output: ['logits'] },
      ],
      [typed('logits', FLOAT)],
      ['w', 'head'],
    );
    expect(findLmHeadInput(inspectOnnxModel(cast))).toMatchObject({ name: 'norm', elemType: undefined });

    const quantised = model(
      [
        { opType: 'Mul', input: ['x', 'w'], output: ['norm'] },
        { opType: 'DynamicQuantizeLinear', input: ['norm'], output: ['q', 'scale', 'zero'] },
        { opType: 'MatMulInteger', input: ['q', 'head', 'zero'], output: ['acc'] },
        { opType: 'Cast', input: ['acc'], output: ['logits'] },
      ],
      [typed('logits', FLOAT)],
      ['w', 'head'],
    );
    expect(findLmHeadInput(inspectOnnxModel(quantised)).name).toBe('norm');
  });

  it('rejects graphs without a recognisable LM head', () => {
    const noLogits = model(
      [{ opType: 'Mul', input: ['x', 'w'], output: ['a'] }],
      [typed('a', FLOAT), typed('b', FLOAT)],
      ['w'],
    );
    expect(() => findLmHeadInput(inspectOnnxModel(noLogits))).toThrow(GraphSurgeryError);
    const weightOnly = model(
      [{ opType: 'MatMul', input: ['w', 'head'], output: ['logits'] }],
      [typed('logits', FLOAT)],
      ['w', 'head'],
    );
    expect(() => findLmHeadInput(inspectOnnxModel(weightOnly))).toThrow(/no computed activation/);
    const notMatMul = model([{ opType: 'Relu', input: ['x'], output: ['logits'] }], [typed('logits', FLOAT)]);
    expect(() => findLmHeadInput(inspectOnnxModel(notMatMul))).toThrow(/no MatMul\/Gemm/);
  });
});

describe('rewriteOutputs', () => {
  it('outputs only the hidden state and drops the nodes and weights it does not depend on', () => {
    for (const tieWordEmbeddings of [true, false]) {
      const config = tinyQwen3Config({ tieWordEmbeddings });
      const bytes = buildTinyQwen3Onnx(config, createTinyQwen3Weights(config));
      const rewritten = rewriteOutputs(bytes, { name: TINY_FINAL_NORM_NAME, elemType: FLOAT });
      const before = onnx.ModelProto.decode(bytes);
      const after = onnx.ModelProto.decode(Buffer.from(rewritten));
      expect(after.graph!.output!.map((o) => o.name)).toEqual([TINY_FINAL_NORM_NAME]);
      expect(after.graph!.output![0]!.type!.tensorType!.elemType).toBe(FLOAT);
      // Only the LM head goes: its MatMul, and the Transpose of the tied embedding or the untied weight.
      const lmHead = (node: OnnxTypes.INodeProto): boolean => node.name?.startsWith('/lm_head/') ?? false;
      expect(before.graph!.node!.filter(lmHead)).toHaveLength(tieWordEmbeddings ? 2 : 1);
      expect(after.graph!.node).toEqual(before.graph!.node!.filter((node) => !lmHead(node)));
      expect(after.graph!.initializer).toEqual(
        before.graph!.initializer!.filter((tensor) => tensor.name !== 'lm_head.weight_T'),
      );
      expect(after.graph!.initializer!.length).toBe(
        before.graph!.initializer!.length - (tieWordEmbeddings ? 0 : 1),
      );
      expect(after.graph!.input).toEqual(before.graph!.input);
      expect(after.opsetImport).toEqual(before.opsetImport);
      expect(after.metadataProps).toEqual([{ key: HIDDEN_STATE_METADATA_KEY, value: TINY_FINAL_NORM_NAME }]);
    }
  });

  it('leaves the output untyped when the type is unknown, and keeps all nodes around subgraphs', () => {
    const config = tinyQwen3Config({ numLayers: 1 });
    const bytes = buildTinyQwen3Onnx(config, createTinyQwen3Weights(config));
    const untyped = onnx.ModelProto.decode(
      Buffer.from(rewriteOutputs(bytes, { name: TINY_FINAL_NORM_NAME })),
    );
    expect(untyped.graph!.output).toEqual([onnx.ValueInfoProto.create({ name: TINY_FINAL_NORM_NAME })]);

    const withIf = onnx.ModelProto.decode(bytes);
    withIf.graph!.node!.push({
      opType: 'If',
      input: ['flag'],
      output: ['branch'],
      attribute: [
        { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: { name: 'then' } },
        { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: { name: 'else' } },
      ],
    });
    const kept = onnx.ModelProto.decode(
      Buffer.from(rewriteOutputs(onnx.ModelProto.encode(withIf).finish(), { name: TINY_FINAL_NORM_NAME })),
    );
    expect(kept.graph!.node).toHaveLength(withIf.graph!.node!.length);
    expect(inspectOnnxModel(onnx.ModelProto.encode(withIf).finish()).nodes.at(-1)!.hasSubgraph).toBe(true);
  });
});

describe('protobuf wire reader', () => {
  it('reads fields written by protobufjs and by the local writer', () => {
    const bytes = concatBytes([varintField(1, 300), stringField(2, 'héllo'), varintField(3, 2 ** 40 + 5)]);
    const fields = readFields(bytes);
    expect(fields.map((f) => f.field)).toEqual([1, 2, 3]);
    expect(fields[0]!.varint).toBe(300);
    expect(fieldString(bytes, fields[1]!)).toBe('héllo');
    expect(fields[2]!.varint).toBe(2 ** 40 + 5);
    const node = onnx.NodeProto.encode({ input: ['a', 'b'], output: ['c'], opType: 'MatMul' }).finish();
    expect(readFields(node).map((f) => [f.field, fieldString(node, f)])).toEqual([
      [1, 'a'],
      [1, 'b'],
      [2, 'c'],
      [4, 'MatMul'],
    ]);
  });

  it('returns or throws WireFormatError on any bytes, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const fields = readFields(bytes);
          for (const f of fields) expect(f.end).toBeLessThanOrEqual(bytes.length);
        } catch (error) {
          expect(error).toBeInstanceOf(WireFormatError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
