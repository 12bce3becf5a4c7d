/**
 * Graph surgery on ONNX decoder exports: expose the final-norm hidden state as the graph's only output.
 *
 * Decoder exports (HF Optimum, onnx-community) output `logits` and the KV cache (`present.*`). The
 * TRINITY feature is the final hidden state after the last norm, which is exactly the activation
 * input of the LM-head matrix multiplication that produces `logits`. We find that tensor by walking back
 * from `logits` (through `Cast`/`Identity`), make it the graph's only output, and drop every node and
 * initializer it does not depend on. ONNX Runtime does not prune dead nodes by itself (profiling showed the
 * LM-head MatMul still running when only the outputs were changed), so the pruning is what removes the
 * vocabulary-sized matmul; dropping the outputs avoids copying logits and KV tensors out of each call.
 *
 * The rewrite works on the protobuf wire format (see `protobuf-wire.ts`): nodes and initializers are
 * copied byte for byte, so weights are never decoded, and external-data references stay valid when the
 * result is saved beside the original.
 */
import {
  concatBytes,
  fieldString,
  lengthDelimitedField,
  readFields,
  stringField,
  varintField,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  type WireField,
} from './protobuf-wire.js';

// Field numbers from onnx.proto (ModelProto, GraphProto, NodeProto, ValueInfoProto, TypeProto, TensorProto).
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const GRAPH_VALUE_INFO = 13;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_GRAPH = 6;
const ATTRIBUTE_GRAPHS = 11;
const VALUE_INFO_NAME = 1;
const VALUE_INFO_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_TYPE_ELEM_TYPE = 1;
const TENSOR_NAME = 8;
const TENSOR_DATA_LOCATION = 14;
const DATA_LOCATION_EXTERNAL = 1;

/** Metadata key recording which tensor the rewritten model outputs. */
export const HIDDEN_STATE_METADATA_KEY = 'openfugu.hidden_state';

/** Output names that already are the final-norm hidden state in feature-extraction exports. */
export const HIDDEN_STATE_OUTPUT_NAMES: readonly string[] = ['last_hidden_state'];

/** One node of the graph: op type and tensor names only (attributes are not decoded). */
export interface GraphNodeSummary {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Whether an attribute holds a subgraph (If/Loop/Scan), which may read outer tensors implicitly. */
  readonly hasSubgraph: boolean;
}

/** One graph input or output: its name and, when declared, its ONNX element type (1 float, 10 float16, ...). */
export interface GraphValueSummary {
  readonly name: string;
  readonly elemType: number | undefined;
}

/** What `inspectOnnxModel` reads from a model without decoding its weights. */
export interface OnnxGraphSummary {
  readonly nodes: readonly GraphNodeSummary[];
  readonly initializers: ReadonlySet<string>;
  readonly inputs: readonly GraphValueSummary[];
  readonly outputs: readonly GraphValueSummary[];
  /** Declared element types of intermediate tensors (`value_info`). */
  readonly valueInfo: ReadonlyMap<string, number | undefined>;
  /** Whether some initializer keeps its data in an external file (resolved relative to the model file). */
  readonly hasExternalData: boolean;
}

/** Thrown when a model's graph does not have the structure the surgery needs. */
export class GraphSurgeryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphSurgeryError';
  }
}

function findGraphField(bytes: Uint8Array): WireField {
  const graphs = readFields(bytes).filter(
    (f) => f.field === MODEL_GRAPH && f.wireType === WIRE_LENGTH_DELIMITED,
  );
  if (graphs.length !== 1) {
    throw new GraphSurgeryError(`expected one graph in the model, found ${graphs.length}`);
  }
  return graphs[0]!;
}

function readValueInfo(bytes: Uint8Array, field: WireField): GraphValueSummary {
  let name = '';
  let elemType: number | undefined;
  for (const f of readFields(bytes, field.valueStart, field.end)) {
    if (f.field === VALUE_INFO_NAME && f.wireType === WIRE_LENGTH_DELIMITED) name = fieldString(bytes, f);
    if (f.field === VALUE_INFO_TYPE && f.wireType === WIRE_LENGTH_DELIMITED) {
      for (const t of readFields(bytes, f.valueStart, f.end)) {
        if (t.field !== TYPE_TENSOR || t.wireType !== WIRE_LENGTH_DELIMITED) continue;
        for (const e of readFields(bytes, t.valueStart, t.end)) {
          if (e.field === TENSOR_TYPE_ELEM_TYPE && e.wireType === WIRE_VARINT) elemType = e.varint;
        }
      }
    }
  }
  return { name, elemType };
}

