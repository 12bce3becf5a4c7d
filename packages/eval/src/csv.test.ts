import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.js';

describe('parseCsv', () => {
  it('handles quotes, escaped quotes, embedded newlines and CRLF, with record start lines', () => {
    const { records, issue } = parseCsv('a,b,c\r\n1,"x, ""y""\nz",3\n4,,6\n');
    expect(issue).toBeUndefined();
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, "y"\nz', '3'],
      ['4', '', '6'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('reports an unterminated quote with the line where the record starts', () => {
    expect(parseCsv('a,b\n1,"open\n2,3\n').issue).toEqual({ line: 2, message: 'unterminated quoted field' });
  });

  it('round-trips any table of strings written with RFC 4180 quoting', () => {
    const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string(), { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 5 }),
        (rows) => {
          const text = rows.map((r) => r.map(quote).join(',')).join('\n');
          expect(parseCsv(text).records.map((r) => r.fields)).toEqual(rows);
        },
      ),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => void parseCsv(text)));
  });
});
