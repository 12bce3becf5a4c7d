/**
 * Planner prompts. The builder takes only the question, the pool and options — there is no parameter through
 * which gold answers or gold tool names could reach the planner (the reference leaked gold tool names). The
 * tools a client offers in its own request are not gold: `tools` shows them, so the planner can plan for them.
 */
import {
  type ChatMessage,
  DEFAULT_MAX_WORKFLOW_STEPS,
  InvalidArgumentError,
  type Workflow,
  type WorkflowStep,
} from '@openfugu/schema';
import { normalisePool } from './pool.js';
import type { PoolInput, PoolMemberInfo, WorkflowFormat } from './types.js';

/** Options of `buildConductorPrompt`. Deliberately closed: question, pool and presentation settings only. */
export interface ConductorPromptOptions {
  /** The user's question, verbatim. */
  question: string;
  /** The workers the planner may use: ids or descriptors (the request's allowed subset for k-of-n pools). */
  pool: PoolInput;
  /** Output format asked for. Default `'lists'` (the paper's three lists). */
  format?: WorkflowFormat;
  /** Most steps allowed. Default 5. */
  maxSteps?: number;
  /** Show each worker's price per 1M tokens. Default false. */
  includePrices?: boolean;
  /**
   * Number the workers (0, 1, …) and ask for worker numbers in `model_id`, the form planners trained on the
   * paper's prompts write (`model_id: [1, 0, 2]`). Parse the reply with `parseWorkflow(text, { numberedWorkers:
   * poolIds(pool) })`. Default false (worker ids).
   */
  numberedWorkers?: boolean;
  /**
   * The tools the client's request offers (name and description), which the workflow's last step can call.
   * Default none (no tools section).
   */
  tools?: readonly { name: string; description?: string }[];
}

/** One line per worker: id, display name, first line of its description, optional prices. */
function poolLine(member: PoolMemberInfo, includePrices: boolean, number?: number): string {
  const name = member.name ?? member.model;
  const strengths = member.description?.split('\n', 1)[0]?.trim().slice(0, 200);
  let line = number === undefined ? `- ${member.id}` : `${number}. ${member.id}`;
  if (name && name !== member.id) line += ` (${name})`;
  if (strengths) line += `: ${strengths}`;
  if (includePrices && member.price) {
    line += ` [$${member.price.input} input / $${member.price.output} output per 1M tokens]`;
  }
  return line;
}

const listsFormat = (
  numbered: boolean,
): string => `Output format — after any reasoning, end your reply with exactly three Python lists of equal length:
model_id: [${numbered ? '<worker number>' : "'<worker id>'"}, ...]
subtasks: ['<instruction for that worker>', ...]
access_list: [<access of step 0>, <access of step 1>, ...]`;

const jsonFormat = (
  numbered: boolean,
): string => `Output format — after any reasoning, end your reply with one JSON object:
{"steps": [{"worker": ${numbered ? '<worker number>' : '"<worker id>"'}, "subtask": "<instruction for that worker>", "access": [] | [0, 1] | "all"}, ...]}`;

/**
 * Builds the planner's prompt: the pool, the rules and the output format.
 *
 * The rules say: steps are numbered from 0; a step sees the user's question, its own subtask, and the
 * subtasks and outputs of the earlier steps in its access (`"all"` = every earlier step, `[0, 2]` = those
 * steps, `[]` = none); steps that do not see each other run in parallel; at most `maxSteps` steps; the last
 * step's output is the final answer, so its subtask must ask for the complete answer.
 * Throws `InvalidArgumentError` for an empty pool.
 *
 * @example
 * ```ts
 * const prompt = buildConductorPrompt({ question: 'What is 17 * 23?', pool: descriptors, maxSteps: 3 });
 * const reply = await planner.complete({ messages: [{ role: 'user', content: prompt }] });
 * ```
 */