function readNode(bytes: Uint8Array, field: WireField): GraphNodeSummary {
  let opType = '';
  let hasSubgraph = false;
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (const n of readFields(bytes, field.valueStart, field.end)) {
    if (n.wireType !== WIRE_LENGTH_DELIMITED) continue;
    if (n.field === NODE_INPUT) inputs.push(fieldString(bytes, n));
    else if (n.field === NODE_OUTPUT) outputs.push(fieldString(bytes, n));
    else if (n.field === NODE_OP_TYPE) opType = fieldString(bytes, n);
    else if (n.field === NODE_ATTRIBUTE) {
      hasSubgraph ||= readFields(bytes, n.valueStart, n.end).some(
        (a) => a.field === ATTRIBUTE_GRAPH || a.field === ATTRIBUTE_GRAPHS,
      );
    }
  }
  return { opType, inputs, outputs, hasSubgraph };
}

function readInitializerName(bytes: Uint8Array, field: WireField): string {
  for (const t of readFields(bytes, field.valueStart, field.end)) {
    if (t.field === TENSOR_NAME && t.wireType === WIRE_LENGTH_DELIMITED) return fieldString(bytes, t);
  }
  return '';
}

/**
 * Reads node op types and tensor names, initializer names and graph inputs/outputs from an ONNX model.
 * Weights are skipped, not decoded. Throws `WireFormatError`/`GraphSurgeryError` on malformed input.
 */
export function inspectOnnxModel(bytes: Uint8Array): OnnxGraphSummary {
  const graph = findGraphField(bytes);
  const nodes: GraphNodeSummary[] = [];
  const initializers = new Set<string>();
  const inputs: GraphValueSummary[] = [];
  const outputs: GraphValueSummary[] = [];
  const valueInfo = new Map<string, number | undefined>();
  let hasExternalData = false;
  for (const f of readFields(bytes, graph.valueStart, graph.end)) {
    if (f.wireType !== WIRE_LENGTH_DELIMITED) continue;
    if (f.field === GRAPH_NODE) {
      nodes.push(readNode(bytes, f));
    } else if (f.field === GRAPH_INITIALIZER) {
      for (const t of readFields(bytes, f.valueStart, f.end)) {
        if (t.field === TENSOR_NAME && t.wireType === WIRE_LENGTH_DELIMITED) {
          initializers.add(fieldString(bytes, t));
        } else if (t.field === TENSOR_DATA_LOCATION && t.varint === DATA_LOCATION_EXTERNAL) {
          hasExternalData = true;
        }
      }
    } else if (f.field === GRAPH_INPUT) {
      inputs.push(readValueInfo(bytes, f));
    } else if (f.field === GRAPH_OUTPUT) {
      outputs.push(readValueInfo(bytes, f));
    } else if (f.field === GRAPH_VALUE_INFO) {
      const info = readValueInfo(bytes, f);
      valueInfo.set(info.name, info.elemType);
    }
  }
  return { nodes, initializers, inputs, outputs, valueInfo, hasExternalData };
}

const PASS_THROUGH_OPS = new Set(['Cast', 'Identity']);
const MATMUL_OPS = new Set(['MatMul', 'Gemm', 'MatMulNBits', 'FusedMatMul', 'MatMulInteger']);

/** Where the hidden state was found, and its element type when it can be known without running the model. */
export interface HiddenStateLocation {
  /** Name of the tensor holding the final-norm hidden state. */
  readonly name: string;
  /** ONNX element type of that tensor, when declared or inferable (1 float32, 10 float16). */
  readonly elemType: number | undefined;
  /** The graph output the LM head produces (usually `logits`). */
  readonly logitsName: string;
}

/**
 * Finds the input of the LM-head matmul: the tensor feeding the final MatMul (or Gemm / MatMulNBits /
 * quantised MatMulInteger) whose result is the `logits` output, looking through `Cast` and `Identity`.
 * In a decoder this tensor is the output of the final norm.
 */
