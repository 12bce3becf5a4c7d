/**
 * The edge interfaces every OpenFugu package shares. The coordinator loop, the workflow executor and the
 * server talk to models only through `Worker`; routers read text only through `Backbone`; trainers
 * optimise anything shaped like a `Policy`.
 */
import type { ChatMessage, ToolChoice, ToolSpec } from './chat.js';
import type { ToolCall } from './tool-call.js';

/**
 * The part of the standard `AbortSignal` OpenFugu relies on. Declared structurally so pure packages
 * (compiled without DOM or Node types) can accept a real `AbortSignal`.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Token usage of one or more model calls (camelCase; `toOpenAIUsage` converts for the wire). */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** What a worker is asked to do: a conversation plus sampling settings. */
export interface WorkerRequest {
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
}

/** What a worker answers. `toolCalls` are decoded (arguments as objects). */
export interface WorkerResponse {
  content: string;
  usage?: Usage;
  toolCalls?: ToolCall[];
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
}

/** Per-call options. Implementations must honour `signal` (reject with an aborted error). */
export interface WorkerCallOptions {
  signal?: AbortSignalLike;
}

/**
 * One pool member: an upstream model, a simulated worker or a test double.
 *
 * @example
 * ```ts
 * const echo: Worker = { id: 'echo', async complete({ messages }) { return { content: String(messages.at(-1)?.content) } } };
 * ```
 */
export interface Worker {
  readonly id: string;
  complete(request: WorkerRequest, options?: WorkerCallOptions): Promise<WorkerResponse>;
}

/** Text → fixed-size feature vector. Deterministic for a given input. */
export interface Backbone {
  /** Stable identifier, e.g. `hashing-1024` or `onnx-decoder:qwen3-0.6b`; stored with trained heads. */
  readonly id: string;
  /** Length of every returned vector. */
  readonly dimension: number;
  /** Embed a batch of texts; one vector per text, in order. */
  embed(texts: readonly string[], options?: { signal?: AbortSignalLike }): Promise<Float32Array[]>;
  /** Release native resources (ONNX sessions). Optional for pure backbones. */
  dispose?(): Promise<void>;
}

/** A uniform random number generator on [0, 1). Injected everywhere randomness is needed. */
export type Random = () => number;

/** A stochastic policy over a discrete action set, scored from a feature vector. */
export interface Policy {
  /** Number of actions. */
  readonly actionCount: number;
  /** Unnormalised action scores for one observation. */
  logits(features: Float32Array | Float64Array): Float64Array;
}

/** Adds usages; missing sides count as zero. */
export function addUsage(a: Usage | undefined, b: Usage | undefined): Usage {
  return {
    promptTokens: (a?.promptTokens ?? 0) + (b?.promptTokens ?? 0),
    completionTokens: (a?.completionTokens ?? 0) + (b?.completionTokens ?? 0),
    totalTokens: (a?.totalTokens ?? 0) + (b?.totalTokens ?? 0),
  };
}

/** An all-zero usage. */
export function emptyUsage(): Usage {
  return { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
}
