import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { emptyUsage, type Worker } from '@openfugu/schema';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WorkerPool } from '../pool.js';
import { createOpsHub, type OpsRequestDone } from './ops-hub.js';

/** An SSE response double: records what is written; `writableLength` says how much the client has not read. */
class FakeResponse extends EventEmitter {
  written: string[] = [];
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  write(text: string): boolean {
    this.written.push(text);
    return true;
  }
  end(): void {
    this.writableEnded = true;
  }
  /** The data of every `event: <name>` written, parsed. */
  events(name: string): unknown[] {
    return this.written
      .filter((text) => text.includes(`event: ${name}\n`))
      .map((text) => JSON.parse(/data: (.*)\n/.exec(text)?.[1] ?? 'null'));
  }
}

function done(id: string, extra: Partial<OpsRequestDone> = {}): OpsRequestDone {
  return {
    id,
    model: 'fugu',
    mode: 'run',
    status: 200,
    ms: 12.34,
    stream: false,
    usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
    costUsd: 0.001,
    calls: [{ workerId: 'math', outcome: 'ok', ms: 10 }],
    modeTrace: { turns: [] },
    ...extra,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createOpsHub', () => {
  it('keeps a bounded ring of traces: the oldest is forgotten, the newest found by id', () => {
    const hub = createOpsHub({ traceCapacity: 3 });
    for (let i = 0; i < 5; i++) hub.onRequestDone(done(`r${i}`));
    expect(hub.trace('r0')).toBeUndefined();
    expect(hub.trace('r1')).toBeUndefined();
    expect(hub.trace('r4')?.calls).toEqual([{ workerId: 'math', outcome: 'ok', ms: 10 }]);
    expect(hub.recent().map((row) => row.id)).toEqual(['r2', 'r3', 'r4']);
    expect(hub.recent(2).map((row) => row.id)).toEqual(['r3', 'r4']);
  });

  it('names the workers that ran, once each, and flags a fallback', () => {
    const hub = createOpsHub();
    hub.onRequestDone(
      done('a', {
        calls: [
          { workerId: 'math', outcome: 'error', ms: 3, error: 'upstream_error' },
          { workerId: 'coder', outcome: 'ok', ms: 4, fallbackFrom: 'math' },
          { workerId: 'math', outcome: 'ok', ms: 5 },
        ],
      }),
    );
    expect(hub.trace('a')).toMatchObject({ workers: ['math', 'coder'], fallback: true });
  });

  it('sends viewers batches on a timer, sampling down to the newest rows when busy', () => {
    vi.useFakeTimers();
    const hub = createOpsHub({ batchLimit: 5, flushIntervalMs: 250 });
    const viewer = new FakeResponse();
    hub.addViewer(viewer as unknown as ServerResponse);
    expect(viewer.events('snapshot')).toHaveLength(1);
    for (let i = 0; i < 12; i++) hub.onRequestDone(done(`r${i}`));
    expect(viewer.events('requests')).toHaveLength(0); // nothing on the request path
    vi.advanceTimersByTime(250);
    const [batch] = viewer.events('requests') as { skipped: number; rows: { id: string }[] }[];
    expect(batch?.rows.map((row) => row.id)).toEqual(['r7', 'r8', 'r9', 'r10', 'r11']);
    expect(batch?.skipped).toBe(7);
    hub.close();
  });

  it('drops and counts batches for a viewer that does not read, without holding them', () => {
    vi.useFakeTimers();
    const hub = createOpsHub({ flushIntervalMs: 100, maxBufferedBytes: 1000 });
    const slow = new FakeResponse();
    const fast = new FakeResponse();
    hub.addViewer(slow as unknown as ServerResponse);
    const handle = hub.addViewer(fast as unknown as ServerResponse);
    slow.writableLength = 5000;
    for (let round = 0; round < 3; round++) {
      hub.onRequestDone(done(`a${round}`));
      hub.onRequestDone(done(`b${round}`));
      vi.advanceTimersByTime(100);
    }
    expect(slow.events('requests')).toHaveLength(0);
    expect(fast.events('requests')).toHaveLength(3);
    slow.writableLength = 0;
    hub.onRequestDone(done('c'));
    vi.advanceTimersByTime(100);
    expect(slow.events('requests')).toEqual([
      { skipped: 0, dropped: 6, rows: [expect.objectContaining({ id: 'c' })] },
    ]);
    expect(handle?.dropped).toBe(0);
    hub.close();
    expect(slow.writableEnded && fast.writableEnded).toBe(true);
  });

  it('refuses viewers past maxViewers and forgets a viewer that closed', () => {
    const hub = createOpsHub({ maxViewers: 1 });
    const first = new FakeResponse();
    expect(hub.addViewer(first as unknown as ServerResponse)).toBeDefined();
    expect(hub.addViewer(new FakeResponse() as unknown as ServerResponse)).toBeUndefined();
    first.emit('close');
    expect(hub.viewerCount).toBe(0);
    expect(hub.addViewer(new FakeResponse() as unknown as ServerResponse)).toBeDefined();
    hub.close();
  });

  it('sums spend per key name (anonymous without one) and per public model, per minute', () => {
    let now = Date.UTC(2026, 11, 4, 10, 0, 30);
    const hub = createOpsHub({ now: () => now });
    hub.onRequestDone(done('1', { key: 'alice' }));
    hub.onRequestDone(done('2', { key: 'bob', model: 'fugu-ultra', costUsd: 0.01 }));
    now += 60_000;
    hub.onRequestDone(done('3', { key: 'alice', status: 502, costUsd: 0 }));
    hub.onRequestDone(done('4', { model: 'fugu-ultra', costUsd: 0 }));
    const spend = hub.spend();
    expect(spend.byKey.alice).toMatchObject({ requests: 2, errors: 1, promptTokens: 20, costUsd: 0.001 });
    expect(spend.byKey.bob).toMatchObject({ requests: 1, costUsd: 0.01 });
    expect(spend.byKey.anonymous).toMatchObject({ requests: 1 });
    expect(spend.minutes).toEqual([Date.UTC(2026, 11, 4, 10, 0), Date.UTC(2026, 11, 4, 10, 1)]);
    expect(spend.series.fugu).toEqual({ requests: [1, 1], costUsd: [0.001, 0] });
    expect(spend.series['fugu-ultra']).toEqual({ requests: [1, 1], costUsd: [0.01, 0] });
  });

  it('never throws into the request path: an odd key name, a malformed record', () => {
    const hub = createOpsHub();
    hub.onRequestDone(done('a', { key: ['alice', 'bob'] as unknown as string }));
    expect(hub.trace('a')?.key).toBe('anonymous');
    expect(() =>
      hub.onRequestDone({ ...done('b'), calls: undefined } as unknown as OpsRequestDone),
    ).not.toThrow();
    expect(hub.trace('b')).toBeUndefined();
  });

  it("says until when a worker cools down, from the pool's own cooldown left", () => {
    const now = 1_000_000;
    const left = new Map<string, number>();
    const workers: Worker[] = ['math', 'coder', 'writer'].map((id) => ({
      id,
      complete: async () => ({ content: '' }),
    }));
    const pool = {
      workers,
      isAvailable: (id: string) => (left.get(id) ?? 0) <= 0,
      cooldownLeftMs: (id: string) => left.get(id) ?? 0,
    } as unknown as WorkerPool;
    const hub = createOpsHub({ now: () => now });
    hub.attach(pool);
    hub.onCall({ workerId: 'math', outcome: 'ok', ms: 10 });
    hub.onCall({ workerId: 'math', outcome: 'error', ms: 20, error: 'upstream_error' });
    left.set('math', 30_000);
    hub.onCall({ workerId: 'math', outcome: 'timeout', ms: 30 });
    hub.onCall({ workerId: 'coder', outcome: 'aborted', ms: 5, usage: emptyUsage() });
    // Cooling without a failure this hub saw (another replica's breaker, an upstream's Retry-After).
    left.set('writer', 4_500);
    const [math, coder, writer] = hub.health();
    expect(math).toEqual({
      id: 'math',
      available: false,
      coolingUntil: now + 30_000,
      calls: 3,
      errors: 2,
      errorRate: 2 / 3,
      meanMs: 20,
      lastError: { at: now, code: 'timeout' },
    });
    expect(coder).toMatchObject({ available: true, coolingUntil: null, calls: 1, errors: 0 });
    expect(writer).toMatchObject({ available: false, coolingUntil: now + 4_500, calls: 0 });
  });
});
