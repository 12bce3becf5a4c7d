import { describe, expect, it } from 'vitest';
import { buildFinalCallMessages, type StepContext } from './step-prompt.js';

const context: StepContext = {
  question: "user: What's the weather in Paris?",
  subtask: 'Answer the user, calling the weather tool.',
  step: 1,
  stepCount: 2,
  isFinal: true,
  visible: [{ step: 0, subtask: 'Find the city.', output: 'The city is Paris.' }],
};

describe('buildFinalCallMessages', () => {
  it("puts the team's context in one system message and ends with the client's own last message", () => {
    const conversation = [{ role: 'user' as const, content: "What's the weather in Paris?" }];
    const messages = buildFinalCallMessages(context, conversation);
    expect(messages.map((message) => message.role)).toEqual(['system', 'user']);
    expect(messages[1]).toEqual(conversation[0]);
    const system = String(messages[0]?.content);
    expect(system).toContain('The city is Paris.');
    expect(system).toContain(
      '# Your subtask (step 1 of steps 0-1)\nAnswer the user, calling the weather tool.',
    );
    // The rendered transcript (the step prompt's question) appears nowhere.
    expect(JSON.stringify(messages)).not.toContain('user: What');
  });

  it("merges the client's leading system messages first and keeps tool exchanges native", () => {
    const conversation = [
      { role: 'system' as const, content: 'Answer in French.' },
      { role: 'user' as const, content: 'Weather in Paris?' },
      {
        role: 'assistant' as const,
        content: null,
        tool_calls: [
          {
            id: 'c1',
            type: 'function' as const,
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool' as const, tool_call_id: 'c1', content: '18 °C' },
    ];
    const messages = buildFinalCallMessages(context, conversation);
    expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(String(messages[0]?.content).startsWith('Answer in French.\n\n')).toBe(true);
    expect(messages.slice(1)).toEqual(conversation.slice(1));
  });
});
