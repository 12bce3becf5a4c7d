/** Server-sent events: an incremental parser for upstream streams and the writer helpers. */

/**
 * Incremental SSE parser: feed it text, get back the complete `data:` payloads (multi-line data joined
 * with `\n`, comments and other fields ignored). Handles `\n`, `\r\n` and `\r` line ends split anywhere.
 *
 * @example
 * ```ts
 * const parser = createSseParser();
 * parser.push('data: {"a":1}\n\ndata: [DO'); // ['{"a":1}']
 * parser.push('NE]\n\n');                    // ['[DONE]']
 * ```
 */
export function createSseParser(): { push(text: string): string[]; flush(): string[] } {
  let buffer = '';
  let data: string[] = [];
  let hasData = false;
  const processLine = (line: string, out: string[]): void => {
    if (line === '') {
      if (hasData) out.push(data.join('\n'));
      data = [];
      hasData = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    data.push(value);
    hasData = true;
  };
  return {
    push(text) {
      buffer += text;
      const out: string[] = [];
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c === 10 || c === 13) {
          // A lone '\r' at the very end may be the first half of '\r\n': wait for more input.
          if (c === 13 && i === buffer.length - 1) break;
          processLine(buffer.slice(start, i), out);
          if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
          start = i + 1;
        }
      }
      buffer = buffer.slice(start);
      return out;
    },
    flush() {
      const out: string[] = [];
      if (buffer !== '') processLine(buffer, out);
      buffer = '';
      processLine('', out);
      return out;
    },
  };
}

/** Formats one SSE event carrying a JSON payload. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** The OpenAI end-of-stream marker. */
export const SSE_DONE = 'data: [DONE]\n\n';
