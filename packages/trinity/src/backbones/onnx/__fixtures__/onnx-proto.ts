/**
 * Loads onnx-proto (test-only dependency) through Node's `require`.
 *
 * protobufjs 6 looks up `long` with an eval'd `require`; where that resolves to long 5's ES module (as
 * under vitest with pnpm's hoisting) it gets a module namespace instead of the `Long` class and onnx-proto
 * fails while loading. Unwrap it before onnx-proto first touches `Long`.
 */
import { createRequire } from 'node:module';
import type { onnx as OnnxNamespace } from 'onnx-proto';

const require = createRequire(import.meta.url);
const protobuf = createRequire(require.resolve('onnx-proto'))('protobufjs/minimal') as {
  util: { Long: unknown };
  configure(): void;
};
const long = protobuf.util.Long as { fromBits?: unknown; default?: { fromBits?: unknown } } | null;
if (typeof long?.fromBits !== 'function' && typeof long?.default?.fromBits === 'function') {
  protobuf.util.Long = long.default;
  protobuf.configure();
}

/** The `onnx` protobuf namespace of onnx-proto (ONNX 1.10 schema). */
export const onnx: typeof OnnxNamespace = (require('onnx-proto') as { onnx: typeof OnnxNamespace }).onnx;
