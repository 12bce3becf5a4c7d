// Types of sibling packages that this package's API takes or returns, re-exported so that users name them
// from here (checked by tools/scripts/check-reexports.mjs in `pnpm lint`).
export type {
  AbortSignalLike,
  Backbone,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatCompletionResponse,
  ChatMessage,
  OpenAIErrorBody,
  OpenFuguError,
  Price,
  Random,
  ToolCall,
  Usage,
  ValidationIssue,
  Worker,
  WorkerCallOptions,
  WorkerDescriptor,
  WorkerRequest,
  WorkerResponse,
} from '@openfugu/schema';
export type { Router, RouterHead, ValueRouter } from '@openfugu/trinity';
export * from './admin.js';
export * from './conductor-mode.js';
export * from './config.js';
export * from './create-server.js';
export * from './domain-router.js';
export * from './embedded-router.js';
export * from './errors.js';
export * from './gateway.js';
export * from './knob.js';
export * from './limits.js';
export * from './metrics.js';
export * from './modes.js';
export * from './pool.js';
export * from './rate-limit.js';
export * from './sim/simulated-upstream.js';
export * from './sim/skills.js';
export * from './sse.js';
export * from './state/index.js';
export * from './trinity-mode.js';
export * from './upstream/openai-worker.js';
