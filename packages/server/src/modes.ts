/** How a public model name turns a request into an answer over the pool. */
import type {
  AbortSignalLike,
  ChatCompletionRequest,
  ToolCall,
  Worker,
  WorkerRequest,
  WorkerResponse,
} from '@openfugu/schema';
import { renderMessages } from '@openfugu/trinity';
import type { RoutingHints } from './knob.js';
import type { Ledger, WorkerPool } from './pool.js';

/** The validated request, and the same as a `WorkerRequest`. */
export interface ModeInput {
  request: ChatCompletionRequest;
  workerRequest: WorkerRequest;
  /** The request's validated cost–quality knob and category (`openfugu.*` / `x-openfugu-*`; see knob.ts). */
  routing?: RoutingHints;
}

/** What a mode may use while serving one request. */
export interface ModeContext {
  /**
   * The pool's workers, bound to this request: breaker, fallback, usage/cost accounting included. For a
   * `stream: true` request, the call made with `final: true` in its call options (the call whose reply is the
   * answer unchanged) is streamed to the client as the upstream sends it; it still returns the whole reply.
   */
  workers: Worker[];
  pool: WorkerPool;
  ledger: Ledger;
  signal: AbortSignalLike;
  /** Records a router decision's duration (the `routing_duration_seconds` metric). */
  observeRouting?: (seconds: number) => void;
}

/** A multi-step mode's answer. */
export interface ModeResult {
  content: string;
  toolCalls?: ToolCall[];
  finishReason?: WorkerResponse['finishReason'];
  /** Mode-specific trace (turns, steps); returned only with the opt-in debug trace. */
  trace?: unknown;
}

/**
 * A public model name served by the gateway. Two kinds:
 * - `route`: picks ONE worker for the whole request; the gateway then passes the request through to it
 *   (true streaming passthrough, tools, fallback before the first byte).
 * - `run`: runs any number of worker calls (TRINITY loop, Conductor workflow) and returns the final answer.
 *   With `stream: true`, its call marked `final: true` streams through to the client as it arrives; a run
 *   without one is streamed to the client in chunks after it ends. Its optional `passthrough` may claim a
 *   request for one worker instead (e.g. `fugu` with `tools`, where the chosen worker's answer goes back
 *   verbatim): it is then served like a `route` mode — true streaming passthrough, fallback before the first
 *   byte — and `run` is not called.
 */
export type GatewayMode =
  | {
      readonly kind: 'route';
      readonly model: string;
      readonly description?: string;
      route(input: ModeInput, context: ModeContext): Promise<{ workerId: string; trace?: unknown }>;
    }
  | {
      readonly kind: 'run';
      readonly model: string;
      readonly description?: string;
      run(input: ModeInput, context: ModeContext): Promise<ModeResult>;
      /** One worker for this request (passed through), or undefined to `run` it. */
      passthrough?(
        input: ModeInput,
        context: ModeContext,
      ): Promise<{ workerId: string; trace?: unknown } | undefined>;
    };

/**
 * A `route` mode from a plain function that picks a worker index from the request text.
 *
 * @example
 * ```ts
 * const mode = createRoutedMode({ model: 'fugu', route: (text) => (/\d/.test(text) ? 0 : 1) });
 * ```
 */
export function createRoutedMode(settings: {
  model: string;
  description?: string;
  /** Returns the pool index to use; called with the rendered conversation (`role: content` lines). */
  route: (text: string, available: readonly boolean[]) => number | Promise<number>;
}): GatewayMode {
  return {
    kind: 'route',
    model: settings.model,
    ...(settings.description === undefined ? {} : { description: settings.description }),
    async route(input, context) {
      const text = renderConversation(input.workerRequest.messages);
      const available = context.pool.workers.map((worker) => context.pool.isAvailable(worker.id));
      const index = await settings.route(text, available);
      const worker = context.pool.workers[index] ?? context.pool.workers[0];
      return { workerId: worker?.id ?? '', trace: { index } };
    },
  };
}

/**
 * Renders messages the way TRINITY reads them: `role: content`, one per line, no chat template. The one
 * rendering of `@openfugu/trinity` (`renderMessages`), so routing functions, trained heads and the training
 * tools all read the same text.
 */
export function renderConversation(messages: WorkerRequest['messages']): string {
  return renderMessages(messages);
}
