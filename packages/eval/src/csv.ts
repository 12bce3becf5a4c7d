/**
 * RFC 4180 CSV parsing (quoted fields with commas, quotes and newlines). Linear time; reports the
 * 1-based line on which each record starts so loaders can name the line of a malformed row.
 */

/** One parsed record and the 1-based line where it starts. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/** A CSV syntax problem. */
export interface CsvIssue {
  line: number;
  message: string;
}

/** Parses CSV text into records; returns the first syntax issue instead of throwing. */
export function parseCsv(text: string): { records: CsvRecord[]; issue?: CsvIssue } {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const n = text.length;
  // Skip a UTF-8 byte-order mark.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  let atFieldStart = true;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (atFieldStart && c === 34 /* " */) {
      // Quoted field: read until a lone closing quote.
      i++;
      let start = i;
      let chunk = '';
      for (;;) {
        if (i >= n) return { records, issue: { line: recordLine, message: 'unterminated quoted field' } };
        const q = text.charCodeAt(i);
        if (q === 34) {
          if (text.charCodeAt(i + 1) === 34) {
            chunk += text.slice(start, i + 1);
            i += 2;
            start = i;
            continue;
          }
          chunk += text.slice(start, i);
          i++;
          break;
        }
        if (q === 10) line++;
        i++;
      }
      field = chunk;
      atFieldStart = false;
      const next = text.charCodeAt(i);
      if (i < n && next !== 44 && next !== 10 && next !== 13) {
        return { records, issue: { line, message: 'unexpected character after closing quote' } };
      }
      continue;
    }
    if (c === 44 /* , */) {
      fields.push(field);
      field = '';
      atFieldStart = true;
      i++;
      continue;
    }
    if (c === 13 || c === 10) {
      fields.push(field);
      records.push({ fields, line: recordLine });
      fields = [];
      field = '';
      atFieldStart = true;
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      i++;
      line++;
      recordLine = line;
      continue;
    }
    // Unquoted run up to the next delimiter.
    let j = i;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d === 44 || d === 10 || d === 13) break;
      j++;
    }
    field += text.slice(i, j);
    atFieldStart = false;
    i = j;
  }
  if (!atFieldStart || fields.length > 0) {
    fields.push(field);
    records.push({ fields, line: recordLine });
  }
  return { records };
}
