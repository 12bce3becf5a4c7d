/**
 * Worker numbers: planners trained on the paper's prompts write `model_id: [1, 0, 2]` (indices into the
 * numbered worker list they were shown). The same workflow written with ids and with numbers reads the same.
 */
import { describe, expect, it } from 'vitest';
import { fakeWorker } from './__fixtures__/workers.js';
import { parseWorkflow } from './parse.js';
import { buildConductorPrompt, buildRevisionPrompt, formatNumberedWorkflow } from './prompt.js';
import { runConductor } from './run-conductor.js';
import { validateWorkflow } from './validate.js';

const ids = ['math', 'coder', 'writer'];
const byIds =
  "model_id: ['coder', 'math', 'writer']\nsubtasks: ['Write it.', 'Check it.', 'Answer.']\naccess_list: [[], [0], 'all']";
const byNumbers =
  "model_id: [1, 0, 2]\nsubtasks: ['Write it.', 'Check it.', 'Answer.']\naccess_list: [[], [0], 'all']";
const jsonByNumbers =
  '```json\n{"steps": [{"worker": 1, "subtask": "Write it.", "access": []}, {"worker": "0", "subtask": "Check it.", "access": [0]}, {"worker": 2, "subtask": "Answer.", "access": "all"}]}\n```';

describe('numbered workers', () => {
  it('parseWorkflow reads ids and numbers to the same workflow; without the option numbers are bad_worker', () => {
    const expected = parseWorkflow(byIds).workflow;
    expect(expected?.steps.map((step) => step.worker)).toEqual(['coder', 'math', 'writer']);
    for (const text of [byIds, byNumbers, jsonByNumbers]) {
      const parsed = parseWorkflow(text, { numberedWorkers: ids });
      expect(parsed.ok, text).toBe(true);
      expect(parsed.workflow).toEqual(expected);
    }
    expect(parseWorkflow(byNumbers).issues.map((issue) => issue.code)).toContain('bad_worker');
    const outOfRange = parseWorkflow(byNumbers.replace('[1, 0, 2]', '[1, 3, 2]'), { numberedWorkers: ids });
    expect(outOfRange.ok).toBe(false);
    expect(outOfRange.issues[0]).toMatchObject({ code: 'bad_worker', step: 1 });
    expect(outOfRange.issues[0]?.message).toMatch(/0-2/);
  });

  it('a digit string that is itself an id stays that id', () => {
    const parsed = parseWorkflow("model_id: ['7', 0]\nsubtasks: ['a', 'b']\naccess_list: [[], [0]]", {
      numberedWorkers: ['x', 'y', 'z', 'q', 'r', 's', 't', '7'],
    });
    expect(parsed.workflow?.steps.map((step) => step.worker)).toEqual(['7', 'x']);
  });

  it('validateWorkflow reads integer workers as pool indices when asked', () => {
    const lists = { modelIds: [1, 0, 2], subtasks: ['a', 'b', 'c'], accessList: [[], [0], 'all'] };
    expect(validateWorkflow(lists, ids, { numberedWorkers: true })).toEqual({ ok: true, issues: [] });
    expect(validateWorkflow(lists, ids).issues.map((issue) => issue.code)).toEqual([
      'bad_worker',
      'bad_worker',
      'bad_worker',
    ]);
    const out = validateWorkflow({ ...lists, modelIds: [1, 9, 2] }, ids, { numberedWorkers: true });
    expect(out.issues.map((issue) => [issue.code, issue.step])).toEqual([['bad_worker', 1]]);
    const notAllowed = validateWorkflow(lists, ids, {
      numberedWorkers: true,
      allowedWorkers: ['math', 'coder'],
    });
    expect(notAllowed.issues.map((issue) => issue.code)).toEqual(['worker_not_allowed']);
  });

  it('buildConductorPrompt numbers the workers and shows the example with numbers', () => {
    const prompt = buildConductorPrompt({ question: 'Q?', pool: ids, numberedWorkers: true });
    expect(prompt).toMatch(/^0\. math$/m);
    expect(prompt).toMatch(/^2\. writer$/m);
    expect(prompt).toMatch(/model_id: \[<worker number>, \.\.\.\]/);
    expect(prompt).toMatch(/^model_id: \[0, 1, 0\]$/m);
    const plain = buildConductorPrompt({ question: 'Q?', pool: ids });
    expect(plain).toMatch(/^- math$/m);
    expect(plain).toMatch(/^model_id: \['math', 'coder', 'math'\]$/m);
    // Both forms of the example read back to the same workflow.
    const example = (text: string) => text.slice(text.indexOf('Example:'), text.indexOf('Question:'));
    expect(parseWorkflow(example(prompt), { numberedWorkers: ids }).workflow).toEqual(
      parseWorkflow(example(plain)).workflow,
    );
  });

  it('formatNumberedWorkflow round-trips through parseWorkflow in both formats', () => {
    const workflow = parseWorkflow(byIds).workflow!;
    for (const format of ['lists', 'json'] as const) {
      const text = formatNumberedWorkflow(workflow, format, ids);
      expect(text).not.toMatch(/coder|math|writer/);
      expect(parseWorkflow(text, { numberedWorkers: ids }).workflow).toEqual(workflow);
    }
    expect(
      buildRevisionPrompt({ previousWorkflow: workflow, previousAnswer: 'x', numberedWorkers: ids }),
    ).toContain('model_id: [1, 0, 2]');
  });

  it('runConductor with numberedWorkers runs a numbered plan on the right workers', async () => {
    const seen: string[] = [];
    const planner = {
      id: 'planner',
      async complete(request: { messages: { content?: unknown }[] }) {
        seen.push(String(request.messages[0]?.content));
        return { content: byNumbers };
      },
    };
    const workers = ids.map((id) => fakeWorker(id, { reply: () => `by ${id}` }));
    const result = await runConductor({ planner, pool: ids, workers, question: 'Q?', numberedWorkers: true });
    expect(result.stopReason).toBe('max_rounds');
    expect(result.answer).toBe('by writer');
    expect(result.rounds[0]?.execution?.trace.map((step) => step.ranBy)).toEqual(['coder', 'math', 'writer']);
    expect(seen[0]).toMatch(/^1\. coder$/m);
    // The same planner reply without the option is an invalid workflow.
    const plain = await runConductor({ planner, pool: ids, workers, question: 'Q?' });
    expect(plain.stopReason).toBe('invalid_workflow');
  });
});

describe("the client's tools in the planner prompt", () => {
  it('lists the offered tools with their first description line; none without tools', () => {
    const prompt = buildConductorPrompt({
      question: "What's the weather in Paris?",
      pool: ids,
      tools: [
        { name: 'get_weather', description: 'Current weather for a city.\nMore text.' },
        { name: 'noop' },
      ],
    });
    expect(prompt).toMatch(/Tools the user's application offers/);
    expect(prompt).toMatch(/^- get_weather: Current weather for a city\.$/m);
    expect(prompt).toMatch(/^- noop$/m);
    expect(prompt).not.toContain('More text.');
    expect(buildConductorPrompt({ question: 'Q?', pool: ids })).not.toMatch(/Tools the user/);
  });
});
