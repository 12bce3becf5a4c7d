import type { WorkerDescriptor } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { parseWorkflow } from './parse.js';
import { buildConductorMessages, buildConductorPrompt, buildRevisionPrompt } from './prompt.js';

const pool: WorkerDescriptor[] = [
  {
    id: 'math',
    model: 'qwen2.5-math-72b',
    description: 'Strong at competition maths.\nSecond line is hidden.',
  },
  {
    id: 'coder',
    model: 'qwen2.5-coder-32b',
    description: 'Writes and runs Python.',
    price: { input: 0.2, output: 0.6 },
  },
  { id: 'writer', model: 'writer', price: { input: 0.15, output: 0.6 } },
];

describe('buildConductorPrompt', () => {
  const prompt = buildConductorPrompt({
    question: 'What is 17 * 23?',
    pool,
    maxSteps: 4,
    includePrices: true,
  });

  it('lists the pool: ids, names, one-line strengths, prices', () => {
    expect(prompt).toContain('- math (qwen2.5-math-72b): Strong at competition maths.');
    expect(prompt).not.toContain('Second line is hidden');
    expect(prompt).toContain(
      '- coder (qwen2.5-coder-32b): Writes and runs Python. [$0.2 input / $0.6 output per 1M tokens]',
    );
    expect(prompt).toMatch(/^- writer \[\$0\.15 input/m);
    expect(prompt).toContain('What is 17 * 23?');
  });

  it('states the rules: access semantics, step limit, the last step answers', () => {
    expect(prompt).toContain('between 1 and 4 steps');
    expect(prompt).toContain('"all" means every earlier step');
    expect(prompt).toContain("Every worker sees the user's question");
    expect(prompt).toContain("The last step's output is the final answer");
  });

  it('omits prices unless asked and accepts plain ids', () => {
    const plain = buildConductorPrompt({ question: 'q', pool: ['a', 'b'] });
    expect(plain).not.toContain('$');
    expect(plain).toContain('- a\n- b');
    expect(plain).toContain('between 1 and 5 steps');
  });

  it('carries a parseable example in each format', () => {
    for (const format of ['lists', 'json'] as const) {
      const text = buildConductorPrompt({ question: 'q', pool, format });
      const example = text.slice(text.indexOf('Example:'), text.indexOf('Question:'));
      const parsed = parseWorkflow(example);
      expect(parsed.format).toBe(format);
      expect(parsed.ok).toBe(true);
    }
    for (const maxSteps of [1, 2]) {
      const text = buildConductorPrompt({ question: 'q', pool, maxSteps });
      const parsed = parseWorkflow(text.slice(text.indexOf('Example:'), text.indexOf('Question:')), {
        maxSteps,
      });
      expect(parsed.ok).toBe(true);
    }
  });

  it('has no channel for gold information: extra fields are ignored', () => {
    const leaky = {
      question: 'Cancel my reservation',
      pool,
      gold: 'GOLD-ANSWER-123',
      actions: [{ name: 'cancel_reservation_SECRET' }],
      evaluation_criteria: { actions: ['GOLD_TOOL'] },
    };
    const text = buildConductorPrompt(leaky as Parameters<typeof buildConductorPrompt>[0]);
    expect(text).not.toMatch(/GOLD|SECRET/);
  });

  it('refuses an empty pool', () => {
    expect(() => buildConductorPrompt({ question: 'q', pool: [] })).toThrow(/no worker/);
  });

  it('wraps the prompt as one user message', () => {
    expect(buildConductorMessages({ question: 'q', pool })).toEqual([
      { role: 'user', content: buildConductorPrompt({ question: 'q', pool }) },
    ]);
  });
});

describe('buildRevisionPrompt', () => {
  it('shows the previous workflow and answer', () => {
    const text = buildRevisionPrompt({
      previousWorkflow: { steps: [{ worker: 'math', subtask: 'Solve', access: [] }] },
      previousAnswer: '391',
    });
    expect(text).toContain("model_id: ['math']");
    expect(text).toContain('391');
    expect(text).toContain('unchanged');
  });
});
