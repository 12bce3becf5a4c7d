/**
 * Rollouts for LLM-scale GRPO on tau2/ToolScale-shaped tasks: prompts without gold leakage, G samples per
 * prompt from an OpenAI-compatible policy server, the verifier's action reward against
 * `evaluation_criteria.actions`, group advantages (@openfugu/grpo), JSONL records and statistics.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { computeGroupAdvantages } from '@openfugu/grpo';
import { InvalidArgumentError } from '@openfugu/schema';
import { actionReward } from '@openfugu/verify';

/** A tau2 task (the fields used here; the rest is ignored). */
export interface Tau2Task {
  id: string;
  user_scenario?: {
    persona?: string | null;
    instructions?:
      | string
      | {
          domain?: string | null;
          reason_for_call?: string | null;
          known_info?: string | null;
          unknown_info?: string | null;
          task_instructions?: string | null;
        }
      | null;
  } | null;
  ticket?: string | null;
  evaluation_criteria?: { actions?: { name: string; arguments: Record<string, unknown> }[] | null } | null;
}

/** An OpenAI-style tool definition. */
export interface ToolDefinition {
  type?: string;
  function: { name: string; description?: string; parameters?: unknown };
}

/** A chat message of a prompt. */
export interface PromptMessage {
  role: 'system' | 'user';
  content: string;
}

/** Loads `tasks.json` (+ `tools.json`, + `split_tasks.json` when `split` is given) from a tau2 domain folder. */
export function loadTau2Tasks(dir: string, split?: string): { tasks: Tau2Task[]; tools: ToolDefinition[] } {
  const read = (file: string): unknown => {
    const full = path.join(dir, file);
    if (!existsSync(full)) throw new InvalidArgumentError({ argument: 'tasks', message: `missing ${full}` });
    return JSON.parse(readFileSync(full, 'utf8'));
  };
  const tasks = read('tasks.json');
  if (!Array.isArray(tasks))
    throw new InvalidArgumentError({ argument: 'tasks', message: 'tasks.json is not a list' });
  const tools = existsSync(path.join(dir, 'tools.json')) ? read('tools.json') : [];
  if (!Array.isArray(tools))
    throw new InvalidArgumentError({ argument: 'tasks', message: 'tools.json is not a list' });
  let selected = tasks as Tau2Task[];
  if (split !== undefined) {
    const splits = read('split_tasks.json') as Record<string, unknown>;
    const ids = splits[split];
    if (!Array.isArray(ids))
      throw new InvalidArgumentError({
        argument: 'split',
        message: `split '${split}' not in split_tasks.json (has ${Object.keys(splits).join(', ')})`,
      });
    const wanted = new Set(ids.map(String));
    selected = selected.filter((t) => wanted.has(String(t.id)));
  }
  return { tasks: selected, tools: tools as ToolDefinition[] };
}

/**
 * Removes `e.g. '…'` example values from descriptions: the bundled tau2 `tools.json` uses real database ids
 * as examples (retail `'6086499569'` is the T-shirt product id that three tasks' gold actions look up).
 */
export function redactExamples<T>(value: T): T {
  if (typeof value === 'string')
    return value.replace(/,?\s*\(?e\.g\.,?\s*'[^']*'(?:\s*(?:or|,)\s*'[^']*')*\)?/g, '') as T;
  if (Array.isArray(value)) return value.map(redactExamples) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactExamples(v)])) as T;
  return value;
}

const FORMAT = `Answer in exactly this format:
<think>your reasoning</think><answer>[{"name": "tool_name", "arguments": {...}}, ...]</answer>
The answer is the JSON list of every tool call to make, in order. Use only the tools listed above and only argument values stated in the request or obtainable from earlier calls.`;

/**
 * The prompt of a task: a system message with the tools offered (the same list for every task of the
 * domain) and the output format, and a user message with the customer's scenario. Built only from
 * `user_scenario` (or `ticket`) — never from `evaluation_criteria`, `description` or `initial_state`.
 */
