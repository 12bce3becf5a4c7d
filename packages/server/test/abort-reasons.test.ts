import { OpenFuguError, type Worker } from '@openfugu/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/index.js';

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

/** A worker that never answers on its own and records why its signal fired. */
function hangingWorker(seen: unknown[]): Worker {
  return {
    id: 'slow',
    complete: (_request, options) =>
      new Promise((_resolve, reject) => {
        options?.signal?.addEventListener('abort', () => {
          seen.push(options.signal?.reason);
          reject(new Error('aborted'));
        });
      }),
  };
}

describe('what a worker sees when a request is cut', () => {
  it('the request deadline: a timeout error as the signal reason, and a 504 for the client', async () => {
    const seen: unknown[] = [];
    gateway = createGateway({
      workers: [hangingWorker(seen)],
      config: { exposeWorkers: true, requestTimeoutMs: 100 },
    });
    const url = await gateway.listen({ port: 0 });
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('timeout');
    expect(seen).toHaveLength(1);
    expect(OpenFuguError.hasCode(seen[0], 'timeout')).toBe(true);
  });

  it('a client that goes away: an aborted error as the signal reason', async () => {
    const seen: unknown[] = [];
    gateway = createGateway({ workers: [hangingWorker(seen)], config: { exposeWorkers: true } });
    const url = await gateway.listen({ port: 0 });
    const controller = new AbortController();
    const pending = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }),
      signal: controller.signal,
    }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await pending;
    for (let i = 0; i < 100 && seen.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toHaveLength(1);
    expect(OpenFuguError.hasCode(seen[0], 'aborted')).toBe(true);
  });
});