export function buildConductorPrompt(options: ConductorPromptOptions): string {
  const format = options.format ?? 'lists';
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_WORKFLOW_STEPS;
  const includePrices = options.includePrices ?? false;
  const members = normalisePool(options.pool);
  if (members.length === 0) {
    throw new InvalidArgumentError({ argument: 'pool', message: 'the pool has no worker to plan with' });
  }
  const first = members[0]?.id ?? 'worker-a';
  const second = members[1]?.id ?? first;
  const exampleSteps: WorkflowStep[] =
    maxSteps >= 3
      ? [
          { worker: first, subtask: 'Solve the problem step by step.', access: [] },
          { worker: second, subtask: 'Solve the problem independently, by a different method.', access: [] },
          {
            worker: first,
            subtask: 'Compare both solutions, resolve any disagreement and give the final answer.',
            access: 'all',
          },
        ]
      : maxSteps === 2
        ? [
            { worker: first, subtask: 'Solve the problem step by step.', access: [] },
            { worker: second, subtask: 'Check the solution and give the final answer.', access: [0] },
          ]
        : [{ worker: first, subtask: 'Answer the question completely.', access: [] }];
  const example: Workflow = { steps: exampleSteps };
  const numbered = options.numberedWorkers === true;
  const tools = options.tools ?? [];
  const exampleText = numbered
    ? formatNumberedWorkflow(
        example,
        format,
        members.map((member) => member.id),
      )
    : formatWorkflow(example, format);
  return [
    'You are the conductor of a team of AI workers. Plan a workflow that answers the question below: decide which worker does which subtask, and which earlier results each step may see. Do not answer the question yourself.',
    '',
    numbered ? 'Workers (refer to each by its number):' : 'Workers (use these ids exactly):',
    ...members.map((member, index) => poolLine(member, includePrices, numbered ? index : undefined)),
    '',
    ...(tools.length > 0
      ? [
          "Tools the user's application offers (the last step may call them; its tool calls go back to the user's application, which runs them and returns the results):",
          ...tools.map((tool) => {
            const about = tool.description?.split('\n', 1)[0]?.trim().slice(0, 200);
            return `- ${tool.name}${about ? `: ${about}` : ''}`;
          }),
          '',
        ]
      : []),
    'Rules:',
    `- Use between 1 and ${maxSteps} steps. Steps are numbered from 0 in the order you list them.`,
    '- Every worker sees the user\'s question and its own subtask. A step also sees the subtasks and outputs of the earlier steps in its access: "all" means every earlier step, a list such as [0, 2] means those steps, [] means none.',
    '- A step may only see earlier steps (smaller numbers). Steps that do not see each other run in parallel.',
    "- The last step's output is the final answer returned to the user: its subtask must ask for the complete final answer, and it usually needs access to the earlier steps.",
    '- A worker may appear in several steps. Write each subtask as a clear instruction.',
    ...(includePrices ? ['- Prefer cheaper workers when they are good enough.'] : []),
    '',
    format === 'json' ? jsonFormat(numbered) : listsFormat(numbered),
    '',
    'Example:',
    exampleText,
    '',
    'Question:',
    options.question,
  ].join('\n');
}

/** The planner prompt as a one-message conversation (the paper's form). */
export function buildConductorMessages(options: ConductorPromptOptions): ChatMessage[] {
  return [{ role: 'user', content: buildConductorPrompt(options) }];
}

function pythonString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/**
 * Writes a workflow in either format; `parseWorkflow(formatWorkflow(w, f)).workflow` deep-equals `w`.
 *
 * @example
 * ```ts
 * formatWorkflow({ steps: [{ worker: 'math', subtask: 'Solve', access: [] }] }, 'lists')
 * // "model_id: ['math']\nsubtasks: ['Solve']\naccess_list: [[]]"
 * ```
 */
export function formatWorkflow(workflow: Workflow, format: WorkflowFormat = 'lists'): string {
  if (format === 'json') return JSON.stringify({ steps: workflow.steps });
  const access = workflow.steps.map((step) =>
    step.access === 'all' ? "'all'" : `[${step.access.join(', ')}]`,
  );
  return [
    `model_id: [${workflow.steps.map((step) => pythonString(step.worker)).join(', ')}]`,
    `subtasks: [${workflow.steps.map((step) => pythonString(step.subtask)).join(', ')}]`,
    `access_list: [${access.join(', ')}]`,
  ].join('\n');
}

/**
 * Writes a workflow with worker numbers (indices into `workerIds`, the numbered list the planner was shown) in
 * place of worker ids; `parseWorkflow(text, { numberedWorkers: workerIds })` reads it back.
 *
 * @example
 * ```ts
 * formatNumberedWorkflow({ steps: [{ worker: 'coder', subtask: 'Solve', access: [] }] }, 'lists', ['math', 'coder'])
 * // "model_id: [1]\nsubtasks: ['Solve']\naccess_list: [[]]"
 * ```
 */
export function formatNumberedWorkflow(
  workflow: Workflow,
  format: WorkflowFormat,
  workerIds: readonly string[],
): string {
  const number = (id: string): number | string => {
    const index = workerIds.indexOf(id);
    return index === -1 ? id : index;
  };
  if (format === 'json') {
    return JSON.stringify({
      steps: workflow.steps.map((step) => ({ ...step, worker: number(step.worker) })),
    });
  }
  const ids = workflow.steps.map((step) => {
    const value = number(step.worker);
    return typeof value === 'number' ? String(value) : pythonString(value);
  });
  return formatWorkflow(workflow, format).replace(/^model_id: .*$/m, () => `model_id: [${ids.join(', ')}]`);
}

/** Options of `buildRevisionPrompt`. */
export interface RevisionPromptOptions {
  /** The workflow the planner wrote last round (as parsed). */
  previousWorkflow: Workflow;
  /** The answer it produced (the last step's output). */
  previousAnswer: string;
  /** Output format. Default `'lists'`. */
  format?: WorkflowFormat;
  /** The numbered worker list the planner was shown: the workflow is written with worker numbers. */
  numberedWorkers?: readonly string[];
}

/**
 * The follow-up message of a revise round: the planner sees its previous workflow and the answer it produced
 * and either repeats the workflow unchanged (to stop) or writes a better one.
 */
export function buildRevisionPrompt(options: RevisionPromptOptions): string {
  const format = options.format ?? 'lists';
  return [
    'Your workflow was run.',
    '',
    'Workflow:',
    options.numberedWorkers
      ? formatNumberedWorkflow(options.previousWorkflow, format, options.numberedWorkers)
      : formatWorkflow(options.previousWorkflow, format),
    '',
    'Final answer it produced:',
    options.previousAnswer,
    '',
    'Check the answer. If it is correct and complete, repeat the same workflow unchanged. Otherwise write a revised workflow that fixes the problem (the same rules and output format apply; later steps may double-check or redo work).',
  ].join('\n');
}
