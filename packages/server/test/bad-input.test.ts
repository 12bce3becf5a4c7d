import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './helpers.js';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ config: { bodyLimitBytes: 256 * 1024, maxMessages: 1000 } });
});
afterAll(async () => {
  await harness.close();
});

interface ErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

async function post(
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${harness.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, headers: response.headers };
}

function expectError(
  result: { status: number; json: unknown },
  status: number,
  code: string,
  param?: string | null,
): ErrorBody {
  expect(result.status).toBe(status);
  const body = result.json as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatchObject({ code, type: expect.any(String), message: expect.any(String) });
  if (param !== undefined) expect(body.error.param).toBe(param);
  expect(JSON.stringify(body)).not.toMatch(/sim-|at .*\.ts:\d+|node_modules/);
  return body;
}

const ok = (content: unknown): string =>
  JSON.stringify({ model: 'fugu', messages: [{ role: 'user', content }] });

describe('bad input gets a precise OpenAI error', () => {
  it('malformed JSON → 400 invalid_json', async () => {
    expectError(await post('{"model": "fugu", "messages": ['), 400, 'invalid_json');
    expectError(await post('not json at all'), 400, 'invalid_json');
    expectError(await post(''), 400, 'invalid_json');
  });

  it('prototype-poisoning keys are rejected as invalid JSON', async () => {
    expectError(
      await post('{"model":"fugu","messages":[{"role":"user","content":"x"}],"__proto__":{"admin":true}}'),
      400,
      'invalid_json',
    );
  });

  it('oversized body → 413 payload_too_large', async () => {
    expectError(await post(ok('x'.repeat(300 * 1024))), 413, 'payload_too_large');
  });

  it('wrong content type → 415', async () => {
    expectError(await post(ok('hi'), { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
  });

  it('schema violations point at the offending field', async () => {
    expectError(
      await post(JSON.stringify({ model: 'fugu', messages: 'hi' })),
      400,
      'invalid_request',
      'messages',
    );
    expectError(
      await post(JSON.stringify({ messages: [{ role: 'user', content: 'x' }] })),
      400,
      'invalid_request',
      'model',
    );
    expectError(
      await post(
        JSON.stringify({ model: 'fugu', messages: [{ role: 'user', content: 'x' }], temperature: '1' }),
      ),
      400,
      'invalid_request',
      'temperature',
    );
    expectError(
      await post(
        JSON.stringify({ model: 'fugu', messages: [{ role: 'user', content: 'x' }], max_tokens: -3 }),
      ),
      400,
      'invalid_request',
      'max_tokens',
    );
    const role = expectError(
      await post(JSON.stringify({ model: 'fugu', messages: [{ role: 'robot', content: 'x' }] })),
      400,
      'invalid_request',
    );
    expect(role.error.param).toBe('messages[0].role');
    expect(role.error.message).toContain('must be one of');
    expectError(await post(JSON.stringify([1, 2, 3])), 400, 'invalid_request');
    expectError(await post('null'), 400, 'invalid_request');
  });

  it('unknown model → 404 model_not_found', async () => {
    const body = expectError(
      await post(JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'x' }] })),
      404,
      'model_not_found',
      'model',
    );
    expect(body.error.message).toContain('gpt-5');
  });

  it('a huge message list is refused with a clear limit, a large one is served', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({
      role: i % 2 ? 'assistant' : 'user',
      content: `m${i}`,
    }));
    expectError(
      await post(JSON.stringify({ model: 'fugu', messages: many })),
      400,
      'invalid_request',
      'messages',
    );
    const fine = many.slice(0, 999);
    expect((await post(JSON.stringify({ model: 'fugu', messages: fine }))).status).toBe(200);
  });

  it('n above maxChoices (default 8) on a mode is refused with param n; n beyond 128 fails the schema', async () => {
    expectError(
      await post(JSON.stringify({ model: 'fugu', n: 9, messages: [{ role: 'user', content: 'x' }] })),
      400,
      'invalid_request',
      'n',
    );
    expectError(
      await post(JSON.stringify({ model: 'fugu', n: 0, messages: [{ role: 'user', content: 'x' }] })),
      400,
      'invalid_request',
      'n',
    );
    expectError(
      await post(JSON.stringify({ model: 'fugu', n: 1.5, messages: [{ role: 'user', content: 'x' }] })),
      400,
      'invalid_request',
      'n',
    );
  });

  it('unknown routes and methods answer in the OpenAI shape', async () => {
    const missing = await fetch(`${harness.url}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).error.code).toBe('not_found');
    const wrongMethod = await fetch(`${harness.url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(((await wrongMethod.json()) as ErrorBody).error.code).toBe('method_not_allowed');
  });
});

describe('unicode edge cases', () => {
  const weather = (city: string): string =>
    JSON.stringify({
      model: 'math',
      messages: [{ role: 'user', content: `weather in "${city}"` }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'w',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
    });

  it.each([
    ['emoji and ZWJ sequences', '👩‍👩‍👧 🇨🇭 😀'],
    ['right-to-left text', 'القاهرة עברית'],
    ['combining marks', 'Zu\u0308rich'],
  ])('%s survive the round trip through the gateway', async (_name, city) => {
    const result = await post(weather(city));
    expect(result.status).toBe(200);
    const body = result.json as {
      choices: { message: { tool_calls: { function: { arguments: string } }[] } }[];
    };
    expect(JSON.parse(body.choices[0]!.message.tool_calls[0]!.function.arguments)).toEqual({ city });
  });

  it('lone surrogates (escaped) are accepted and answered with well-formed JSON', async () => {
    const result = await post(
      '{"model":"fugu","messages":[{"role":"user","content":"bad \\ud800 half \\udc00 pair"}]}',
    );
    expect(result.status).toBe(200);
  });

  it('invalid UTF-8 bytes do not crash the server', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"model":"fugu","messages":[{"role":"user","content":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}]}'),
    ]);
    const response = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bytes,
    });
    expect([200, 400]).toContain(response.status);
    expect(await response.json()).toBeTypeOf('object');
  });
});

describe('header abuse', () => {
  const raw = (headers: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const url = new URL(harness.url);
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(headers);
      });
      let data = '';
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('latin1');
      });
      socket.on('end', () => resolve(data));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(3000, () => socket.destroy());
    });

  it('oversized headers → 431 from the HTTP parser, server keeps serving', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(harness.url);
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: '/v1/models', headers: { 'x-junk': 'a'.repeat(40_000) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
    expect((await post(ok('still alive?'))).status).toBe(200);
  });

  it('conflicting Content-Length headers are refused with 400', async () => {
    const response = await raw(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}',
    );
    expect(response).toMatch(/^HTTP\/1\.1 400/);
  });

  it('the debug header does nothing when the debug trace is not enabled', async () => {
    const result = await post(ok('What is 1 + 1?'), { 'x-openfugu-debug': '1' });
    expect(result.status).toBe(200);
    expect(JSON.stringify(result.json)).not.toContain('openfugu_trace');
    expect([...result.headers.keys()].join(' ')).not.toMatch(/worker|upstream/);
  });
});
