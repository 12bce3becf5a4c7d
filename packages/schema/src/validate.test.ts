import { describe, expect, it } from 'vitest';
import { ChatCompletionRequestSchema, ToolSpecSchema } from './chat.js';
import { OpenFuguError, SchemaValidationError, UpstreamError } from './errors.js';
import { GoldActionSchema } from './gold.js';
import { addUsage } from './interfaces.js';
import { createValidator } from './validate.js';
import { WorkflowSchema } from './workflow.js';

describe('createValidator', () => {
  const requests = createValidator(ChatCompletionRequestSchema);

  it('accepts a full OpenAI conversation with tool calls and tool results', () => {
    const body = {
      model: 'fugu',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: '3°C' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      tool_choice: 'auto',
      vendor_extra: 1,
    };
    expect(requests.validate(body)).toEqual({ ok: true, value: body });
  });

  it('reports issues with codes and paths instead of throwing', () => {
    const result = requests.validate({ model: 'fugu', messages: [{ role: 'tool', content: 'x' }] });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(
        result.issues.some((i) => i.code === 'missing_required' && i.path === '/messages/0/tool_call_id'),
      ).toBe(true);
    }
    expect(requests.validate({ messages: [] }).ok).toBe(false);
    expect(
      requests.validate({ model: 'x', messages: [{ role: 'user', content: 'hi' }], temperature: 3 }).ok,
    ).toBe(false);
  });

  it('parse throws a SchemaValidationError that is an OpenFuguError', () => {
    try {
      createValidator(ToolSpecSchema).parse({ type: 'function', function: {} }, 'tool');
      expect.unreachable();
    } catch (error) {
      expect(OpenFuguError.isInstance(error)).toBe(true);
      expect(error).toBeInstanceOf(SchemaValidationError);
      expect((error as SchemaValidationError).code).toBe('invalid_schema');
      expect((error as Error).message).toContain('/function/name');
    }
  });

  it('accepts tau2 gold actions with null arguments and compare_args, and workflows', () => {
    const gold = createValidator(GoldActionSchema);
    expect(
      gold.validate({
        action_id: '0_1',
        name: 'get_user_details',
        arguments: { user_id: null },
        compare_args: [],
      }).ok,
    ).toBe(true);
    const workflows = createValidator(WorkflowSchema);
    expect(
      workflows.validate({
        steps: [
          { worker: 'a', subtask: 's', access: 'all' },
          { worker: 'b', subtask: 't', access: [0] },
        ],
      }).ok,
    ).toBe(true);
    expect(workflows.validate({ steps: [{ worker: 'a', subtask: 's', access: [-1] }] }).ok).toBe(false);
    expect(workflows.validate({ steps: [] }).ok).toBe(false);
  });
});

describe('errors', () => {
  it('isInstance works across copies through the Symbol.for marker', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('openfugu.error')]: true, code: 'timeout' });
    expect(OpenFuguError.isInstance(foreign)).toBe(true);
    expect(OpenFuguError.isInstance(new Error('plain'))).toBe(false);
    expect(OpenFuguError.isInstance(null)).toBe(false);
  });

  it('UpstreamError infers retryability from the status and keeps the cause', () => {
    const cause = new Error('socket');
    expect(new UpstreamError({ message: 'x', statusCode: 429 }).isRetryable).toBe(true);
    expect(new UpstreamError({ message: 'x', statusCode: 503 }).isRetryable).toBe(true);
    expect(new UpstreamError({ message: 'x', statusCode: 400 }).isRetryable).toBe(false);
    expect(new UpstreamError({ message: 'x', cause }).cause).toBe(cause);
  });

  it('addUsage sums and tolerates missing sides', () => {
    expect(addUsage({ promptTokens: 1, completionTokens: 2, totalTokens: 3 }, undefined)).toEqual({
      promptTokens: 1,
      completionTokens: 2,
      totalTokens: 3,
    });
  });
});
