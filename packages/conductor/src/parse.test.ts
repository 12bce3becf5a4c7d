import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Workflow } from '@openfugu/schema';
import { expectNotQuadratic } from '@openfugu/vitest-config/linear-time';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWorkflow } from './parse.js';
import { formatWorkflow } from './prompt.js';
import { validateWorkflow } from './validate.js';

const fixtures = join(import.meta.dirname, '__fixtures__');

interface Expected {
  ok: boolean;
  format: string;
  steps?: number;
  access?: unknown[];
  parseErrors: string[];
  validateErrors?: string[];
}

const manifest = JSON.parse(readFileSync(join(fixtures, 'planner-outputs.expected.json'), 'utf8')) as {
  pool: string[];
  cases: Record<string, Expected>;
};

const errors = (issues: { code: string; severity: string }[]): string[] =>
  issues.filter((issue) => issue.severity === 'error').map((issue) => issue.code);

describe('parseWorkflow on planner outputs written the way models write', () => {
  it('has an expectation for every fixture file', () => {
    expect(readdirSync(join(fixtures, 'planner-outputs')).sort()).toEqual(Object.keys(manifest.cases).sort());
  });

  for (const [file, expected] of Object.entries(manifest.cases)) {
    it(file, () => {
      const text = readFileSync(join(fixtures, 'planner-outputs', file), 'utf8');
      const parsed = parseWorkflow(text);
      expect(parsed.ok).toBe(expected.ok);
      expect(parsed.format).toBe(expected.format);
      expect(errors(parsed.issues)).toEqual(expected.parseErrors);
      if (expected.steps === undefined) {
        expect(parsed.workflow).toBeUndefined();
        return;
      }
      expect(parsed.workflow?.steps).toHaveLength(expected.steps);
      if (expected.access) expect(parsed.workflow?.steps.map((step) => step.access)).toEqual(expected.access);
      if (expected.validateErrors && parsed.workflow) {
        expect(errors(validateWorkflow(parsed.workflow, manifest.pool).issues)).toEqual(
          expected.validateErrors,
        );
      }
    });
  }
});