export function findLmHeadInput(graph: OnnxGraphSummary, logitsName?: string): HiddenStateLocation {
  const outputNames = graph.outputs.map((o) => o.name);
  const logits =
    logitsName ??
    (outputNames.includes('logits')
      ? 'logits'
      : outputNames.filter((name) => !name.startsWith('present')).length === 1
        ? outputNames.find((name) => !name.startsWith('present'))
        : undefined);
  if (logits === undefined || !outputNames.includes(logits)) {
    throw new GraphSurgeryError(
      `cannot tell which output is the logits (outputs: ${outputNames.join(', ') || 'none'}); pass logitsName`,
    );
  }
  const producers = new Map<string, GraphNodeSummary>();
  for (const node of graph.nodes) for (const output of node.outputs) producers.set(output, node);
  const isComputed = (name: string): boolean =>
    producers.has(name) && !graph.initializers.has(name) && !graph.inputs.some((i) => i.name === name);

  let tensor = logits;
  let passedCast = false;
  for (let step = 0; step < 16; step++) {
    const node = producers.get(tensor);
    if (node === undefined) break;
    if (PASS_THROUGH_OPS.has(node.opType)) {
      passedCast ||= node.opType === 'Cast';
      tensor = node.inputs[0] ?? '';
      continue;
    }
    if (!MATMUL_OPS.has(node.opType)) break;
    let activation = node.inputs[0] ?? '';
    if (node.opType === 'MatMulInteger') {
      const quantiser = producers.get(activation);
      if (quantiser?.opType !== 'DynamicQuantizeLinear') break;
      activation = quantiser.inputs[0] ?? '';
      passedCast = true; // the activation's type is not the logits' type
    }
    if (!isComputed(activation)) {
      throw new GraphSurgeryError(
        `the LM-head ${node.opType} producing "${logits}" has no computed activation input (found "${activation}")`,
      );
    }
    const declared = graph.valueInfo.get(activation);
    const logitsType = graph.outputs.find((o) => o.name === logits)?.elemType;
    return {
      name: activation,
      elemType: declared ?? (passedCast ? undefined : logitsType),
      logitsName: logits,
    };
  }
  throw new GraphSurgeryError(
    `no MatMul/Gemm found producing "${logits}" (walked back to "${tensor}"); pass hiddenStateName explicitly`,
  );
}

function encodeValueInfo(name: string, elemType: number | undefined): Uint8Array {
  const parts = [stringField(VALUE_INFO_NAME, name)];
  if (elemType !== undefined) {
    const tensorType = lengthDelimitedField(TYPE_TENSOR, [varintField(TENSOR_TYPE_ELEM_TYPE, elemType)]);
    parts.push(lengthDelimitedField(VALUE_INFO_TYPE, [tensorType]));
  }
  return concatBytes(parts);
}

/**
 * Returns a copy of the model whose only graph output is `hiddenState.name` (all other outputs removed),
 * with a `openfugu.hidden_state` metadata entry. Nodes and initializers the new output does not depend on
 * (the LM head, the KV-cache outputs' private nodes) are dropped — ONNX Runtime would otherwise still run
 * them — and so are graph inputs nothing kept reads, unless some node holds a subgraph (If/Loop/Scan), whose implicit reads are not tracked; then all
 * nodes are kept. Everything kept is copied byte for byte.
 */
export function rewriteOutputs(
  bytes: Uint8Array,
  hiddenState: { name: string; elemType?: number | undefined },
): Uint8Array {
  const graph = findGraphField(bytes);
  const fields = readFields(bytes, graph.valueStart, graph.end);
  const nodeFields = fields.filter((f) => f.field === GRAPH_NODE && f.wireType === WIRE_LENGTH_DELIMITED);
  const nodes = nodeFields.map((f) => readNode(bytes, f));
  const prune = !nodes.some((node) => node.hasSubgraph);
  const keptNodes = new Set<WireField>();
  const needed = new Set<string>([hiddenState.name]);
  if (prune) {
    const producer = new Map<string, number>();
    nodes.forEach((node, index) => {
      for (const output of node.outputs) producer.set(output, index);
    });
    const stack = [hiddenState.name];
    while (stack.length > 0) {
      const index = producer.get(stack.pop()!);
      if (index === undefined || keptNodes.has(nodeFields[index]!)) continue;
      keptNodes.add(nodeFields[index]!);
      for (const input of nodes[index]!.inputs) {
        if (input === '' || needed.has(input)) continue;
        needed.add(input);
        stack.push(input);
      }
    }
  }
  const graphParts: Uint8Array[] = [];
  for (const f of fields) {
    if (f.field === GRAPH_OUTPUT) continue;
    if (prune && f.wireType === WIRE_LENGTH_DELIMITED) {
      if (f.field === GRAPH_NODE && !keptNodes.has(f)) continue;
      if (f.field === GRAPH_INITIALIZER && !needed.has(readInitializerName(bytes, f))) continue;
      // Inputs only the dropped nodes read (e.g. `num_logits_to_keep`) would still have to be fed.
      if (f.field === GRAPH_INPUT && !needed.has(readValueInfo(bytes, f).name)) continue;
    }
    graphParts.push(bytes.subarray(f.start, f.end));
  }
  graphParts.push(
    lengthDelimitedField(GRAPH_OUTPUT, [encodeValueInfo(hiddenState.name, hiddenState.elemType)]),
  );
  const metadata = lengthDelimitedField(MODEL_METADATA_PROPS, [
    stringField(1, HIDDEN_STATE_METADATA_KEY),
    stringField(2, hiddenState.name),
  ]);
  return concatBytes([
    bytes.subarray(0, graph.start),
    lengthDelimitedField(MODEL_GRAPH, graphParts),
    bytes.subarray(graph.end),
    metadata,
  ]);
}
