export type { CmaesState, TerminationReason } from '@openfugu/cmaes';
export type { SoftmaxLinearTrainerState } from '@openfugu/grpo';
// Types of sibling packages that this package's API takes or returns, re-exported so that users name them
// from here (checked by tools/scripts/check-reexports.mjs in `pnpm lint`).
export type {
  AbortSignalLike,
  Backbone,
  ChatMessage,
  OpenFuguError,
  Random,
  Role,
  RoutingDecision,
  Usage,
  Worker,
  WorkerCallOptions,
  WorkerRequest,
  WorkerResponse,
} from '@openfugu/schema';
export * from './backbones/concat.js';
export * from './backbones/glove.js';
export * from './backbones/hashing.js';
export * from './backbones/onnx/index.js';
export * from './backbones/prompt-stats.js';
export * from './backbones/transformers/index.js';
export * from './backbones/types.js';
export * from './coordinator.js';
export * from './cost-knob.js';
export * from './errors.js';
export * from './head.js';
export * from './head-file.js';
export * from './head-io.js';
export * from './knn.js';
export * from './linalg.js';
export * from './metadata.js';
export * from './npy.js';
export * from './optimize.js';
export * from './prompts.js';
export * from './render.js';
export * from './router.js';
export * from './safetensors.js';
export * from './sparse.js';
export * from './train.js';
export * from './train-grpo.js';
export * from './value-head.js';
export * from './value-router.js';
