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

/**
 * The client's body minus `model` (set by the worker) and OpenFugu's `openfugu` extension (routing hints, see
 * knob.ts), with usage requested from streaming upstreams.
 */
export function passthroughBody(chat: ChatCompletionRequest, wantUsage: boolean): JsonObject {
  const {
    model: _model,
    stream_options: _streamOptions,
    openfugu: _openfugu,
    ...rest
  } = chat as ChatCompletionRequest & JsonObject;
  const body: JsonObject = rest;
  if (wantUsage) body.stream_options = { include_usage: true };
  return body;
}

/** Why a body was refused by `checkJsonShape`. */
export interface ShapeViolation {
  reason: 'depth' | 'items';
  /** The top-level field the violation sits in (`null`: the root itself). */
  param: string | null;
}

/**
 * Checks a JSON text's nesting depth and the size of each array and object before it is parsed, in one
 * iterative pass (no recursion, so no stack to blow; strings are skipped with `indexOf`). Malformed JSON passes
 * through: the parser reports it. Returns the first violation, or undefined.
 *
 * @example
 * ```ts
 * checkJsonShape('{"messages":[{},{},{}]}', { maxDepth: 64, maxItems: 2 }); // { reason: 'items', param: 'messages' }
 * ```
 */
export function checkJsonShape(
  text: string,
  limits: { maxDepth: number; maxItems: number },
): ShapeViolation | undefined {
  // separators[d]: commas seen so far in the container open at depth d (items = commas + 1).
  const separators = new Int32Array(limits.maxDepth + 2);
  let depth = 0;
  let keyStart = -1;
  let keyEnd = -1;
  let topKey: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) return undefined;
      if (depth === 1) {
        keyStart = i + 1;
        keyEnd = end;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > limits.maxDepth) return { reason: 'depth', param: topKey };
      separators[depth] = 0;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth === 2) topKey = null;
      depth = Math.max(0, depth - 1);
    } else if (c === 0x2c /* , */) {
      if (depth > 0 && ++separators[depth]! >= limits.maxItems) {
        return { reason: 'items', param: depth === 1 ? null : topKey };
      }
    } else if (c === 0x3a /* : */ && depth === 1 && keyStart >= 0) {
      topKey = clip(text.slice(keyStart, keyEnd));
      keyStart = -1;
    }
  }
  return undefined;
}

/** Whether the quote at `at` is escaped (preceded by an odd number of backslashes). */
function isEscaped(text: string, at: number): boolean {
  let count = 0;
  for (let i = at - 1; i >= 0 && text.charCodeAt(i) === 0x5c; i--) count++;
  return count % 2 === 1;
}

/** The 400 for a body `checkJsonShape` refused. */
export function shapeError(
  violation: ShapeViolation,
  limits: { maxDepth: number; maxItems: number },
): GatewayError {
  const where = violation.param === null ? 'the request body' : `'${violation.param}'`;
  return new GatewayError({
    kind: 'invalid_request',
    message:
      violation.reason === 'depth'
        ? `Invalid request: ${where} nests deeper than ${limits.maxDepth} levels.`
        : `Invalid request: an array or object in ${where} has more than ${limits.maxItems} items.`,
    param: violation.param,
  });
}
