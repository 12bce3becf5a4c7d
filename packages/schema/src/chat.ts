/**
 * OpenAI chat-completion wire shapes (request, response, stream chunk, error) as TypeBox schemas.
 * The schemas are plain JSON Schema (draft 2019-09 compatible) and are validated with ajv; the static
 * types are derived from them so the two can never drift apart.
 *
 * Requests are deliberately open (`additionalProperties` allowed at the top level) because clients send
 * provider-specific extras; known fields are typed strictly.
 */
import { type Static, Type } from '@sinclair/typebox';

/** `{ type: 'text', text }` content part. */
export const TextContentPartSchema = Type.Object({ type: Type.Literal('text'), text: Type.String() });
/** `{ type: 'image_url', image_url: { url, detail? } }` content part. */
export const ImageContentPartSchema = Type.Object({
  type: Type.Literal('image_url'),
  image_url: Type.Object({
    url: Type.String(),
    detail: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('low'), Type.Literal('high')])),
  }),
});
/** `{ type: 'input_audio', input_audio: { data, format } }` content part. */
export const AudioContentPartSchema = Type.Object({
  type: Type.Literal('input_audio'),
  input_audio: Type.Object({ data: Type.String(), format: Type.String() }),
});
/** Any user content part. */
export const ContentPartSchema = Type.Union([
  TextContentPartSchema,
  ImageContentPartSchema,
  AudioContentPartSchema,
]);
export type ContentPart = Static<typeof ContentPartSchema>;

/** A tool call as it travels on the OpenAI wire: `arguments` is a JSON string. */
export const OpenAIToolCallSchema = Type.Object({
  id: Type.String(),
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String(), arguments: Type.String() }),
});
export type OpenAIToolCall = Static<typeof OpenAIToolCallSchema>;

const TextOnlyContent = Type.Union([Type.String(), Type.Array(TextContentPartSchema)]);

export const SystemMessageSchema = Type.Object({
  role: Type.Union([Type.Literal('system'), Type.Literal('developer')]),
  content: TextOnlyContent,
  name: Type.Optional(Type.String()),
});
export const UserMessageSchema = Type.Object({
  role: Type.Literal('user'),
  content: Type.Union([Type.String(), Type.Array(ContentPartSchema)]),
  name: Type.Optional(Type.String()),
});
export const AssistantMessageSchema = Type.Object({
  role: Type.Literal('assistant'),
  content: Type.Optional(
    Type.Union([
      Type.String(),
      Type.Null(),
      Type.Array(
        Type.Union([
          TextContentPartSchema,
          Type.Object({ type: Type.Literal('refusal'), refusal: Type.String() }),
        ]),
      ),
    ]),
  ),
  name: Type.Optional(Type.String()),
  refusal: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  tool_calls: Type.Optional(Type.Array(OpenAIToolCallSchema)),
});
export const ToolMessageSchema = Type.Object({
  role: Type.Literal('tool'),
  content: TextOnlyContent,
  tool_call_id: Type.String(),
});

/** Any chat message of the OpenAI API (system/developer, user, assistant, tool). */
export const ChatMessageSchema = Type.Union([
  SystemMessageSchema,
  UserMessageSchema,
  AssistantMessageSchema,
  ToolMessageSchema,
]);
export type SystemMessage = Static<typeof SystemMessageSchema>;
export type UserMessage = Static<typeof UserMessageSchema>;
export type AssistantMessage = Static<typeof AssistantMessageSchema>;
export type ToolMessage = Static<typeof ToolMessageSchema>;
export type ChatMessage = Static<typeof ChatMessageSchema>;
export type ChatRole = ChatMessage['role'];

/** JSON Schema object used for tool parameters. Kept open: tools use every dialect in practice. */
export const JsonSchemaObjectSchema = Type.Record(Type.String(), Type.Unknown());

/** An OpenAI function tool: `{ type: 'function', function: { name, description?, parameters?, strict? } }`. */
export const ToolSpecSchema = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(JsonSchemaObjectSchema),
    strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  }),
});
export type ToolSpec = Static<typeof ToolSpecSchema>;

