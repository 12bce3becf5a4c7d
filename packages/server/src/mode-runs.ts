/**
 * Mode runs beyond a single call: `n > 1` (independent runs answered together) and a `run` mode's final call
 * streamed to the client as it arrives.
 */
import type {
  AbortSignalLike,
  Worker,
  WorkerCallOptions,
  WorkerRequest,
  WorkerResponse,
} from '@openfugu/schema';
import type { FastifyReply } from 'fastify';
import { AbortScope, follow } from './abort.js';
import {
  type Choice,
  completionFromResult,
  fromWireUsage,
  isUpstreamWorker,
  toWireUsage,
} from './completion.js';
import { GatewayError } from './errors.js';
import { passthroughBody } from './intake.js';
import type { GatewayMode, ModeContext, ModeInput } from './modes.js';
import { callOnce, type ForwardedStream, forwardStream, openStream } from './passthrough.js';
import type { Ledger } from './pool.js';
import { closeSse } from './sse-writer.js';
import { type JsonObject, toChatBody } from './upstream/openai-worker.js';

/**
 * Serves `n > 1` for a mode: `count` independent runs of the whole request (route decision or passthrough,
 * else the mode's `run`), at most `concurrency` at once, all on the request's deadline and ledger (usage and
 * cost summed over every call). The first failure cuts the other runs and is the request's error.
 */