describe('parseWorkflow details', () => {
  it("reads ['all'] and \"all\" as every earlier step (the reference resolved ['all'] to nothing)", () => {
    const parsed = parseWorkflow(
      "model_id: ['a', 'b', 'c']\nsubtasks: ['x', 'y', 'z']\naccess_list: [[], ['all'], \"all\"]",
    );
    expect(parsed.workflow?.steps.map((step) => step.access)).toEqual([[], 'all', 'all']);
  });

  it('keeps every step of a long workflow and reports too_many_steps (never a silent cut)', () => {
    const workers = Array.from({ length: 9 }, (_, index) => `'w${index}'`).join(', ');
    const subtasks = Array.from({ length: 9 }, (_, index) => `'t${index}'`).join(', ');
    const access = Array.from({ length: 9 }, () => '[]').join(', ');
    const parsed = parseWorkflow(`model_id: [${workers}]\nsubtasks: [${subtasks}]\naccess_list: [${access}]`);
    expect(parsed.workflow?.steps).toHaveLength(9);
    expect(parsed.ok).toBe(false);
    expect(parsed.issues.map((issue) => issue.code)).toContain('too_many_steps');
    expect(
      parseWorkflow(`model_id: [${workers}]\nsubtasks: [${subtasks}]\naccess_list: [${access}]`, {
        maxSteps: 9,
      }).ok,
    ).toBe(true);
  });

  it('flags a step that sees itself as a forward reference', () => {
    const parsed = parseWorkflow("model_id: ['a', 'b']\nsubtasks: ['x', 'y']\naccess_list: [[], [1]]");
    expect(parsed.issues).toContainEqual(expect.objectContaining({ code: 'forward_reference', step: 1 }));
  });

  it('accepts Python literals: tuples, True/None, trailing commas, comments, = as separator', () => {
    const parsed = parseWorkflow(
      "model_ids = ('a', 'b',)  # workers\nsub_tasks = ['x', '''multi\nline''']\naccess = [None, (0,)]",
    );
    expect(parsed.ok).toBe(true);
    expect(parsed.workflow?.steps).toEqual([
      { worker: 'a', subtask: 'x', access: [] },
      { worker: 'b', subtask: 'multi\nline', access: [0] },
    ]);
  });

  it('reads the three lists written as one JSON object', () => {
    const parsed = parseWorkflow(
      '{"model_id": ["a", "b"], "subtasks": ["x", "y"], "access_list": [[], "all"]}',
    );
    expect(parsed.format).toBe('lists');
    expect(parsed.workflow?.steps[1]?.access).toBe('all');
  });

  it('reads a bare JSON array of steps with alias keys, warning when access is missing', () => {
    const parsed = parseWorkflow(
      '[{"model": "a", "task": "x"}, {"agent": "b", "instruction": "y", "depends_on": [0]}]',
    );
    expect(parsed.format).toBe('json');
    expect(parsed.ok).toBe(true);
    expect(parsed.workflow?.steps).toEqual([
      { worker: 'a', subtask: 'x', access: [] },
      { worker: 'b', subtask: 'y', access: [0] },
    ]);
    expect(parsed.issues.map((issue) => issue.code)).toEqual(['missing_access']);
  });

  it('reads access lists written as strings, and finds steps after a prose "steps: [1]"', () => {
    const parsed = parseWorkflow(
      'The steps: [1] solve, [2] answer.\n[{"worker": "a", "subtask": "x", "access": []}, {"worker": "b", "subtask": "y", "access": "[0]"}]',
    );
    expect(parsed.format).toBe('json');
    expect(parsed.ok).toBe(true);
    expect(parsed.workflow?.steps[1]?.access).toEqual([0]);
  });

  it('reads full-width colons and lists in their own fenced blocks', () => {
    const parsed = parseWorkflow(
      "model_id：['a']\nsubtasks:\n```python\n['x']\n```\naccess_list:\n```json\n[[]]\n```",
    );
    expect(parsed.ok).toBe(true);
    expect(parsed.workflow?.steps).toEqual([{ worker: 'a', subtask: 'x', access: [] }]);
  });

  it('prefers the <answer> block', () => {
    const parsed = parseWorkflow(
      "model_id: ['draft']\nsubtasks: ['x']\naccess_list: [[]]\n<answer>model_id: ['final']\nsubtasks: ['y']\naccess_list: [[]]</answer>",
    );
    expect(parsed.workflow?.steps[0]?.worker).toBe('final');
  });

  it('skips labels in prose that are not followed by a list', () => {
    const parsed = parseWorkflow(
      "I will fill model_id, subtasks and access_list. The access: it matters.\nmodel_id: ['a']\nsubtasks: ['x']\naccess_list: [[]]",
    );
    expect(parsed.ok).toBe(true);
  });

  it('reports a malformed list', () => {
    const parsed = parseWorkflow("model_id: ['a', 'b'\nsubtasks: ['x', 'y']\naccess_list: [[], [0]]");
    expect(parsed.ok).toBe(false);
    expect(errors(parsed.issues)).toContain('malformed_list');
  });

  it('rejects empty input and non-workflow prose', () => {
    expect(errors(parseWorkflow('').issues)).toEqual(['empty_input']);
    expect(errors(parseWorkflow('The answer is 42.').issues)).toEqual(['not_a_workflow']);
  });

  it('reports an empty workflow', () => {
    const parsed = parseWorkflow('model_id: []\nsubtasks: []\naccess_list: []');
    expect(errors(parsed.issues)).toEqual(['empty_workflow']);
  });

  it('reports non-string workers and subtasks', () => {
    const parsed = parseWorkflow("model_id: [1, 'b']\nsubtasks: [[], '']\naccess_list: [[], [0]]");
    expect(errors(parsed.issues)).toEqual(['bad_worker', 'bad_subtask', 'bad_subtask']);
  });
});

const stepArbitrary = fc.record({
  worker: fc.string({ minLength: 1, maxLength: 12 }).filter((text) => text.trim() === text && text !== ''),
  subtask: fc.string({ minLength: 1, maxLength: 40 }).filter((text) => text.trim() === text && text !== ''),
  access: fc.oneof(fc.constant('all' as const), fc.array(fc.nat({ max: 8 }), { maxLength: 4 })),
});

function canonical(workflow: Workflow): Workflow {
  return {
    steps: workflow.steps.map((step, index) => ({
      ...step,
      access:
        step.access === 'all'
          ? 'all'
          : [...new Set(step.access.map((target) => Math.min(target, Math.max(0, index - 1))))]
              .filter((target) => target < index)
              .sort((a, b) => a - b),
    })),
  };
}

