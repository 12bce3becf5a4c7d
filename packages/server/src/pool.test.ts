import { TimeoutError, UpstreamError, type Worker } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { createLedger, createWorkerPool } from './pool.js';

function worker(id: string, behaviour: () => Promise<string>): Worker & { calls: number } {
  const result = {
    id,
    calls: 0,
    async complete() {
      result.calls++;
      return {
        content: await behaviour(),
        usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
      };
    },
  };
  return result;
}

const fail =
  (status = 500) =>
  async (): Promise<string> => {
    throw new UpstreamError({ message: 'down', statusCode: status });
  };
const request = { messages: [{ role: 'user' as const, content: 'q' }] };

describe('createWorkerPool', () => {
  it('falls back to the next worker and sums usage and cost over every successful call', async () => {
    const a = worker('a', fail());
    const b = worker('b', async () => 'from b');
    const pool = createWorkerPool({ workers: [a, b], prices: { b: { input: 1, output: 2 } } });
    const ledger = createLedger();
    const result = await pool.complete('a', request, ledger);
    expect(result).toMatchObject({ workerId: 'b', response: { content: 'from b' } });
    expect(ledger.calls.map((call) => [call.workerId, call.outcome, call.fallbackFrom])).toEqual([
      ['a', 'error', undefined],
      ['b', 'ok', 'a'],
    ]);
    expect(ledger.usage.totalTokens).toBe(15);
    expect(ledger.costUsd).toBeCloseTo((10 * 1 + 5 * 2) / 1e6, 12);
  });

  it('opens the circuit after consecutive failures and closes it after the cooldown', async () => {
    let now = 0;
    const a = worker('a', fail());
    const b = worker('b', async () => 'b');
    const pool = createWorkerPool({
      workers: [a, b],
      failureThreshold: 2,
      cooldownMs: 1_000,
      now: () => now,
    });
    for (let i = 0; i < 2; i++) await pool.complete('a', request, createLedger());
    expect(pool.isAvailable('a')).toBe(false);
    expect(pool.status()).toEqual({ size: 2, available: 1, coolingDown: 1 });
    await pool.complete('a', request, createLedger());
    expect(a.calls).toBe(2); // skipped while open
    now = 1_001;
    expect(pool.isAvailable('a')).toBe(true);
  });

  it('does not count client errors (4xx) against health nor retry them elsewhere, and does not fall back on aborts', async () => {
    const a = worker('a', fail(400));
    const b = worker('b', async () => 'b');
    const pool = createWorkerPool({ workers: [a, b], failureThreshold: 1 });
    await expect(pool.complete('a', request, createLedger())).rejects.toMatchObject({ statusCode: 400 });
    expect(pool.isAvailable('a')).toBe(true);
    expect(b.calls).toBe(0); // a request fault fails on every worker: never retried on another one
    const controller = new AbortController();
    controller.abort();
    const c = worker('c', async () => {
      throw new TimeoutError({ message: 't', timeoutMs: 1 });
    });
    const pool2 = createWorkerPool({ workers: [c, b] });
    await expect(
      pool2.complete('c', request, createLedger(), { signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'timeout' });
    expect(b.calls).toBe(0);
  });

  it('reports no available worker when everything cools down', async () => {
    const pool = createWorkerPool({ workers: [worker('a', fail())], failureThreshold: 1 });
    await expect(pool.complete('a', request, createLedger())).rejects.toMatchObject({
      code: 'upstream_error',
    });
    await expect(pool.complete('a', request, createLedger())).rejects.toMatchObject({
      code: 'no_available_worker',
    });
  });

  it('reports the cooldown left: its own open circuit, or the longer cooldown the shared health knows of', async () => {
    let now = 0;
    let shared = 0;
    const a = worker('a', fail());
    const b = worker('b', async () => 'b');
    const pool = createWorkerPool({
      workers: [a, b],
      failureThreshold: 1,
      cooldownMs: 1_000,
      now: () => now,
      health: { cooldownLeftMs: (id) => (id === 'b' ? shared : 0), failed() {}, recovered() {} },
    });
    expect([pool.cooldownLeftMs('a'), pool.cooldownLeftMs('b')]).toEqual([0, 0]);
    await pool.complete('a', request, createLedger());
    now = 250;
    expect(pool.cooldownLeftMs('a')).toBe(750);
    shared = 5_000; // e.g. another replica opened b's circuit, or an upstream 429 said Retry-After: 5
    expect(pool.cooldownLeftMs('b')).toBe(5_000);
    expect(pool.isAvailable('b')).toBe(false);
    expect(pool.retryAfterMs()).toBe(750);
    now = 1_000;
    expect(pool.cooldownLeftMs('a')).toBe(0);
    expect(pool.isAvailable('a')).toBe(true);
    expect(pool.cooldownLeftMs('nobody')).toBe(0);
  });
});
