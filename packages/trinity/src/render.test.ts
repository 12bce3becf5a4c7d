import { describe, expect, it } from 'vitest';
import { messageText, renderMessages } from './render.js';

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
