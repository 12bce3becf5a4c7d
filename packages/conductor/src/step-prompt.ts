/** The messages one workflow step's worker receives. */
import type { ChatMessage } from '@openfugu/schema';

/** An earlier step a worker may see: its subtask and its output. Worker identities are not shown. */
export interface VisibleStep {
  /** 0-based step index (the planner's numbering). */
  step: number;
  subtask: string;
  output: string;
}

/** Everything a step's prompt is built from. */
export interface StepContext {
  /** The user's question; absent when the executor runs with `includeQuestion: false`. */
  question?: string;
  /** This step's subtask. */
  subtask: string;
  /** 0-based index of this step. */
  step: number;
  /** Number of steps in the workflow. */
  stepCount: number;
  /** True for the last step, whose output is the final answer. */
  isFinal: boolean;
  /** The earlier steps this step may see, in step order. */
  visible: VisibleStep[];
}

const SYSTEM =
  'You are one worker in a team of AI models answering a user. A coordinator split the work into steps and gave you one subtask. Do your subtask well; use the earlier results you are shown when they help, and check them rather than trusting them blindly.';

/**
 * Builds the default messages for one step: a system message with the worker's role, then one user message
 * with the user's question (unless excluded), the visible earlier steps (subtask + output each), and this
 * step's subtask. The final step is told its reply is the answer the user receives.
 *
 * @example
 * ```ts
 * buildStepMessages({ question: 'What is 2+2?', subtask: 'Answer.', step: 0, stepCount: 1, isFinal: true, visible: [] })
 * ```
 */
export function buildStepMessages(context: StepContext): ChatMessage[] {
  const parts: string[] = [];
  if (context.question !== undefined) parts.push(`# The user's question\n${context.question}`);
  if (context.visible.length > 0) {
    parts.push('# Results of earlier steps');
    for (const earlier of context.visible) {
      parts.push(`## Step ${earlier.step}\nSubtask: ${earlier.subtask}\nOutput:\n${earlier.output}`);
    }
  }
  parts.push(`# Your subtask (step ${context.step} of steps 0-${context.stepCount - 1})\n${context.subtask}`);
  if (context.isFinal) {
    parts.push(
      context.question !== undefined
        ? "Your reply is the final answer the user receives: answer the user's question completely and directly, without referring to steps or other workers."
        : 'Your reply is the final result of the workflow: make it complete and self-contained.',
    );
  }
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: parts.join('\n\n') },
  ];
}

const FINAL_SYSTEM =
  'You are the last worker in a team of AI models answering the user in the conversation below. A coordinator split the work into steps; the results of the earlier steps are below. Use them when they help, and check them rather than trusting them blindly.';

/**
 * The messages of a workflow's final call when it answers the user's conversation itself (the server's
 * `fugu-ultra` with tools): one system message (the client's own system messages first, then the team's
 * context: the visible earlier results and this step's subtask), then the client's conversation unchanged,
 * native tool calls and tool results included. The last message is the client's, so a model answers it (or
 * calls a tool with arguments taken from it) as it would without the workflow; nothing of the step prompt sits
 * where the model looks for the user's words.
 *
 * @example
 * ```ts
 * buildFinalCallMessages(context, [{ role: 'user', content: "What's the weather in Paris?" }]);
 * // [{ role: 'system', content: '…# Your subtask…' }, { role: 'user', content: "What's the weather in Paris?" }]
 * ```
 */
export function buildFinalCallMessages(
  context: StepContext,
  conversation: readonly ChatMessage[],
): ChatMessage[] {
  let start = 0;
  const parts: string[] = [];
  for (; start < conversation.length && conversation[start]?.role === 'system'; start++) {
    const content = conversation[start]?.content;
    const text =
      typeof content === 'string'
        ? content
        : Array.isArray(content)
          ? content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join('')
          : '';
    if (text !== '') parts.push(text);
  }
  parts.push(FINAL_SYSTEM);
  if (context.visible.length > 0) {
    parts.push('# Results of earlier steps');
    for (const earlier of context.visible) {
      parts.push(`## Step ${earlier.step}\nSubtask: ${earlier.subtask}\nOutput:\n${earlier.output}`);
    }
  }
  parts.push(`# Your subtask (step ${context.step} of steps 0-${context.stepCount - 1})\n${context.subtask}`);
  parts.push(
    "Your reply goes to the user as the answer to the conversation's last message: reply directly, without referring to steps or other workers, and call one of the offered tools when that is what the user needs.",
  );
  return [{ role: 'system', content: parts.join('\n\n') }, ...conversation.slice(start)];
}
