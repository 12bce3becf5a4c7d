/** Loopback tools for the hostile-client tests and the `bench:hostile` script: raw sockets and a scripted upstream. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';

/** A gateway's base URL split into host and port. */
export function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/** A raw TCP client: what it has received so far, and whether the server closed it. */
export interface RawClient {
  socket: Socket;
  /** Everything received, as latin1 text (headers are ASCII). */
  received(): string;
  /** Resolves when the server ended or reset the connection. */
  closed: Promise<void>;
  /** Resolves once `text` appears in what was received. */
  waitFor(text: string, timeoutMs: number): Promise<boolean>;
}

/** Opens a raw connection and writes `head` (and nothing else). */
export async function rawClient(url: string, head: string): Promise<RawClient> {
  const { host, port } = hostPort(url);
  const socket = connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const parts: Buffer[] = [];
  const waiters = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    parts.push(chunk);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const received = (): string => Buffer.concat(parts).toString('latin1');
  socket.write(head);
  return {
    socket,
    received,
    closed,
    waitFor(text, timeoutMs) {
      return new Promise<boolean>((resolve) => {
        const check = (): void => {
          if (received().includes(text)) finish(true);
        };
        const finish = (value: boolean): void => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(value);
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        waiters.add(check);
        void closed.then(() => finish(received().includes(text)));
        check();
      });
    },
  };
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A scripted OpenAI-compatible upstream on a loopback port. */
export interface ScriptedUpstream {
  baseURL: string;
  /** Requests received so far. */
  calls: number;
  close(): Promise<void>;
}

/** Starts an upstream whose every `/chat/completions` call is answered by `handle`. */
export async function scriptedUpstream(
  handle: (request: IncomingMessage, response: ServerResponse, body: string) => void,
): Promise<ScriptedUpstream> {
  const state = { calls: 0 };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      state.calls++;
      handle(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    get calls() {
      return state.calls;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An OpenAI chat completion whose content is `content` (usage 3 + 2 tokens). */
export function completionOf(content: string) {
  return {
    id: 'x',
    object: 'chat.completion',
    created: 1,
    model: 'up',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}

/** `completionOf(content)` as JSON text. */
export function completionJson(content: string): string {
  return JSON.stringify(completionOf(content));
}

/** One SSE chunk event carrying `content`. */
export function chunkEvent(content: string, finish: string | null = null): string {
  return `data: ${JSON.stringify({
    id: 'up-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'up',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  })}\n\n`;
}

/** `{"model":…,"<field>":[{},{},…]}` with `count` empty objects (plus valid messages when field ≠ messages). */
export function emptyObjectsBody(model: string, field: string, count: number): string {
  const items = `[${'{},'.repeat(count - 1)}{}]`;
  const messages = field === 'messages' ? '' : '"messages":[{"role":"user","content":"hi"}],';
  return `{"model":${JSON.stringify(model)},${messages}"${field}":${items}}`;
}

/** A chat body with an extra field nested `depth` levels deep. */
export function deepBody(model: string, depth: number): string {
  return `{"model":${JSON.stringify(model)},"messages":[{"role":"user","content":"hi"}],"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

/** The raw text of a `POST /v1/chat/completions` carrying `body` (with `headers` first). */
export function rawChatRequest(body: string, headers: Record<string, string> = {}): string {
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${extra}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** A one-message streamed chat body. */
export function streamBody(model: string, content = 'hi'): string {
  return JSON.stringify({ model, stream: true, messages: [{ role: 'user', content }] });
}
