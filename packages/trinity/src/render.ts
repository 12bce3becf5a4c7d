/**
 * Rendering a conversation into the plain text a router backbone reads.
 *
 * TRINITY feeds its backbone each message as `role: content`, the lines joined with "\n", and no chat
 * template (with a chat template the reference parity drops from 95 % to 41 %, DESIGN.md).
 */
import type { ChatMessage } from '@openfugu/schema';

/**
 * The text of one message's content: a string as is; for content parts, the `text` of each text part
 * (and the `refusal` of refusal parts) joined with "\n"; images and audio contribute nothing; `null` or a
 * missing content is "".
 *
 * @example
 * ```ts
 * messageText({ role: 'user', content: [{ type: 'text', text: 'hi' }] }) // 'hi'
 * ```
 */
export function messageText(message: ChatMessage): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) {
    return message.role === 'assistant' && typeof message.refusal === 'string' ? message.refusal : '';
  }
  const parts: string[] = [];
  for (const part of content) {
    if (part.type === 'text') parts.push(part.text);
    else if (part.type === 'refusal') parts.push(part.refusal);
  }
  return parts.join('\n');
}

/**
 * Renders messages as the router sees them: `role: content` per message, joined with "\n", no chat
 * template. A plain string is returned unchanged (it is treated as already rendered).
 *
 * @example
 * ```ts
 * renderMessages([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }])
 * // 'system: Be brief.\nuser: Hi'
 * ```
 */
export function renderMessages(messages: readonly ChatMessage[] | string): string {
  if (typeof messages === 'string') return messages;
  let out = '';
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    if (i > 0) out += '\n';
    out += `${message.role}: ${messageText(message)}`;
  }
  return out;
}

/**
 * The text a router reads for one user prompt: exactly what `route([{ role: 'user', content: prompt }])`
 * embeds (`user: <prompt>`). Use it for training features from recorded prompts, so that training and routing
 * read the same text (a head trained on bare prompts routes `user: …` conversations worse).
 *
 * @example
 * ```ts
 * const features = prompts.map((prompt) => backbone.embedSync(renderPrompt(prompt)));
 * renderPrompt('Write a poem about the sea.') // 'user: Write a poem about the sea.'
 * ```
 */
export function renderPrompt(prompt: string): string {
  return renderMessages([{ role: 'user', content: prompt }]);
}