export async function runChoices(
  mode: GatewayMode,
  input: ModeInput,
  context: ModeContext,
  count: number,
  concurrency: number,
): Promise<{ choice: Choice; trace: unknown }[]> {
  const signal = new AbortScope();
  const unlink = follow(signal, context.signal);
  const shared: ModeContext = { ...context, signal };
  const { n: _n, stream: _stream, ...body } = passthroughBody(input.request, false);
  const results: { choice: Choice; trace: unknown }[] = [];
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const lane = async (): Promise<void> => {
    while (next < count && !failed) {
      const at = next++;
      try {
        results[at] = await runChoice(mode, input, shared, body);
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
          signal.abort(error);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  } finally {
    unlink();
  }
  if (failed) throw firstError;
  return results;
}

/**
 * The one worker a mode picks for the whole request — a `route` mode's decision, or a `run` mode's
 * `passthrough` claim — timed as a routing decision (`observeRouting`); undefined when the `run` mode is to run
 * the request itself. A decision naming no pool member is an internal error.
 */
export async function decideWorker(
  mode: GatewayMode,
  input: ModeInput,
  context: ModeContext,
): Promise<{ workerId: string; trace?: unknown } | undefined> {
  const started = performance.now();
  const decision =
    mode.kind === 'route'
      ? await mode.route(input, context)
      : mode.passthrough
        ? await mode.passthrough(input, context)
        : undefined;
  if (!decision) return undefined;
  context.observeRouting?.((performance.now() - started) / 1000);
  if (!context.pool.get(decision.workerId)) throw new GatewayError({ kind: 'internal_error' });
  return decision;
}

/** One run of a mode, answered as one choice (its `index` set by the caller). */
async function runChoice(
  mode: GatewayMode,
  input: ModeInput,
  context: ModeContext,
  body: JsonObject,
): Promise<{ choice: Choice; trace: unknown }> {
  const decision = await decideWorker(mode, input, context);
  if (decision) {
    const response = await callOnce(
      context.pool,
      decision.workerId,
      body,
      input.workerRequest,
      context.ledger,
      context.signal,
      true,
    );
    const choice = response.choices[0];
    if (!choice) throw new GatewayError({ kind: 'internal_error', message: 'The upstream sent no choice.' });
    return { choice, trace: decision.trace };
  }
  if (mode.kind !== 'run') throw new GatewayError({ kind: 'internal_error' });
  const outcome = await mode.run(input, context);
  const choice = completionFromResult(outcome, '', '', undefined, undefined).choices[0];
  if (!choice) throw new GatewayError({ kind: 'internal_error' });
  return { choice, trace: outcome.trace };
}

/**
 * The per-call options of `runCoordinator` (TRINITY) and `executeWorkflow` (Conductor): `final: true` marks the
 * call whose reply becomes the answer unchanged. Defined here as a local extension of `WorkerCallOptions`.
 */
type FinalCallOptions = WorkerCallOptions & { final?: boolean };

/** A `run` mode's streamed final call: the workers that stream it and what happened to it. */
export interface FinalStream {
  /** The pool's bound workers; a `final: true` call on an upstream worker is streamed to the client. */
  readonly workers: Worker[];
  /** The run's signal: the request's, plus an abort when the final stream fails after its first byte. */
  readonly signal: AbortScope;
  /** True once the first chunk of the final call went to the client. */
  started: boolean;
  /** True once a chunk carried a finish reason. */
  finished: boolean;
  /** True once the final stream ended normally. */
  completed: boolean;
  /** The failure of the final stream after its first byte (the run is cut; the client gets it in-band). */
  error: unknown;
  dispose(): void;
}

/**
 * Binds the pool's workers for a streamed `run`: ordinary calls go through `pool.bind` (breaker, fallback,
 * ledger); the call marked `final: true` opens an upstream stream instead (falling back to other workers until
 * its first chunk has arrived), starts the SSE response and forwards each chunk as it comes, with the public id
 * and model. It still returns the whole reply, so the mode's run ends as usual. A failure after the first byte
 * cannot be replaced any more: it aborts the run (`signal`), and the request ends with an in-band error event.
 */
export function createFinalStream(
  reply: FastifyReply,
  context: ModeContext,
  names: { id: string; model: string },
): FinalStream {
  const { pool, ledger } = context;
  const signal = new AbortScope();
  const unlink = follow(signal, context.signal);
  const state: FinalStream = {
    workers: [],
    signal,
    started: false,
    finished: false,
    completed: false,
    error: undefined,
    dispose: unlink,
  };
  const streamFinal = async (workerId: string, request: WorkerRequest, callSignal: AbortSignalLike) => {
    if (state.started) {
      // A second final call (a mode that retried a cut final call): the first one's chunks are already out.
      const error = new GatewayError({ kind: 'internal_error', message: 'A second final call in one run.' });
      state.error ??= error;
      signal.abort(error);
      throw error;
    }
    const body = toChatBody(request);
    body.stream_options = { include_usage: true };
    const opened = await openStream(pool, workerId, body, ledger, callSignal, {
      fallback: true,
      toFirstChunk: true,
    });
    state.started = true;
    let forwarded: ForwardedStream;
    try {
      forwarded = await forwardStream(reply, opened, { ...names, pool, ledger, collect: true });
    } catch (error) {
      state.error ??= error;
      signal.abort(error);
      throw error;
    }
    state.finished = forwarded.finished;
    state.completed = true;
    const response: WorkerResponse = { content: forwarded.content };
    if (forwarded.usage) response.usage = fromWireUsage(forwarded.usage);
    if (forwarded.finishReason) response.finishReason = forwarded.finishReason;
    return response;
  };
  for (const bound of pool.bind(ledger)) {
    const member = pool.get(bound.id);
    state.workers.push(
      member && isUpstreamWorker(member)
        ? {
            id: bound.id,
            complete: (request, options) =>
              (options as FinalCallOptions | undefined)?.final === true
                ? streamFinal(bound.id, request, options?.signal ?? signal)
                : bound.complete(request, options),
          }
        : bound,
    );
  }
  return state;
}

/** Closes a streamed final call: finish chunk when the upstream sent none, the run's summed usage, `[DONE]`. */
export async function endFinalStream(
  reply: FastifyReply,
  state: FinalStream,
  options: { id: string; model: string; includeUsage: boolean; ledger: Ledger; debug: boolean },
  trace: unknown,
): Promise<void> {
  await closeSse(reply, {
    id: options.id,
    model: options.model,
    finished: state.finished,
    includeUsage: options.includeUsage,
    usage: toWireUsage(options.ledger.usage),
    trace,
    traceComment: options.debug,
  });
}
