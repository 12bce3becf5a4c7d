import { describe, expect, it } from 'vitest';
import { createHashingBackbone } from './backbones/hashing.js';
import { createRouterHead } from './head.js';
import { messageText, renderMessages, renderPrompt } from './render.js';
import { createRouter } from './router.js';

describe('renderMessages', () => {
  it('renders role: content lines joined by a newline, no chat template', () => {
    expect(
      renderMessages([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: '4' },
      ]),
    ).toBe('system: Be brief.\nuser: What is 2+2?\nassistant: 4');
  });

  it('uses the text of content parts and skips images', () => {
    expect(
      renderMessages([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe' },
            { type: 'image_url', image_url: { url: 'http://x/y.png' } },
            { type: 'text', text: 'this' },
          ],
        },
      ]),
    ).toBe('user: Describe\nthis');
  });

  it('renders null assistant content as empty and keeps refusals', () => {
    expect(messageText({ role: 'assistant', content: null })).toBe('');
    expect(messageText({ role: 'assistant', content: null, refusal: 'no' })).toBe('no');
    expect(renderMessages([{ role: 'tool', content: 'ok', tool_call_id: 't1' }])).toBe('tool: ok');
  });

  it('passes a plain string through', () => {
    expect(renderMessages('user: hi')).toBe('user: hi');
    expect(renderMessages([])).toBe('');
  });
});

describe('renderPrompt', () => {
  it('is the text route() embeds for a one-message conversation, so training and routing read the same', () => {
    const backbone = createHashingBackbone({ dimension: 64 });
    const weights = Array.from({ length: 6 * 64 }, (_, i) => Math.sin(i + 1));
    const head = createRouterHead({ agentCount: 3, dimension: 64, weights });
    const router = createRouter({ backbone, head, agents: ['a', 'b', 'c'] });
    const prompt = 'Write a poem about the sea.';
    expect(renderPrompt(prompt)).toBe('user: Write a poem about the sea.');
    const routed = router.routeSync([{ role: 'user', content: prompt }]);
    expect(router.routeFeatures(backbone.embedSync(renderPrompt(prompt)))).toEqual(routed);
    expect(router.routeFeatures(backbone.embedSync(prompt)).agentProbabilities).not.toEqual(
      routed.agentProbabilities,
    );
  });
});
