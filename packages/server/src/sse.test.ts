import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseParser, SseEventTooLongError } from './sse.js';

describe('createSseParser', () => {
  it('never buffers past maxEventLength: an unended line or a long event throws', () => {
    const line = createSseParser({ maxEventLength: 16 });
    expect(line.push('data: 0123456')).toEqual([]);
    expect(() => line.push('789abcdefghij')).toThrow(SseEventTooLongError);
    const event = createSseParser({ maxEventLength: 16 });
    expect(() => event.push('data: 0123456789\ndata: 0123456789\n')).toThrow(SseEventTooLongError);
    expect(createSseParser({ maxEventLength: 16 }).push('data: 0123456789\n\n')).toEqual(['0123456789']);
  });

  it('joins multi-line data, skips comments and other fields', () => {
    const parser = createSseParser();
    expect(parser.push(': keep-alive\nevent: x\ndata: a\ndata: b\nid: 1\n\ndata:c\n\n')).toEqual([
      'a\nb',
      'c',
    ]);
  });

  it('gives the same events however the text is split (any line endings)', () => {
    const payload = fc
      .string({ unit: fc.constantFrom('a', 'é', '😀', '{', '"', ' ', ':') })
      .filter((text) => !text.startsWith(' '));
    fc.assert(
      fc.property(
        fc.array(payload, { minLength: 1, maxLength: 8 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.array(fc.nat(), { maxLength: 10 }),
        (payloads, eol, cuts) => {
          const text = payloads.map((data) => `data: ${data}${eol}${eol}`).join('');
          const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
          const parser = createSseParser();
          const out: string[] = [];
          let from = 0;
          for (const point of points) {
            out.push(...parser.push(text.slice(from, point)));
            from = point;
          }
          out.push(...parser.push(text.slice(from)), ...parser.flush());
          expect(out).toEqual(payloads);
        },
      ),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parser = createSseParser();
        parser.push(text);
        parser.flush();
      }),
    );
  });
});
