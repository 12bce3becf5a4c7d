/**
 * `parseWorkflow`: reads a planner's output — the paper's three labelled lists or a JSON `steps` array — the
 * way real model output needs (labels in any case, prose and code fences around the lists, Python literals,
 * smart quotes, `"all"` / `["all"]`), and reports every problem as a typed issue. Total and linear-time.
 */
import {
  DEFAULT_MAX_WORKFLOW_STEPS,
  type StepAccess,
  type Workflow,
  type WorkflowStep,
} from '@openfugu/schema';
import { type Literal, readLiteral } from './literal.js';
import type { ParseWorkflowResult, WorkflowFormat, WorkflowIssue } from './types.js';

/** Options of `parseWorkflow`. */
export interface ParseWorkflowOptions {
  /** Most steps allowed; more is a `too_many_steps` error (the workflow keeps every step). Default 5. */
  maxSteps?: number;
  /**
   * The numbered worker list the planner was shown (`buildConductorPrompt({ numberedWorkers: true })`), ids
   * in order. With it, a worker written as an integer (`model_id: [1, 0, 2]`, the form of planners trained
   * on the paper's prompts) or as a string of digits is read as that entry's id; an index outside the list is
   * `bad_worker`. Without it, integers are `bad_worker` as before. A digit string that is itself an id wins.
   */
  numberedWorkers?: readonly string[];
}

type ListKind = 'workers' | 'subtasks' | 'access' | 'steps';

// Longer spellings first so `access_list` is not read as `access`. Each alternative is a fixed string or a
// single optional separator: no nested quantifiers, so matching is linear.
const LABEL =
  /model[ _-]?ids?|worker[ _-]?ids?|agent[ _-]?ids?|models?|workers?|agents?|sub[ _-]?tasks?|tasks|instructions|access[ _-]?lists?|accesses|access|steps/gi;

function labelKind(label: string): ListKind {
  const lower = label.toLowerCase();
  if (lower.startsWith('model') || lower.startsWith('worker') || lower.startsWith('agent')) return 'workers';
  if (lower.startsWith('access')) return 'access';
  if (lower === 'steps') return 'steps';
  return 'subtasks';
}

/** How many labelled candidates per kind are tried before giving up (keeps the parser linear). */
const ATTEMPTS_PER_KIND = 4;

interface Found {
  value: Literal[];
  lenient: boolean;
}

interface Scan {
  lists: Partial<Record<ListKind, Found>>;
  failures: Partial<Record<ListKind, string>>;
}

const SMART_QUOTES = /[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]|[\u2018\u2019\u201a\u201b\u2032]/g;

function normaliseQuotes(text: string): string {
  return text.replace(SMART_QUOTES, (char) => ('\u2018\u2019\u201a\u201b\u2032'.includes(char) ? "'" : '"'));
}

function isIdentifierChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9_]/.test(char);
}