export function buildTaskPrompt(task: Tau2Task, tools: readonly ToolDefinition[]): PromptMessage[] {
  const toolText = tools.map((t) => JSON.stringify(redactExamples(t.function))).join('\n');
  const system = `You are a customer-service agent. Plan the tool calls that resolve the customer's request.

Tools (JSON schemas):
${toolText}

${FORMAT}`;
  const scenario = task.user_scenario;
  const lines: string[] = [];
  if (scenario?.persona) lines.push(`Persona: ${scenario.persona}`);
  const instructions = scenario?.instructions;
  if (typeof instructions === 'string') lines.push(instructions);
  else if (instructions) {
    if (instructions.reason_for_call) lines.push(`Request: ${instructions.reason_for_call}`);
    if (instructions.known_info) lines.push(`Known information: ${instructions.known_info}`);
    if (instructions.unknown_info) lines.push(`Not known: ${instructions.unknown_info}`);
    if (instructions.task_instructions) lines.push(`Notes: ${instructions.task_instructions}`);
  }
  if (lines.length === 0 && task.ticket) lines.push(task.ticket);
  return [
    { role: 'system', content: system },
    { role: 'user', content: lines.join('\n') },
  ];
}

/** One training-set row: the prompt and, separately, the gold the reward needs (never shown to the policy). */
export interface DatasetRow {
  task_id: string;
  /** Chat messages (TRL "conversational" prompt; OpenRLHF `--input_key prompt --apply_chat_template`). */
  prompt: PromptMessage[];
  /** JSON text of `{ actions, tools }` for the `action` reward (TRL column / OpenRLHF `--label_key`). */
  reference: string;
  /** verl's fields: `data_source` and `reward_model.ground_truth` (same JSON text). */
  data_source: string;
  reward_model: { style: 'rule'; ground_truth: string };
}

/** Rows of a training set for an external RL engine (prompts and references for the reward server). */
export function buildDatasetRows(
  tasks: readonly Tau2Task[],
  tools: readonly ToolDefinition[],
  dataSource: string,
): DatasetRow[] {
  const toolNames = tools.map((t) => t.function.name);
  return tasks.map((task) => {
    const reference = JSON.stringify({ actions: task.evaluation_criteria?.actions ?? [], tools: toolNames });
    return {
      task_id: String(task.id),
      prompt: buildTaskPrompt(task, tools),
      reference,
      data_source: dataSource,
      reward_model: { style: 'rule', ground_truth: reference },
    };
  });
}

/** One OpenAI-compatible choice. */
interface Choice {
  text: string;
  finishReason: string | null;
}

/** Settings of the policy client. */
export interface PolicyClientSettings {
  /** Base URL (`http://host:8000/v1`) or the full `/chat/completions` URL. */
  url: string;
  model: string;
  apiKey?: string;
  temperature?: number;
  maxTokens?: number;
  /** Per-request timeout. Default 600 s. */
  timeoutMs?: number;
}

/** Requests `n` completions of `messages` (`n` in one request; more requests if fewer come back). */
export async function sampleCompletions(
  settings: PolicyClientSettings,
  messages: readonly PromptMessage[],
  n: number,
): Promise<{ choices: Choice[]; requests: number; fallbackRequests: number }> {
  const url = /\/chat\/completions\/?$/.test(settings.url)
    ? settings.url
    : `${settings.url.replace(/\/+$/, '')}/chat/completions`;
  const post = async (count: number): Promise<Choice[]> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: settings.model,
        messages,
        n: count,
        temperature: settings.temperature ?? 1,
        ...(settings.maxTokens === undefined ? {} : { max_tokens: settings.maxTokens }),
      }),
      signal: AbortSignal.timeout(settings.timeoutMs ?? 600_000),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`policy server ${url} answered ${response.status}: ${text.slice(0, 300)}`);
    let body: { choices?: { message?: { content?: unknown }; finish_reason?: unknown }[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`policy server ${url} answered non-JSON: ${text.slice(0, 200)}`);
    }
    if (!Array.isArray(body.choices)) throw new Error(`policy server ${url} answered without choices`);
    return body.choices.map((c) => ({
      text: typeof c.message?.content === 'string' ? c.message.content : '',
      finishReason: typeof c.finish_reason === 'string' ? c.finish_reason : null,
    }));
  };
  const choices = (await post(n)).slice(0, n);
  let requests = 1;
  let fallbackRequests = 0;
  // Servers that ignore `n` return one choice: ask one at a time for the rest.
  while (choices.length < n) {
    const more = await post(1);
    requests++;
    fallbackRequests++;
    if (more.length === 0) throw new Error(`policy server ${url} returned no choices`);
    choices.push(more[0]!);
  }
  return { choices, requests, fallbackRequests };
}

