/**
 * The attacks of issue 12, kept as regression tests: each one loopback only, bounded in count and time, with
 * bounds derived from the configured limits (never a tight wall-clock figure).
 */

import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createGateway,
  createOpenAIWorker,
  createRoutedMode,
  type Gateway,
  type GatewayConfig,
  type GatewayMode,
} from '../src/index.js';
import { startHarness } from './helpers.js';
import {
  chunkEvent,
  completionJson,
  deepBody,
  emptyObjectsBody,
  rawChatRequest,
  rawClient,
  type ScriptedUpstream,
  scriptedUpstream,
  streamBody,
  within,
} from './hostile-helpers.js';

interface ErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const chat = (model: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'What is 2+3?' }], ...extra });

const post = (url: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

async function harness(config: GatewayConfig = {}) {
  const h = await startHarness({ config });
  cleanups.push(() => h.close());
  return h;
}

/** A gateway over `count` workers that all call one scripted upstream. */
async function scriptedGateway(
  upstream: ScriptedUpstream,
  config: GatewayConfig = {},
  worker: { maxResponseBytes?: number; maxStreamEventBytes?: number; maxRetries?: number } = {},
  count = 1,
): Promise<{ gateway: Gateway; url: string }> {
  const workers = Array.from({ length: count }, (_, index) =>
    createOpenAIWorker({
      id: `w${index}`,
      baseURL: upstream.baseURL,
      model: 'up',
      timeoutMs: 5_000,
      maxRetries: worker.maxRetries ?? 0,
      initialBackoffMs: 5,
      ...(worker.maxResponseBytes ? { maxResponseBytes: worker.maxResponseBytes } : {}),
      ...(worker.maxStreamEventBytes ? { maxStreamEventBytes: worker.maxStreamEventBytes } : {}),
    }),
  );
  const modes: GatewayMode[] = [createRoutedMode({ model: 'fugu', route: () => 0 })];
  const gateway = createGateway({ workers, modes, config: { exposeWorkers: true, ...config } });
  const url = await gateway.listen({ port: 0 });
  cleanups.push(async () => {
    await gateway.close();
    await upstream.close();
  });
  return { gateway, url };
}

/** Polls `/health` one request after the other until `done` settles; returns each latency (ms). */
async function healthDuring(url: string, done: Promise<unknown>, atLeast = 3): Promise<number[]> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  const latencies: number[] = [];
  while (!finished || latencies.length < atLeast) {
    const started = performance.now();
    const response = await fetch(`${url}/health`);
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
  }
  return latencies;
}

async function inFlight(url: string): Promise<number> {
  return ((await (await fetch(`${url}/health`)).json()) as { inFlight: number }).inFlight;
}

