/**
 * Prompts of the coordinator roles and tolerant parsers for the Thinker's and Verifier's replies.
 *
 * - Worker: sees the user's conversation unchanged, plus (when there is one) a final user note with the
 *   previous answer, the Verifier's critique and the Thinker's hint, asking for a complete answer.
 * - Thinker: does not answer; replies `NEXT: WORKER|VERIFIER` and `HINT: …`.
 * - Verifier: replies `ACCEPT` when the candidate answer is correct and complete, else a critique.
 */
import type { ChatMessage, Role } from '@openfugu/schema';
import { renderMessages } from './render.js';

/** System prompt of the Thinker role. */
export const THINKER_SYSTEM_PROMPT = [
  'You are the Thinker in a team of AI models that answers a user request together.',
  'Do not answer the request yourself. Read the conversation and the current answer (if any), decide',
  'what the team should do next, and give one short, concrete hint for that step.',
  'Reply in exactly this format:',
  'NEXT: WORKER or VERIFIER',
  'HINT: <one or two sentences>',
  'Choose WORKER when an answer is missing or needs work, VERIFIER when the current answer looks ready to check.',
].join('\n');

/** System prompt of the Verifier role. */
export const VERIFIER_SYSTEM_PROMPT = [
  'You are the Verifier in a team of AI models that answers a user request together.',
  'Check the candidate answer against the request: correctness, completeness, and whether it follows',
  'every instruction. If it is correct and complete, reply with the single word ACCEPT.',
  'Otherwise reply with a concise critique that says exactly what is wrong or missing (do not write a',
  'new answer yourself).',
].join('\n');

/** Context a role prompt is built from. */
export interface RolePromptContext {
  /** The user's conversation. */
  messages: readonly ChatMessage[];
  /** The latest Worker answer, if any. */
  answer?: string;
  /** The latest Verifier critique of `answer`, if any. */
  critique?: string;
  /** The latest Thinker hint, if any. */
  hint?: string;
}

/**
 * Messages sent to a Worker: the conversation, plus a final user note carrying the previous answer,
 * critique and hint when any exists.
 *
 * @example
 * ```ts
 * workerMessages({ messages: [{ role: 'user', content: '2+2?' }], hint: 'Show the arithmetic.' });
 * ```
 */
export function workerMessages(context: RolePromptContext): ChatMessage[] {
  const notes: string[] = [];
  if (context.answer !== undefined)
    notes.push(`A previous answer to this request was:\n<answer>\n${context.answer}\n</answer>`);
  if (context.critique !== undefined)
    notes.push(`A reviewer's critique of that answer:\n<critique>\n${context.critique}\n</critique>`);
  if (context.hint !== undefined) notes.push(`Guidance from a planner:\n<hint>\n${context.hint}\n</hint>`);
  if (notes.length === 0) return [...context.messages];
  notes.push(
    'Using this, write a complete, corrected answer to the request above. Reply with the answer only.',
  );
  return [...context.messages, { role: 'user', content: notes.join('\n\n') }];
}

function contextBlock(context: RolePromptContext): string {
  let text = `Conversation:\n<conversation>\n${renderMessages(context.messages)}\n</conversation>`;
  text += `\n\nCurrent answer:\n<answer>\n${context.answer ?? '(none yet)'}\n</answer>`;
  if (context.critique !== undefined)
    text += `\n\nLatest critique:\n<critique>\n${context.critique}\n</critique>`;
  return text;
}

/** Messages sent to a Thinker: {@link THINKER_SYSTEM_PROMPT} and the conversation with the current answer. */
export function thinkerMessages(context: RolePromptContext): ChatMessage[] {
  return [
    { role: 'system', content: THINKER_SYSTEM_PROMPT },
    { role: 'user', content: contextBlock(context) },
  ];
}

/** Messages sent to a Verifier: {@link VERIFIER_SYSTEM_PROMPT} and the conversation with the candidate answer. */
export function verifierMessages(context: RolePromptContext): ChatMessage[] {
  return [
    { role: 'system', content: VERIFIER_SYSTEM_PROMPT },
    { role: 'user', content: contextBlock(context) },
  ];
}

/** A parsed Thinker reply. */
export interface ThinkerSuggestion {
  /** Suggested next role, when one could be read. */
  nextRole?: Role;
  /** The hint (the whole reply when no `HINT:` label is found), trimmed; may be ''. */
  hint: string;
}

/**
 * Reads a Thinker reply tolerantly: `NEXT: <role>` in any case, with markdown or `=`/`-`, else the first
 * role word mentioned; `HINT:` label optional. Never throws.
 *
 * @example
 * ```ts
 * parseThinkerReply('**Next**: verifier\nHint: check the units'); // { nextRole: 'verifier', hint: 'check the units' }
 * ```
 */
export function parseThinkerReply(text: string): ThinkerSuggestion {
  const clean = text.replace(/[*_`#]/g, '');
  let nextRole: Role | undefined;
  const labelled = /next(?:\s+(?:role|step))?\s*[:=\-–]\s*(worker|verifier|thinker)/i.exec(clean);
  const word = labelled ?? /\b(worker|verifier|thinker)\b/i.exec(clean);
  if (word !== null) nextRole = word[1]!.toLowerCase() as Role;
  const hintMatch = /hint\s*[:=\-–]\s*([\s\S]*)$/i.exec(clean);
  let hint =
    hintMatch !== null ? hintMatch[1]! : clean.replace(/next(?:\s+(?:role|step))?\s*[:=\-–]\s*\w+/i, '');
  hint = hint.trim();
  return nextRole === undefined ? { hint } : { nextRole, hint };
}

/** A parsed Verifier reply. */
export interface VerifierVerdict {
  accepted: boolean;
  /** The critique ('' when accepted). */
  critique: string;
}

/**
 * Reads a Verifier reply: accepted when the reply starts with ACCEPT / ACCEPTED (any case, markdown and
 * a `VERDICT:` label allowed) and does not go on to say REJECT or "not accept". Never throws.
 *
 * @example
 * ```ts
 * parseVerifierReply('ACCEPT'); // { accepted: true, critique: '' }
 * ```
 */
export function parseVerifierReply(text: string): VerifierVerdict {
  const clean = text.replace(/[*_`#>]/g, '').trim();
  const accepted =
    /^(?:verdict\s*[:=\-–]\s*)?accept(?:ed)?\b/i.test(clean) && !/\breject|\bnot\s+accept/i.test(clean);
  return { accepted, critique: accepted ? '' : text.trim() };
}
