/** Server-sent events: an incremental parser for upstream streams and the writer helpers. */
import { OpenFuguError } from '@openfugu/schema';

/** An SSE line or event over the parser's `maxEventLength`. */
export class SseEventTooLongError extends OpenFuguError {
  readonly limit: number;
  constructor(options: { message: string; limit: number }) {
    super({ code: 'upstream_error', message: options.message });
    this.name = 'SseEventTooLongError';
    this.limit = options.limit;
  }
}

/**
 * Incremental SSE parser: feed it text, get back the complete `data:` payloads (multi-line data joined
 * with `\n`, comments and other fields ignored). Handles `\n`, `\r\n` and `\r` line ends split anywhere.
 * With `maxEventLength`, a pending line or an event's data longer than that throws `SseEventTooLongError`
 * (the buffer never grows past it).
 *
 * @example
 * ```ts
 * const parser = createSseParser();
 * parser.push('data: {"a":1}\n\ndata: [DO'); // ['{"a":1}']
 * parser.push('NE]\n\n');                    // ['[DONE]']
 * ```
 */
export function createSseParser(options: { maxEventLength?: number } = {}): {
  push(text: string): string[];
  flush(): string[];
} {
  const max = options.maxEventLength ?? Number.POSITIVE_INFINITY;
  let buffer = '';
  let data: string[] = [];
  let dataLength = 0;
  let hasData = false;
  const tooLong = (): never => {
    throw new SseEventTooLongError({
      message: `SSE event longer than ${max} characters`,
      limit: max,
    });
  };
  const processLine = (line: string, out: string[]): void => {
    if (line === '') {
      if (hasData) out.push(data.join('\n'));
      data = [];
      dataLength = 0;
      hasData = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    dataLength += value.length + 1;
    if (dataLength > max) tooLong();
    data.push(value);
    hasData = true;
  };
  return {
    push(text) {
      // What is buffered holds no line end (but maybe a last lone '\r'): scan only from there, so a long line
      // arriving in many pieces costs linear time, not quadratic.
      const from = Math.max(0, buffer.length - 1);
      buffer += text;
      const out: string[] = [];
      let start = 0;
      for (let i = from; i < buffer.length; i++) {
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
      // A line that has not ended yet may not grow past the limit either (an upstream that never sends `\n`).
      if (buffer.length > max) tooLong();
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
