import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseParser } from './sse.js';

describe('createSseParser', () => {
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
