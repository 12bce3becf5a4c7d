import type { WorkerDescriptor, Workflow } from '@openfugu/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WorkflowLists } from './types.js';
import { validateWorkflow } from './validate.js';

const descriptors: WorkerDescriptor[] = [
  { id: 'math', model: 'qwen2.5-math-72b', description: 'maths' },
  { id: 'coder', model: 'qwen2.5-coder-32b' },
  { id: 'writer', model: 'gpt-4o-mini', price: { input: 0.15, output: 0.6 } },
];

const codes = (result: { issues: { code: string; severity: string }[] }): string[] =>
  result.issues.filter((issue) => issue.severity === 'error').map((issue) => issue.code);

const good: Workflow = {
  steps: [
    { worker: 'math', subtask: 'solve', access: [] },
    { worker: 'coder', subtask: 'check by code', access: [] },
    { worker: 'writer', subtask: 'answer', access: 'all' },
  ],
};

describe('validateWorkflow', () => {
  it('accepts a valid workflow against descriptors or plain ids', () => {
    expect(validateWorkflow(good, descriptors)).toEqual({ ok: true, issues: [] });
    expect(validateWorkflow(good, ['math', 'coder', 'writer']).ok).toBe(true);
  });

  it('reports unknown workers, with a hint for a case slip', () => {
    const result = validateWorkflow(
      {
        steps: [
          { worker: 'Math', subtask: 'x', access: [] },
          { worker: 'gpt-5', subtask: 'y', access: [0] },
        ],
      },
      descriptors,
    );
    expect(codes(result)).toEqual(['unknown_worker', 'unknown_worker']);
    expect(result.issues[0]?.message).toContain("did you mean 'math'");
    expect(result.issues[1]).toMatchObject({ step: 1, path: '/steps/1/worker' });
  });

  it('enforces the allowed subset (k-of-n pools)', () => {
    const result = validateWorkflow(good, descriptors, { allowedWorkers: ['math', 'writer'] });
    expect(codes(result)).toEqual(['worker_not_allowed']);
    expect(result.issues[0]?.step).toBe(1);
  });

  it('requires access to earlier steps only', () => {
    const result = validateWorkflow(
      {
        steps: [
          { worker: 'math', subtask: 'a', access: [0] },
          { worker: 'math', subtask: 'b', access: [0, 3] },
        ],
      },
      descriptors,
    );
    expect(codes(result)).toEqual(['forward_reference', 'forward_reference']);
  });

  it('rejects malformed access, empty subtasks, empty and too long workflows', () => {
    const bad = {
      steps: [{ worker: 'math', subtask: ' ', access: [-1] as unknown as number[] }],
    };
    expect(codes(validateWorkflow(bad, descriptors))).toEqual(['bad_subtask', 'bad_access']);
    expect(codes(validateWorkflow({ steps: [] }, descriptors))).toEqual(['empty_workflow']);
    const six: Workflow = {
      steps: Array.from({ length: 6 }, () => ({ worker: 'math', subtask: 'x', access: 'all' as const })),
    };
    expect(codes(validateWorkflow(six, descriptors))).toEqual(['too_many_steps']);
    expect(validateWorkflow(six, descriptors, { maxSteps: 6 }).ok).toBe(true);
  });

  it('checks the three-list form for equal lengths', () => {
    const lists: WorkflowLists = { modelIds: ['math', 'coder'], subtasks: ['a'], accessList: [[], [0]] };
    expect(codes(validateWorkflow(lists, descriptors))).toEqual(['unequal_lengths']);
    const equal: WorkflowLists = {
      modelIds: ['math', 'coder'],
      subtasks: ['a', 'b'],
      accessList: [[], 'all'],
    };
    expect(validateWorkflow(equal, descriptors).ok).toBe(true);
  });

  it('is total on arbitrary values', () => {
    fc.assert(
      fc.property(fc.anything(), fc.array(fc.oneof(fc.string(), fc.anything())), (value, pool) => {
        const result = validateWorkflow(value as Workflow, pool as string[]);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});