/** `tool_choice`: `none` | `auto` | `required` | a named function. */
export const ToolChoiceSchema = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Literal('required'),
  Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: Type.String() }) }),
]);
export type ToolChoice = Static<typeof ToolChoiceSchema>;

/** Token usage as reported by the OpenAI API. */
export const UsageSchema = Type.Object({
  prompt_tokens: Type.Integer({ minimum: 0 }),
  completion_tokens: Type.Integer({ minimum: 0 }),
  total_tokens: Type.Integer({ minimum: 0 }),
});
export type OpenAIUsage = Static<typeof UsageSchema>;

/** `POST /v1/chat/completions` request body. */
export const ChatCompletionRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1 }),
    messages: Type.Array(ChatMessageSchema, { minItems: 1 }),
    stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    stream_options: Type.Optional(
      Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }), Type.Null()]),
    ),
    max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
    top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
    n: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 128 }), Type.Null()])),
    stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 }), Type.Null()])),
    seed: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    tools: Type.Optional(Type.Array(ToolSpecSchema)),
    tool_choice: Type.Optional(ToolChoiceSchema),
    parallel_tool_calls: Type.Optional(Type.Boolean()),
    user: Type.Optional(Type.String()),
    metadata: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
  },
  { additionalProperties: true },
);
export type ChatCompletionRequest = Static<typeof ChatCompletionRequestSchema>;

export const FinishReasonSchema = Type.Union([
  Type.Literal('stop'),
  Type.Literal('length'),
  Type.Literal('tool_calls'),
  Type.Literal('content_filter'),
  Type.Literal('function_call'),
]);
export type FinishReason = Static<typeof FinishReasonSchema>;

/** `chat.completion` response object. */
export const ChatCompletionResponseSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion'),
  created: Type.Integer(),
  model: Type.String(),
  system_fingerprint: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer(),
      message: Type.Object({
        role: Type.Literal('assistant'),
        content: Type.Union([Type.String(), Type.Null()]),
        refusal: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        tool_calls: Type.Optional(Type.Array(OpenAIToolCallSchema)),
      }),
      finish_reason: FinishReasonSchema,
      logprobs: Type.Optional(Type.Null()),
    }),
  ),
  usage: Type.Optional(UsageSchema),
});
export type ChatCompletionResponse = Static<typeof ChatCompletionResponseSchema>;

/** One `chat.completion.chunk` of a streamed response (one SSE `data:` line). */
export const ChatCompletionChunkSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion.chunk'),
  created: Type.Integer(),
  model: Type.String(),
  system_fingerprint: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer(),
      delta: Type.Object({
        role: Type.Optional(Type.Literal('assistant')),
        content: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        tool_calls: Type.Optional(
          Type.Array(
            Type.Object({
              index: Type.Integer(),
              id: Type.Optional(Type.String()),
              type: Type.Optional(Type.Literal('function')),
              function: Type.Optional(
                Type.Object({ name: Type.Optional(Type.String()), arguments: Type.Optional(Type.String()) }),
              ),
            }),
          ),
        ),
      }),
      finish_reason: Type.Union([FinishReasonSchema, Type.Null()]),
      logprobs: Type.Optional(Type.Null()),
    }),
  ),
  usage: Type.Optional(Type.Union([UsageSchema, Type.Null()])),
});
export type ChatCompletionChunk = Static<typeof ChatCompletionChunkSchema>;

/** OpenAI error body: `{ error: { message, type, code, param } }`. */
export const OpenAIErrorBodySchema = Type.Object({
  error: Type.Object({
    message: Type.String(),
    type: Type.String(),
    code: Type.Union([Type.String(), Type.Null()]),
    param: Type.Union([Type.String(), Type.Null()]),
  }),
});
export type OpenAIErrorBody = Static<typeof OpenAIErrorBodySchema>;

/** `GET /v1/models` list entry. */
export const ModelObjectSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  created: Type.Integer(),
  owned_by: Type.String(),
});
export type ModelObject = Static<typeof ModelObjectSchema>;