/** Finds, for each kind, the first label followed by `:`/`=` and a readable list. */
function scanLabels(text: string): Scan {
  const scan: Scan = { lists: {}, failures: {} };
  const attempts: Record<ListKind, number> = { workers: 0, subtasks: 0, access: 0, steps: 0 };
  LABEL.lastIndex = 0;
  for (let match = LABEL.exec(text); match !== null; match = LABEL.exec(text)) {
    const start = match.index;
    let position = start + match[0].length;
    if (isIdentifierChar(text[start - 1]) || isIdentifierChar(text[position])) continue;
    const kind = labelKind(match[0]);
    if (scan.lists[kind] !== undefined || attempts[kind] >= ATTEMPTS_PER_KIND) continue;
    // Closing quotes / markdown emphasis around the label, then `:` or `=`.
    while (position < text.length && /["'`*_ \t]/.test(text[position]!)) position++;
    const separator = text[position];
    if (separator !== ':' && separator !== '=' && separator !== '\uff1a') continue;
    position++;
    while (position < text.length && /[\s`*]/.test(text[position]!)) {
      // A code fence opened after the label may name a language: model_id:\n```python\n[...]
      if (text.startsWith('```', position)) {
        position += 3;
        while (position < text.length && /[A-Za-z]/.test(text[position]!)) position++;
        continue;
      }
      position++;
    }
    const opener = text[position];
    if (opener !== '[' && opener !== '(') continue;
    attempts[kind]++;
    const result = readLiteral(text, position);
    if (result.ok && Array.isArray(result.value)) {
      scan.lists[kind] = { value: result.value, lenient: result.lenient };
      LABEL.lastIndex = Math.max(LABEL.lastIndex, result.end);
    } else if (!result.ok) {
      scan.failures[kind] ??= `${match[0]}: ${result.message} (at character ${result.end})`;
    }
  }
  return scan;
}

/** A bare JSON array of step objects (`[{"worker": ...}, ...]`), tried at its first few openings. */
function scanStepArray(text: string): Found | undefined {
  const opening = /\[\s{0,64}\{/g;
  let tries = 0;
  for (
    let match = opening.exec(text);
    match !== null && tries < ATTEMPTS_PER_KIND;
    match = opening.exec(text)
  ) {
    tries++;
    const result = readLiteral(text, match.index);
    if (result.ok && Array.isArray(result.value) && result.value.some(isRecord)) {
      return { value: result.value, lenient: result.lenient };
    }
    if (result.ok) opening.lastIndex = Math.max(opening.lastIndex, result.end);
  }
  return undefined;
}

function isRecord(value: unknown): value is { [key: string]: Literal } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick(record: { [key: string]: Literal }, names: readonly string[]): Literal | undefined {
  for (const key of Object.keys(record)) {
    const normalised = key.toLowerCase().replace(/[\s_-]/g, '');
    if (names.includes(normalised)) return record[key];
  }
  return undefined;
}

const WORKER_KEYS = ['worker', 'workerid', 'model', 'modelid', 'agent', 'agentid'];
const SUBTASK_KEYS = ['subtask', 'task', 'instruction', 'prompt'];
const ACCESS_KEYS = ['access', 'accesslist', 'inputs', 'dependson', 'sees', 'visible'];

class Collector {
  readonly issues: WorkflowIssue[] = [];

  constructor(private readonly numbered?: readonly string[]) {}

  add(issue: WorkflowIssue): void {
    this.issues.push(issue);
  }

  worker(value: Literal | undefined, step: number, path: string): string {
    const numbered = this.numbered;
    if (numbered !== undefined) {
      const text = typeof value === 'string' ? value.trim() : undefined;
      const index =
        typeof value === 'number'
          ? value
          : text !== undefined && /^\d+$/.test(text) && !numbered.includes(text)
            ? Number(text)
            : undefined;
      if (index !== undefined) {
        const id = Number.isInteger(index) ? numbered[index] : undefined;
        if (id !== undefined) return id;
        this.add({
          code: 'bad_worker',
          severity: 'error',
          step,
          path,
          message: `step ${step}: worker number ${describe(value)} is not in the numbered list 0-${numbered.length - 1}`,
        });
        return String(value);
      }
    }
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    this.add({
      code: 'bad_worker',
      severity: 'error',
      step,
      path,
      message: `step ${step}: worker must be ${numbered ? 'a worker number or ' : ''}a non-empty string, got ${describe(value)}`,
    });
    return typeof value === 'string' ? value : String(value ?? '');
  }

  subtask(value: Literal | undefined, step: number, path: string): string {
    if (typeof value === 'string') {
      if (value.trim() === '') {
        this.add({
          code: 'bad_subtask',
          severity: 'error',
          step,
          path,
          message: `step ${step}: empty subtask`,
        });
      }
      return value.trim();
    }
    if (typeof value === 'number' || typeof value === 'boolean') {
      this.add({
        code: 'coerced_value',
        severity: 'warning',
        step,
        path,
        message: `step ${step}: subtask ${String(value)} read as text`,
      });
      return String(value);
    }
    this.add({
      code: 'bad_subtask',
      severity: 'error',
      step,
      path,
      message: `step ${step}: subtask must be a string, got ${describe(value)}`,
    });
    return '';
  }

  /** Normalises one access entry; unreadable entries become `[]` with a `bad_access` error. */
  access(value: Literal | undefined, step: number, path: string, nested = false): StepAccess {
    if (value === null || value === undefined) return [];
    if (typeof value === 'string') {
      const lower = value.trim().toLowerCase();
      if (lower === 'all') return 'all';
      if (lower === '' || lower === 'none') return [];
      if (lower.startsWith('[') && !nested) {
        // A list written as a string (`"access": "[0, 1]"`): read it once.
        const inner = readLiteral(lower, 0);
        if (inner.ok && Array.isArray(inner.value)) {
          this.coerced(step, path, `access ${JSON.stringify(value)} read as a list`);
          return this.access(inner.value, step, path, true);
        }
      }
      const index = indexFrom(value);
      if (index !== undefined) {
        this.coerced(step, path, `access ${JSON.stringify(value)} read as [${index}]`);
        return [index];
      }
      this.badAccess(step, path, value);
      return [];
    }
    if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= 0) return [value];
      this.badAccess(step, path, value);
      return [];
    }
    if (!Array.isArray(value)) {
      this.badAccess(step, path, value);
      return [];
    }
    const isAll = (item: Literal): boolean => typeof item === 'string' && item.trim().toLowerCase() === 'all';
    if (value.some(isAll)) {
      // `['all']` means every earlier step (the reference resolved it to nothing).
      if (value.length > 1) this.coerced(step, path, `access ${describe(value)} read as "all"`);
      return 'all';
    }
    const indices: number[] = [];
    let bad = false;
    for (const item of value) {
      if (typeof item === 'number' && Number.isInteger(item) && item >= 0) indices.push(item);
      else if (typeof item === 'string' && indexFrom(item) !== undefined) {
        indices.push(indexFrom(item)!);
        this.coerced(step, path, `access entry ${JSON.stringify(item)} read as ${indexFrom(item)}`);
      } else bad = true;
    }
    if (bad) this.badAccess(step, path, value);
    const unique = [...new Set(indices)].sort((a, b) => a - b);
    if (unique.length !== indices.length) this.coerced(step, path, 'duplicate access indices removed');
    return unique;
  }

  coerced(step: number, path: string, message: string): void {
    this.add({ code: 'coerced_value', severity: 'warning', step, path, message: `step ${step}: ${message}` });
  }

  badAccess(step: number, path: string, value: Literal): void {
    this.add({
      code: 'bad_access',
      severity: 'error',
      step,
      path,
      message: `step ${step}: access must be "all" or a list of earlier 0-based step indices, got ${describe(value)}`,
    });
  }
}

function indexFrom(text: string): number | undefined {
  const match = /^\s*(?:step\s*)?(\d{1,9})\s*$/i.exec(text);
  return match ? Number(match[1]) : undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Structural checks shared with the validator: step count and references to earlier steps only. */
export function structuralIssues(workflow: Workflow, maxSteps: number): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const count = workflow.steps.length;
  if (count === 0) {
    issues.push({
      code: 'empty_workflow',
      severity: 'error',
      path: '/steps',
      message: 'the workflow has no step',
    });
  }
  if (count > maxSteps) {
    issues.push({
      code: 'too_many_steps',
      severity: 'error',
      path: '/steps',
      message: `${count} steps; at most ${maxSteps} are allowed (nothing was cut)`,
    });
  }
  workflow.steps.forEach((step, index) => {
    if (step.access === 'all') return;
    const ahead = step.access.filter((target) => target >= index);
    if (ahead.length > 0) {
      issues.push({
        code: 'forward_reference',
        severity: 'error',
        step: index,
        path: `/steps/${index}/access`,
        message: `step ${index} may only see earlier steps (0..${index - 1}), not ${ahead.join(', ')} (indices are 0-based)`,
      });
    }
  });
  return issues;
}

function fromLists(
  workers: Found,
  subtasks: Found,
  access: Found,
  collector: Collector,
): Workflow | undefined {
  const lengths = [workers.value.length, subtasks.value.length, access.value.length];
  if (lengths[0] !== lengths[1] || lengths[1] !== lengths[2]) {
    collector.add({
      code: 'unequal_lengths',
      severity: 'error',
      path: '',
      message: `the lists must have equal lengths: model_id ${lengths[0]}, subtasks ${lengths[1]}, access_list ${lengths[2]}`,
    });
    return undefined;
  }
  const steps: WorkflowStep[] = workers.value.map((worker, index) => ({
    worker: collector.worker(worker, index, `/model_id/${index}`),
    subtask: collector.subtask(subtasks.value[index], index, `/subtasks/${index}`),
    access: collector.access(access.value[index], index, `/access_list/${index}`),
  }));
  return { steps };
}

function fromSteps(found: Found, collector: Collector): Workflow {
  const steps: WorkflowStep[] = found.value.map((item, index) => {
    const path = `/steps/${index}`;
    if (!isRecord(item)) {
      collector.add({
        code: 'bad_worker',
        severity: 'error',
        step: index,
        path,
        message: `step ${index} is not an object: ${describe(item)}`,
      });
      return { worker: '', subtask: '', access: [] };
    }
    const accessValue = pick(item, ACCESS_KEYS);
    if (accessValue === undefined) {
      collector.add({
        code: 'missing_access',
        severity: 'warning',
        step: index,
        path: `${path}/access`,
        message: `step ${index} has no access; read as []`,
      });
    }
    return {
      worker: collector.worker(pick(item, WORKER_KEYS), index, `${path}/worker`),
      subtask: collector.subtask(pick(item, SUBTASK_KEYS), index, `${path}/subtask`),
      access: collector.access(accessValue, index, `${path}/access`),
    };
  });
  return { steps };
}

function looksLikeCode(text: string): boolean {
  return /```|^[ \t]*(def |class |import |from \S+ import |function |const |let |print\()/m.test(text);
}

interface Attempt {
  result: ParseWorkflowResult;
  /** 0 nothing found, 1 some lists, 2 a workflow. */
  rank: number;
}

function parseRegion(text: string, maxSteps: number, numbered?: readonly string[]): Attempt {
  const collector = new Collector(numbered);
  const scan = scanLabels(text);
  const finish = (workflow: Workflow | undefined, format: WorkflowFormat, lenient: boolean): Attempt => {
    if (workflow) collector.issues.push(...structuralIssues(workflow, maxSteps));
    if (lenient) {
      collector.add({
        code: 'coerced_value',
        severity: 'warning',
        path: '',
        message: 'lists were read leniently (bare words, stray quotes or missing commas)',
      });
    }
    const ok = workflow !== undefined && !collector.issues.some((issue) => issue.severity === 'error');
    const result: ParseWorkflowResult = { ok, issues: collector.issues, format };
    if (workflow) result.workflow = workflow;
    return { result, rank: workflow ? 2 : 1 };
  };

  // A labelled JSON form first: its step objects contain `"access": [...]`, which would otherwise look like a
  // list label. Then the three labelled lists, when all are there — before a bare `[{…` found by scanning, which
  // may sit inside one of their strings (a subtask `'[{}'`).
  const labelled = scan.lists.steps?.value.some(isRecord) ? scan.lists.steps : undefined;
  if (labelled) return finish(fromSteps(labelled, collector), 'json', labelled.lenient);

  const { workers, subtasks, access } = scan.lists;
  if (workers && subtasks && access) {
    return finish(
      fromLists(workers, subtasks, access, collector),
      'lists',
      workers.lenient || subtasks.lenient || access.lenient,
    );
  }
  const steps = scanStepArray(text);
  if (steps?.value.some(isRecord)) return finish(fromSteps(steps, collector), 'json', steps.lenient);
  const names: Record<'workers' | 'subtasks' | 'access', string> = {
    workers: 'model_id',
    subtasks: 'subtasks',
    access: 'access_list',
  };
  const kinds = ['workers', 'subtasks', 'access'] as const;
  const anyList = kinds.some((kind) => scan.lists[kind] !== undefined || scan.failures[kind] !== undefined);
  if (!anyList) {
    collector.add({
      code: 'not_a_workflow',
      severity: 'error',
      path: '',
      message: looksLikeCode(text)
        ? 'no workflow found: the output looks like code or a direct answer, not model_id/subtasks/access_list lists'
        : 'no workflow found: expected model_id: [...], subtasks: [...], access_list: [...] (or JSON steps)',
    });
    return { result: { ok: false, issues: collector.issues, format: 'none' }, rank: 0 };
  }
  for (const kind of kinds) {
    if (scan.lists[kind] !== undefined) continue;
    const failure = scan.failures[kind];
    collector.add(
      failure
        ? { code: 'malformed_list', severity: 'error', path: `/${names[kind]}`, message: failure }
        : {
            code: 'missing_list',
            severity: 'error',
            path: `/${names[kind]}`,
            message: `no ${names[kind]} list found`,
          },
    );
  }
  return { result: { ok: false, issues: collector.issues, format: 'lists' }, rank: 1 };
}

/**
 * Parses a planner's output into a workflow, tolerantly, reporting every problem as a typed issue.
 *
 * Reads the paper's three lists (`model_id: [...]`, `subtasks: [...]`, `access_list: [...]`; labels in any
 * case, quoted or not, `:` or `=`, prose and code fences around them; the first readable list after each
 * label) or a JSON `{"steps": [{"worker", "subtask", "access"}]}`. When the output has a `</think>` or an
 * `<answer>` block, the text after the thinking / inside the answer is preferred. Access entries: `"all"`,
 * `["all"]` → `'all'`; `[]`, `None` → `[]`; indices (0-based) kept as written, so a forward reference is
 * reported, not dropped.
 *
 * `workflow` is returned whenever the text decodes to one — also with errors such as `too_many_steps` (nothing
 * is cut) — so check `ok` before running it. Never throws; time is linear in the text length.
 *
 * @example
 * ```ts
 * const { workflow, ok, issues } = parseWorkflow(`model_id: ['math', 'writer']
 * subtasks: ['Solve it', 'Write the final answer']
 * access_list: [[], ['all']]`);
 * // ok === true; workflow.steps[1].access === 'all'
 * ```
 */
export function parseWorkflow(text: string, options: ParseWorkflowOptions = {}): ParseWorkflowResult {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_WORKFLOW_STEPS;
  if (typeof text !== 'string' || text.trim() === '') {
    return {
      ok: false,
      format: 'none',
      issues: [{ code: 'empty_input', severity: 'error', path: '', message: 'the planner output is empty' }],
    };
  }
  const normalised = normaliseQuotes(text);
  const regions: string[] = [];
  const answer = /<answer>([\s\S]*?)(?:<\/answer>|$)/i.exec(normalised);
  if (answer?.[1] !== undefined) regions.push(answer[1]);
  const thinkEnd = normalised.lastIndexOf('</think>');
  if (thinkEnd !== -1) regions.push(normalised.slice(thinkEnd + '</think>'.length));
  regions.push(normalised);
  let best: Attempt | undefined;
  for (const region of regions) {
    const attempt = parseRegion(region, maxSteps, options.numberedWorkers);
    if (attempt.rank === 2) return attempt.result;
    if (best === undefined || attempt.rank > best.rank) best = attempt;
  }
  return best!.result;
}
