/** OpenAI answers built from worker replies, mode results and upstream completions (usage, tool calls, ids). */
import type { ChatCompletionResponse, ToolCall, Usage, Worker, WorkerResponse } from '@openfugu/schema';
import type { ModeResult } from './modes.js';
import type { Ledger } from './pool.js';
import type { JsonObject, UpstreamWorker } from './upstream/openai-worker.js';

export function isUpstreamWorker(worker: Worker): worker is UpstreamWorker {
  return typeof (worker as Partial<UpstreamWorker>).chat === 'function';
}

export function usageOf(response: ChatCompletionResponse): WorkerResponse['usage'] {
  return response.usage ? fromWireUsage(response.usage) : undefined;
}

export type WireUsage = NonNullable<ChatCompletionResponse['usage']>;

/** OpenAI's `usage` object from summed usage. */
export function toWireUsage(usage: Usage): WireUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
  };
}

/** Usage from OpenAI's `usage` object. */
export function fromWireUsage(usage: WireUsage): Usage {
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    totalTokens: usage.total_tokens,
  };
}

function toWireToolCalls(
  calls: readonly ToolCall[],
): NonNullable<ChatCompletionResponse['choices'][number]['message']['tool_calls']> {
  return calls.map((call, index) => ({
    id: call.id ?? `call_${index}`,
    type: 'function' as const,
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
}

export function completionFromWorker(response: WorkerResponse): ChatCompletionResponse {
  return completionFromResult(response, '', '', undefined, undefined);
}

export function completionFromResult(
  result: ModeResult | WorkerResponse,
  id: string,
  model: string,
  ledger: Ledger | undefined,
  trace: unknown,
): ChatCompletionResponse {
  const toolCalls =
    result.toolCalls && result.toolCalls.length > 0 ? toWireToolCalls(result.toolCalls) : undefined;
  const answer: ChatCompletionResponse & JsonObject = {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: toolCalls && result.content === '' ? null : result.content,
          ...(toolCalls ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: result.finishReason ?? (toolCalls ? 'tool_calls' : 'stop'),
        logprobs: null,
      },
    ],
  };
  const usage = ledger?.usage ?? ('usage' in result ? result.usage : undefined);
  if (usage) {
    answer.usage = toWireUsage(usage);
  }
  if (trace !== undefined) answer.openfugu_trace = trace;
  return answer;
}

/** Replaces upstream identity (id, model, fingerprint) and puts the ledger's summed usage in. */
export function rewriteCompletion(
  response: ChatCompletionResponse,
  id: string,
  model: string,
  ledger: Ledger,
  trace: unknown,
): ChatCompletionResponse {
  const { system_fingerprint: _fingerprint, ...rest } = response;
  const answer: ChatCompletionResponse & JsonObject = { ...rest, id, model, object: 'chat.completion' };
  if (ledger.calls.some((call) => call.usage)) {
    answer.usage = toWireUsage(ledger.usage);
  }
  if (trace !== undefined) answer.openfugu_trace = trace;
  return answer;
}

export type Choice = ChatCompletionResponse['choices'][number];
