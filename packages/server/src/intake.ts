/**
 * Request intake: the chat request's validation errors as OpenAI 400s, and the bodies derived from it for
 * workers (`WorkerRequest`) and upstreams (passthrough body).
 */
import type { ChatCompletionRequest, ValidationIssue, WorkerRequest } from '@openfugu/schema';
import { GatewayError } from './errors.js';
import type { JsonObject } from './upstream/openai-worker.js';

export function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/** Converts ajv issues into one 400 with `param` at the most specific offending field. */
export function invalidRequest(issues: readonly ValidationIssue[]): GatewayError {
  // Union branches produce several issues; the deepest path is the most useful one to show.
  let best = issues[0];
  for (const issue of issues)
    if (best && issue.path.split('/').length > best.path.split('/').length) best = issue;
  const param = best ? pointerToParam(best.path) : null;
  const detail =
    best && /\/messages\/\d+\/role$/.test(best.path)
      ? 'must be one of system, developer, user, assistant, tool'
      : best?.message;
  return new GatewayError({
    kind: 'invalid_request',
    message: best ? `Invalid request: '${param || 'body'}' ${detail}.` : 'Invalid request body.',
    param: param || null,
  });
}

/** `/messages/0/content` → `messages[0].content` (OpenAI's `param` style). */
export function pointerToParam(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

export function toWorkerRequest(chat: ChatCompletionRequest): WorkerRequest {
  const request: WorkerRequest = { messages: chat.messages };
  const maxTokens = chat.max_completion_tokens ?? chat.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) request.maxTokens = maxTokens;
  if (chat.temperature !== undefined && chat.temperature !== null) request.temperature = chat.temperature;
  if (chat.tools !== undefined && chat.tools.length > 0) request.tools = chat.tools;
  if (chat.tool_choice !== undefined) request.toolChoice = chat.tool_choice;
  return request;
}

/** The client's body minus `model` (set by the worker) and with usage requested from streaming upstreams. */
export function passthroughBody(chat: ChatCompletionRequest, wantUsage: boolean): JsonObject {
  const {
    model: _model,
    stream_options: _streamOptions,
    ...rest
  } = chat as ChatCompletionRequest & JsonObject;
  const body: JsonObject = rest;
  if (wantUsage) body.stream_options = { include_usage: true };
  return body;
}