/** One JSONL record. */
export interface RolloutRecord {
  task_id: string;
  group: number;
  sample: number;
  prompt: PromptMessage[];
  completion: string;
  finish_reason: string | null;
  reward: number;
  advantage: number;
  details: unknown;
}

/** Statistics of a rollout batch. */
export interface RolloutStats {
  tasks: number;
  group_size: number;
  samples: number;
  reward_mean: number;
  reward_std: number;
  zero_variance_fraction: number;
  parse_failure_rate: number;
  exact_match_rate: number;
  requests: number;
  fallback_requests: number;
  seconds: number;
}

/** Settings of {@link runRollouts}. */
export interface RunRolloutsSettings {
  tasks: readonly Tau2Task[];
  tools: readonly ToolDefinition[];
  policy: PolicyClientSettings;
  groupSize: number;
  /** Prompts in flight at once. Default 4. */
  concurrency?: number;
  onRecord?: (record: RolloutRecord) => void;
  onTaskDone?: (done: number) => void;
}

/**
 * Samples, scores and computes group advantages; records come out grouped by task in task order.
 */
export async function runRollouts(
  settings: RunRolloutsSettings,
): Promise<{ records: RolloutRecord[]; stats: RolloutStats }> {
  const started = performance.now();
  const G = settings.groupSize;
  if (!(Number.isInteger(G) && G >= 1))
    throw new InvalidArgumentError({ argument: 'groupSize', message: 'group size must be an integer ≥ 1' });
  const toolNames = settings.tools.map((t) => t.function.name);
  const perTask: { choices: Choice[]; prompt: PromptMessage[] }[] = new Array(settings.tasks.length);
  let requests = 0;
  let fallbackRequests = 0;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < settings.tasks.length) {
      const index = next++;
      const prompt = buildTaskPrompt(settings.tasks[index]!, settings.tools);
      const sampled = await sampleCompletions(settings.policy, prompt, G);
      requests += sampled.requests;
      fallbackRequests += sampled.fallbackRequests;
      perTask[index] = { choices: sampled.choices, prompt };
      settings.onTaskDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, settings.concurrency ?? 4) }, worker));

  const rewards: number[] = [];
  const details: { unparsed?: boolean; match?: { exactMatch?: boolean } }[] = [];
  settings.tasks.forEach((task, t) => {
    const reference = { actions: task.evaluation_criteria?.actions ?? [], tools: toolNames };
    for (const choice of perTask[t]!.choices) {
      const scored = actionReward.details(choice.text, reference);
      rewards.push(scored.reward);
      details.push(scored.details as (typeof details)[number]);
    }
  });
  const advantages = computeGroupAdvantages(rewards, { groupSize: G });
  const records: RolloutRecord[] = [];
  settings.tasks.forEach((task, t) => {
    perTask[t]!.choices.forEach((choice, s) => {
      const i = t * G + s;
      const record: RolloutRecord = {
        task_id: String(task.id),
        group: t,
        sample: s,
        prompt: perTask[t]!.prompt,
        completion: choice.text,
        finish_reason: choice.finishReason,
        reward: rewards[i]!,
        advantage: advantages.advantages[i]!,
        details: details[i],
      };
      records.push(record);
      settings.onRecord?.(record);
    });
  });
  const n = rewards.length;
  const stats: RolloutStats = {
    tasks: settings.tasks.length,
    group_size: G,
    samples: n,
    reward_mean: advantages.stats.rewardMean,
    reward_std: advantages.stats.rewardStd,
    zero_variance_fraction: advantages.stats.zeroVarianceFraction,
    parse_failure_rate: n === 0 ? 0 : details.filter((d) => d.unparsed === true).length / n,
    exact_match_rate: n === 0 ? 0 : details.filter((d) => d.match?.exactMatch === true).length / n,
    requests,
    fallback_requests: fallbackRequests,
    seconds: (performance.now() - started) / 1000,
  };
  return { records, stats };
}