describe('parseWorkflow properties', () => {
  it('reads complete lists even when a subtask holds a bare-JSON-like "[{" (a counterexample fast-check found)', () => {
    const workflow = {
      steps: [
        { worker: '!', subtask: '[{}', access: [] },
        { worker: '!', subtask: '-', access: [] },
      ],
    };
    const parsed = parseWorkflow(formatWorkflow(workflow, 'lists'));
    expect(parsed.format).toBe('lists');
    expect(parsed.workflow).toEqual(workflow);
    expect(parsed.ok).toBe(true);
  });

  it('round-trips formatWorkflow in both formats', () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('lists', 'json'),
        (steps, format) => {
          const workflow = canonical({ steps });
          const parsed = parseWorkflow(formatWorkflow(workflow, format as 'lists' | 'json'));
          expect(parsed.workflow).toEqual(workflow);
          expect(parsed.ok).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is total on arbitrary strings: always a result with issues or a workflow, never a throw', () => {
    const alphabet = fc.constantFrom(
      ...'[](){}\'"“”‘’,:=#\\ \nallmodel_idsubtasksaccess_list0123TrueNone`<>/'.split(''),
    );
    const noisy = fc.array(alphabet, { maxLength: 200 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }), noisy),
        (text) => {
          const parsed = parseWorkflow(text);
          expect(Array.isArray(parsed.issues)).toBe(true);
          expect(parsed.ok).toBe(
            parsed.workflow !== undefined && !parsed.issues.some((issue) => issue.severity === 'error'),
          );
          if (!parsed.workflow) expect(parsed.issues.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('survives labelled prefixes followed by arbitrary tails', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (tail, tail2) => {
        const parsed = parseWorkflow(`model_id: [${tail}\nsubtasks: [${tail2}\naccess_list: [[${tail}`);
        expect(parsed.issues.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseWorkflow on 1 MB adversarial inputs (no throw, no stack overflow, no quadratic blowup)', () => {
  const MB = 1 << 20;
  const fillTo =
    (size: number) =>
    (unit: string, prefix = ''): string =>
      prefix + unit.repeat(Math.ceil((size - prefix.length) / unit.length));
  type Fill = (unit: string, prefix?: string) => string;
  const cases: Record<string, (fill: Fill) => string> = {
    'deep nesting': (fill) => fill('['),
    'deep nesting after a label': (fill) => fill('[', 'model_id: '),
    'unterminated string after each label': (fill) =>
      `model_id: ['${fill('a')}\nsubtasks: ['x'\naccess_list: ['`,
    'repeated labels without lists': (fill) => fill('model_id: subtasks: access_list: '),
    'repeated labels with broken lists': (fill) =>
      fill('model_id: [\'a\', subtasks: ["b", access_list: [[0, '),
    'many quotes': (fill) => fill("'"),
    'apostrophes followed by words': (fill) => fill("model_id: ['it's "),
    whitespace: (fill) => fill(' \n\t'),
    'newlines then code marker': (fill) => `${fill('\n')}def x`,
    'open braces': (fill) => fill('{'),
    'array of braces': (fill) => fill('[{'),
    'huge valid workflow': (fill) => `model_id: [${fill("'a', ")}'a']`,
    'long think block': (fill) => `<think>${fill('model_id: [')}</think>`,
    'smart quotes': (fill) => fill('“‘”’'),
    numbers: (fill) => fill('0, '),
    'answer tags': (fill) => fill('<answer>'),
  };
  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      // A quadratic parser would take minutes on a megabyte; the guard is far above a loaded machine's time.
      expect(expectNotQuadratic(make(fillTo(MB)), parseWorkflow).issues.length).toBeGreaterThan(0);
    });
  }

  it('a valid workflow at the end of 1 MB of noise is still found', () => {
    const text = `${'noise [ ( { "'.repeat(MB / 16)}\nmodel_id: ['a']\nsubtasks: ['x']\naccess_list: [[]]`;
    const parsed = parseWorkflow(text);
    expect(parsed.ok).toBe(true);
    expect(parsed.workflow?.steps).toEqual([{ worker: 'a', subtask: 'x', access: [] }]);
  });
});
