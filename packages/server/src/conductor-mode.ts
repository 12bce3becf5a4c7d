/**
 * `fugu-ultra`: the Conductor (`@openfugu/conductor`'s `runConductor`): a planner worker writes a workflow
 * over the pool, the workflow runs as a DAG (independent steps in parallel), and the last step's output is
 * the answer. The planner sees worker ids and descriptions only, never upstream model names. In a streamed run,
 * the last step of the last round (`final: true`, see `executeWorkflow`) streams to the client as generated.
 *
 * Tools: a request's `tools` and `tool_choice` go to that `final: true` call only (its reply is the answer
 * unchanged, so its tool calls reach the client as the upstream sent them); intermediate steps and the planner
 * never get tools, since nobody could execute their tool calls, but the planner is told which tools the client
 * offered. The final call answers the client's conversation itself (`buildFinalCallMessages`): one system
 * message with the earlier steps' results and its subtask, then the conversation as the client sent it, tool
 * calls and tool results as native messages, so its last message is the client's and a model takes tool
 * arguments from the user's words, not from the step prompt. The planner and the other steps see the whole
 * conversation, tool calls and results included, as text.
 */

import {
  buildFinalCallMessages,
  buildStepMessages,
  runConductor,
  type StepContext,
} from '@openfugu/conductor';
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
import { messageText } from '@openfugu/trinity';
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
  /**
   * Show the planner the workers as a numbered list and read integer worker ids (`model_id: [1, 0, 2]`) as
   * indices into it: for planners trained on the paper's prompts. Default false (worker ids).
   */
  numberedWorkers?: boolean;
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
      // The step context of the workflow's last step, kept to build the final call's messages: the final call
      // is the last step of the last round, and it starts only after every other step has settled.
      let lastStep: StepContext | undefined;
      const stepMessages = (step: StepContext) => {
        if (step.isFinal) lastStep = step;
        return buildStepMessages(step);
      };
      if (tools) {
        workers = context.workers.map(
          (worker): Worker => ({
            id: worker.id,
            async complete(stepRequest, options) {
              if ((options as FinalCallOptions | undefined)?.final !== true) {
                return worker.complete(stepRequest, options);
              }
              const withTools: WorkerRequest = {
                ...stepRequest,
                messages: lastStep
                  ? buildFinalCallMessages(lastStep, request.messages)
                  : stepRequest.messages,
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
        ...(tools ? { stepMessages, tools: tools.map(toolSummary) } : {}),
        ...(settings.numberedWorkers === undefined ? {} : { numberedWorkers: settings.numberedWorkers }),
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
                  ...(step.output === undefined ? {} : { output: step.output.slice(0, 2000) }),
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
      line += `: ${messageText(message)}`;
      if (message.role === 'assistant') {
        for (const call of message.tool_calls ?? []) {
          line += `\n[tool call ${call.id}] ${call.function.name}(${call.function.arguments})`;
        }
      }
      return line;
    })
    .join('\n');
}

/** What the planner is told about a client tool: its name and description. */
function toolSummary(tool: NonNullable<WorkerRequest['tools']>[number]): {
  name: string;
  description?: string;
} {
  return {
    name: tool.function.name,
    ...(typeof tool.function.description === 'string' ? { description: tool.function.description } : {}),
  };
}