/** Waits until the gateway has no request in flight; false when `ms` passed first. */
async function settles(url: string, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if ((await inFlight(url)) === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('defect 1: validation is bounded by the input size', () => {
  // ~4 MB of empty objects, just under the default 4 MiB body limit (issue 12: 1,390,000 objects).
  const count = Number(process.env.OPENFUGU_HOSTILE_ITEMS ?? 1_390_000);

  it.each(['messages', 'tools'])(
    'a ~4 MB `%s: [{},{},…]` is a quick 400 and /health keeps answering',
    async (field) => {
      const h = await harness();
      const body = emptyObjectsBody('math', field, count);
      const hostile = post(h.url, body);
      const latencies = await healthDuring(h.url, hostile);
      const response = await hostile;
      expect(response.status).toBe(400);
      const error = ((await response.json()) as ErrorBody).error;
      expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request', param: field });
      // Generous: the old code stalled the event loop for tens of seconds (or died) on this body.
      expect(Math.max(...latencies)).toBeLessThan(2_000);
      // The gateway is still whole: a normal request is served.
      expect((await post(h.url, chat('math'))).status).toBe(200);
    },
  );

  it('more messages than maxMessages is a 400 naming messages', async () => {
    const h = await harness({ maxMessages: 10 });
    const messages = Array.from({ length: 11 }, () => ({ role: 'user', content: 'x' }));
    const response = await post(h.url, JSON.stringify({ model: 'math', messages }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.param).toBe('messages');
  });
});

describe('defect 2: client faults never count against workers', () => {
  it('deeply nested bodies are a 400 before anything runs; the pool stays whole', async () => {
    const h = await harness();
    const failureThreshold = 3; // the pool's default
    for (let i = 0; i < failureThreshold * 4; i++) {
      for (const model of ['fugu', 'math']) {
        const response = await post(h.url, deepBody(model, 100_000));
        expect(response.status).toBe(400);
        expect(((await response.json()) as ErrorBody).error.code).toBe('invalid_request');
      }
    }
    // 65 levels in tools[].function.parameters (over the default 64) is refused too.
    let parameters: unknown = { type: 'string' };
    for (let i = 0; i < 65; i++) parameters = { type: 'object', properties: { a: parameters } };
    const tools = [{ type: 'function', function: { name: 'f', parameters } }];
    const deepTool = await post(h.url, chat('math', { tools }));
    expect(deepTool.status).toBe(400);
    const health = (await (await fetch(`${h.url}/health`)).json()) as { pool: { coolingDown: number } };
    expect(health.pool.coolingDown).toBe(0);
    expect([...h.upstream.requests.values()].reduce((a, b) => a + b, 0)).toBe(0);
    expect((await post(h.url, chat('fugu'))).status).toBe(200);
  });

  it('an upstream 400 is answered as the request’s fault: no retry on other workers, no cooldown', async () => {
    const upstream = await scriptedUpstream((_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"secret upstream detail"}}');
    });
    const { url } = await scriptedGateway(upstream, { pool: { failureThreshold: 1 } }, {}, 3);
    for (let i = 0; i < 5; i++) {
      const response = await post(url, chat('fugu'));
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(text).not.toContain('secret');
    }
    expect(upstream.calls).toBe(5); // one call per request: never retried on another worker
    const health = (await (await fetch(`${url}/health`)).json()) as { pool: { coolingDown: number } };
    expect(health.pool.coolingDown).toBe(0);
  });
});

describe('defect 3: the deadline and the output cap cover a client that stops reading', () => {
  /** An upstream streaming `pieces` chunks of `size` characters as fast as it can. */
  const bigStream = (pieces: number, size: number) =>
    scriptedUpstream((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const piece = chunkEvent('x'.repeat(size));
      let sent = 0;
      const pump = (): void => {
        while (sent < pieces) {
          sent++;
          if (!response.write(piece)) {
            response.once('drain', pump);
            return;
          }
        }
        response.end(`${chunkEvent('', 'stop')}data: [DONE]\n\n`);
      };
      pump();
    });

  it('the request deadline ends a stream whose client stopped reading, and frees it', async () => {
    const requestTimeoutMs = 1_500;
    const upstream = await bigStream(512, 64 * 1024); // 32 MiB: far more than loopback socket buffers hold
    const { url } = await scriptedGateway(upstream, { requestTimeoutMs });
    const client = await rawClient(url, rawChatRequest(streamBody('w0')));
    cleanups.push(async () => {
      client.socket.destroy();
    });
    expect(await client.waitFor('text/event-stream', 10_000)).toBe(true);
    // Stops reading: the kernel buffers fill (32 MiB is far more than loopback holds), then the gateway's writes
    // wait for a drain that never comes (the code before issue 12 held the request forever).
    client.socket.pause();
    // Bound from the config: the deadline plus a generous margin for a loaded machine.
    expect(await settles(url, requestTimeoutMs + 10_000)).toBe(true);
  });

  it('the output cap cuts such a stream long before the deadline', async () => {
    const upstream = await bigStream(160, 192 * 1024); // events of 192 KiB: two of them pass the cap
    const { url } = await scriptedGateway(upstream, {
      requestTimeoutMs: 120_000,
      maxOutputBufferBytes: 256 * 1024,
    });
    const client = await rawClient(url, rawChatRequest(streamBody('w0')));
    cleanups.push(async () => {
      client.socket.destroy();
    });
    expect(await client.waitFor('text/event-stream', 10_000)).toBe(true);
    client.socket.pause();
    // The deadline is 120 s away; only the cap can end it within this bound.
    expect(await settles(url, 20_000)).toBe(true);
  });
});

describe('defect 3 (finished answers): the socket timeout covers a client that never reads them', () => {
  it('an 8 MiB JSON answer to a paused client: the connection is destroyed after socketTimeoutMs', async () => {
    const socketTimeoutMs = 1_000;
    const upstream = await scriptedUpstream((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(completionJson('x'.repeat(8 * 1024 * 1024)));
    });
    const { gateway, url } = await scriptedGateway(upstream, { socketTimeoutMs });
    const serverSockets: Socket[] = [];
    gateway.app.server.on('connection', (socket: Socket) => serverSockets.push(socket));
    const body = JSON.stringify({ model: 'w0', messages: [{ role: 'user', content: 'hi' }] });
    const client = await rawClient(url, rawChatRequest(body));
    cleanups.push(async () => {
      client.socket.destroy();
    });
    client.socket.pause(); // never reads the answer
    const end = performance.now() + 10_000;
    while (upstream.calls === 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(upstream.calls).toBe(1);
    expect(await settles(url, 10_000)).toBe(true); // the handler finished: the answer sits in socket buffers
    const mine = serverSockets.find((socket) => socket.remotePort === client.socket.localPort);
    expect(mine).toBeDefined();
    const closed = mine?.destroyed
      ? Promise.resolve()
      : new Promise<void>((resolve) => mine?.once('close', () => resolve()));
    // Bound from the config: the socket's inactivity timeout plus a generous margin.
    expect(await within(closed, socketTimeoutMs + 10_000)).toBe(true);
  });
});

describe('defect 4: admission runs before the body is read', () => {
  it('a keyless request that sends its headers and never its body gets 401 at once', async () => {
    const h = await harness({ apiKeys: [{ name: 'alice', key: 'sk-alice' }] });
    const client = await rawClient(
      h.url,
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n',
    );
    cleanups.push(async () => {
      client.socket.destroy();
    });
    // Bounded well under the body timeout (30 s): the old code waited for the 4 MB that never came.
    expect(await client.waitFor('HTTP/1.1 401', 10_000)).toBe(true);
    expect(client.received()).toContain('invalid_api_key');
  });

  it('throttles repeated failed authentications per client address', async () => {
    const h = await harness({
      apiKeys: [{ name: 'alice', key: 'sk-alice' }],
      authFailureLimit: { requestsPerMinute: 1, burst: 3 },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await post(h.url, chat('math'), { authorization: `Bearer wrong-${i}` });
      statuses.push(response.status);
      if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });

  it('the failed-auth budget is per client address (behind a trusted proxy: X-Forwarded-For)', async () => {
    const h = await harness({
      apiKeys: [{ name: 'alice', key: 'sk-alice' }],
      authFailureLimit: { requestsPerMinute: 1, burst: 1 },
      trustProxy: '127.0.0.1',
    });
    const from = (address: string, key: string) =>
      post(h.url, chat('math'), { authorization: `Bearer ${key}`, 'x-forwarded-for': address });
    expect((await from('10.0.0.1', 'wrong')).status).toBe(401);
    expect((await from('10.0.0.1', 'wrong')).status).toBe(429);
    expect((await from('10.0.0.2', 'wrong')).status).toBe(401); // another client is not refused
    expect((await from('10.0.0.3', 'sk-alice')).status).toBe(200);
  });

  it('/metrics follows the client keys by default', async () => {
    const h = await harness({ apiKeys: [{ name: 'alice', key: 'sk-alice' }] });
    expect((await fetch(`${h.url}/metrics`)).status).toBe(401);
    const keyed = await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer sk-alice' } });
    expect(keyed.status).toBe(200);
    const open = await harness({ apiKeys: [{ name: 'a', key: 'k' }], metricsRequireAuth: false });
    expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
  });
});

describe('defect 5: slow requests time out', () => {
  it('a body sent one byte at a time is cut within the configured body timeout', async () => {
    const bodyTimeoutMs = 1_000;
    const h = await harness({ bodyTimeoutMs, headersTimeoutMs: 500 });
    const client = await rawClient(
      h.url,
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    const drip = setInterval(() => client.socket.write(' '), 200);
    cleanups.push(async () => {
      clearInterval(drip);
      client.socket.destroy();
    });
    // Node checks the timeout at least every second; a generous margin on top.
    expect(await within(client.closed, bodyTimeoutMs + 10_000)).toBe(true);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408|^$/);
  });

  it('headers sent slowly are cut within the configured headers timeout', async () => {
    const headersTimeoutMs = 500;
    const h = await harness({ headersTimeoutMs, bodyTimeoutMs: 5_000 });
    const client = await rawClient(h.url, 'GET /health HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => client.socket.write('X-A: b\r\n'), 100);
    cleanups.push(async () => {
      clearInterval(drip);
      client.socket.destroy();
    });
    expect(await within(client.closed, headersTimeoutMs + 10_000)).toBe(true);
  });
});

describe('defect 6: SSE answers honour Connection: close', () => {
  it('answers `connection: close` and closes the socket after [DONE]', async () => {
    const h = await harness();
    const client = await rawClient(h.url, rawChatRequest(streamBody('math'), { Connection: 'close' }));
    cleanups.push(async () => {
      client.socket.destroy();
    });
    // The server closes the socket itself (keep-alive would hold it for 65 s).
    expect(await within(client.closed, 10_000)).toBe(true);
    const text = client.received().toLowerCase();
    expect(text).toContain('data: [done]');
    expect(text).toMatch(/\r\nconnection: close\r\n/);
    expect(text).not.toContain('keep-alive');
  });
});

describe('defect 7: every error is OpenAI-shaped with the right status', () => {
  it('bad percent-encoding and over-long model ids', async () => {
    const h = await harness();
    for (const path of ['/v1/models/%zz', `/v1/models/${'m'.repeat(5_000)}`]) {
      const response = await fetch(`${h.url}${path}`);
      expect(response.status).toBe(400);
      const error = ((await response.json()) as ErrorBody).error;
      expect(error.type).toBe('invalid_request_error');
      expect(JSON.stringify(error)).not.toContain('FST_');
    }
    const long = await post(h.url, chat('m'.repeat(5_000)));
    expect(long.status).toBe(400);
    expect(((await long.json()) as ErrorBody).error.param).toBe('model');
  });

  it('wrong methods on known routes are 405 with Allow', async () => {
    const h = await harness();
    for (const [method, path, allow] of [
      ['PUT', '/v1/chat/completions', 'POST'],
      ['DELETE', '/v1/chat/completions', 'POST'],
      ['PATCH', '/v1/models', 'GET, HEAD'],
      ['DELETE', '/v1/models/math', 'GET, HEAD'],
      ['POST', '/health', 'GET, HEAD'],
    ] as const) {
      const response = await fetch(`${h.url}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow')).toBe(allow);
      expect(((await response.json()) as ErrorBody).error.code).toBe('method_not_allowed');
    }
  });

  it('logs the cause of a 500 (the client sees only the safe message)', async () => {
    const lines: string[] = [];
    const broken: GatewayMode = {
      kind: 'run',
      model: 'broken',
      async run() {
        throw new Error('cause-of-the-500 at /src/secret.ts');
      },
    };
    const h = await startHarness({
      modes: () => [broken],
      config: { logger: { level: 'error', stream: { write: (line) => lines.push(line) } } },
    });
    cleanups.push(() => h.close());
    const response = await post(h.url, chat('broken'));
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('cause-of-the-500');
    expect(lines.join('\n')).toContain('cause-of-the-500');
  });

  it('503 no_available_worker carries Retry-After', async () => {
    const upstream = await scriptedUpstream((_request, response) => {
      response.writeHead(500);
      response.end();
    });
    const cooldownMs = 30_000;
    const { url } = await scriptedGateway(upstream, { pool: { failureThreshold: 1, cooldownMs } });
    expect((await post(url, chat('w0'))).status).toBe(502);
    const response = await post(url, chat('w0'));
    expect(response.status).toBe(503);
    expect(((await response.json()) as ErrorBody).error.code).toBe('no_available_worker');
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(cooldownMs / 1000);
  });
});

describe('defect 8: reads from upstreams are capped', () => {
  const maxResponseBytes = 256 * 1024;

  it('an upstream answer over maxResponseBytes fails as an upstream fault (502)', async () => {
    const upstream = await scriptedUpstream((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(completionJson('x'.repeat(4 * 1024 * 1024)));
    });
    const { url } = await scriptedGateway(upstream, {}, { maxResponseBytes });
    const response = await post(url, chat('w0'));
    expect(response.status).toBe(502);
    expect(((await response.json()) as ErrorBody).error.code).toBe('upstream_error');
  });

  it('an SSE line that never ends is cut at maxStreamEventBytes', async () => {
    const upstream = await scriptedUpstream((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${'x'.repeat(4 * 1024 * 1024)}`); // no newline, and the connection stays open
    });
    const { url } = await scriptedGateway(upstream, {}, { maxStreamEventBytes: 64 * 1024 });
    const response = await post(url, chat('w0', { stream: true }));
    // Cut at the cap, not after the 30 s stream idle timeout.
    const text = response.text();
    expect(await within(text, 10_000)).toBe(true);
    expect(await text).toContain('"code":"upstream_error"');
  });

  it('an SSE event over maxStreamEventBytes fails the stream in-band', async () => {
    const oneEvent = await scriptedUpstream((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`${chunkEvent('x'.repeat(1024 * 1024), 'stop')}data: [DONE]\n\n`);
    });
    const { url } = await scriptedGateway(oneEvent, {}, { maxStreamEventBytes: 64 * 1024 });
    const text = await (await post(url, chat('w0', { stream: true }))).text();
    expect(text).toContain('"code":"upstream_error"');
    expect(text).not.toContain('xxxx');
  });
});
