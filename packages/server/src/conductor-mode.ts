/**
 * `fugu-ultra`: the Conductor (`@openfugu/conductor`'s `runConductor`): a planner worker writes a workflow
 * over the pool, the workflow runs as a DAG (independent steps in parallel), and the last step's output is
 * the answer. The planner sees worker ids and descriptions only, never upstream model names. In a streamed run,
 * the last step of the last round (`final: true`, see `executeWorkflow`) streams to the client as generated.
 *
 * Tools: a request's `tools` and `tool_choice` go to that `final: true` call only (its reply is the answer
 * unchanged, so its tool calls reach the client as the upstream sent them); intermediate steps and the planner
 * never get tools, since nobody could execute their tool calls. When the conversation ends with tool results
 * (the client answering earlier tool calls), the final call also gets that exchange as native messages
 * (assistant `tool_calls`, then the `tool` messages) after its step prompt; every call sees the whole
 * conversation, tool calls and results included, as text.
 */

import { runConductor } from '@openfugu/conductor';
import {
  AbortedError,
  type ChatMessage,
  OpenFuguError,
  UpstreamError,
  type Worker,
  type WorkerCallOptions,
  type WorkerRequest,
  type WorkerResponse,
} from '@openfugu/schema';
import type { GatewayMode, ModeResult } from './modes.js';

/** `executeWorkflow`'s call options: `final: true` marks the call whose reply is the answer unchanged. */
type FinalCallOptions = WorkerCallOptions & { final?: boolean };

/** Settings of `createConductorMode`. */
export interface ConductorModeSettings {
  /** Public model name (default `fugu-ultra`). */
  model?: string;
  description?: string;
  /** Pool id of the planner, or a separate planner worker (not part of the pool). */
  planner: string | Worker;
  /** What the planner is told about each worker (id → one-line description). */
  descriptions?: Readonly<Record<string, string>>;
  /** Planning rounds (1 = no revision; default 1). */
  maxRounds?: number;
  /** Most steps per workflow (default 5). */
  maxSteps?: number;
}

/**
 * Creates the Conductor mode.
 *
 * @example
 * ```ts
 * const mode = createConductorMode({ planner: 'generalist', descriptions: { math: 'strong at math' } });
 * ```
 */
export function createConductorMode(settings: ConductorModeSettings): GatewayMode {
  const model = settings.model ?? 'fugu-ultra';
  return {
    kind: 'run',
    model,
    ...(settings.description === undefined ? {} : { description: settings.description }),
    async run(input, context) {
      const available = context.workers.filter((worker) => context.pool.isAvailable(worker.id));
      const planner =
        typeof settings.planner === 'string'
          ? context.workers.find((worker) => worker.id === settings.planner)
          : settings.planner;
      if (!planner)
        throw new OpenFuguError({ code: 'config_error', message: 'conductor planner is not in the pool' });
      const started = performance.now();
      const request = input.workerRequest;
      const tools = request.tools && request.tools.length > 0 ? request.tools : undefined;
      // The final call's reply, kept to return its tool calls and finish reason (non-streamed requests).
      let finalReply: WorkerResponse | undefined;
      let workers = context.workers;
      if (tools) {
        const tail = toolExchangeTail(request.messages);
        workers = context.workers.map(
          (worker): Worker => ({
            id: worker.id,
            async complete(stepRequest, options) {
              if ((options as FinalCallOptions | undefined)?.final !== true) {
                return worker.complete(stepRequest, options);
              }
              const withTools: WorkerRequest = {
                ...stepRequest,
                messages: [...stepRequest.messages, ...tail],
                tools,
              };
              if (request.toolChoice !== undefined) withTools.toolChoice = request.toolChoice;
              const reply = await worker.complete(withTools, options);
              finalReply = reply;
              return reply;
            },
          }),
        );
      }
      const result = await runConductor({
        planner,
        pool: (available.length > 0 ? available : context.workers).map((worker) => ({
          id: worker.id,
          ...(settings.descriptions?.[worker.id] ? { description: settings.descriptions[worker.id] } : {}),
        })),
        workers,
        question: renderTranscript(request.messages),
        signal: context.signal,
        ...(settings.maxRounds === undefined ? {} : { maxRounds: settings.maxRounds }),
        ...(settings.maxSteps === undefined ? {} : { maxSteps: settings.maxSteps }),
        // The client's sampling settings reach every worker call (not the planner, whose reply is a plan).
        ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
        ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      });
      const trace = {
        stopReason: result.stopReason,
        ms: Math.round(performance.now() - started),
        workflow: result.workflow,
        rounds: result.rounds.map((round) => ({
          round: round.round,
          valid: round.validation.ok,
          unchanged: round.unchanged,
          ...(round.execution
            ? {
                steps: round.execution.trace.map((step) => ({
                  step: step.step,
                  worker: step.ranBy ?? step.worker,
                  status: step.status,
                  latencyMs: Math.round(step.latencyMs),
                })),
              }
            : {}),
        })),
      };
      if (context.signal.aborted) throw new AbortedError();
      if (result.answer === undefined) {
        throw new UpstreamError({
          message: `the conductor produced no answer (${result.stopReason})`,
          isRetryable: false,
        });
      }
      const answer: ModeResult = { content: result.answer, trace };
      // The answering call's finish reason (`length` when the worker was cut at max_tokens).
      if (result.finishReason) answer.finishReason = result.finishReason;
      // The final call's reply is the answer unchanged; a run whose answer came from elsewhere (an earlier
      // round kept by the planner) answers with text only.
      if (finalReply && finalReply.content === result.answer) {
        if (finalReply.toolCalls && finalReply.toolCalls.length > 0) answer.toolCalls = finalReply.toolCalls;
        if (finalReply.finishReason) answer.finishReason = finalReply.finishReason;
      }
      return answer;
    },
  };
}

/**
 * The conversation as the planner and the steps read it: `role: content` lines, like `renderConversation`,
 * plus each assistant tool call (`[tool call <id>] name(arguments)`) and the call a tool result answers.
 */
export function renderTranscript(messages: readonly ChatMessage[]): string {
  return messages
    .map((message) => {
      let line = `${message.role}`;
      if (message.role === 'tool') line += ` [result of ${message.tool_call_id}]`;
      line += `: ${textOfContent(message.content)}`;
      if (message.role === 'assistant') {
        for (const call of message.tool_calls ?? []) {
          line += `\n[tool call ${call.id}] ${call.function.name}(${call.function.arguments})`;
        }
      }
      return line;
    })
    .join('\n');
}

function textOfContent(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join('');
  }
  return '';
}

/**
 * The tool exchange that ends a conversation: the last assistant message with tool calls and the `tool`
 * messages after it, when nothing else follows (the client is returning tool results); otherwise empty.
 */
function toolExchangeTail(messages: readonly ChatMessage[]): ChatMessage[] {
  let start = messages.length;
  while (start > 0 && messages[start - 1]?.role === 'tool') start--;
  const assistant = messages[start - 1];
  if (start === messages.length || assistant?.role !== 'assistant' || !assistant.tool_calls?.length)
    return [];
  return messages.slice(start - 1);
}
