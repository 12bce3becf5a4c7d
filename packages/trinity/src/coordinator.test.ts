import { UpstreamError, type Worker } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { createHashingBackbone } from './backbones/hashing.js';
import { type FinalCallOptions, runCoordinator } from './coordinator.js';
import { createRouterHead } from './head.js';
import { createRouter } from './router.js';
import { createScriptedRouter, createScriptedWorker } from './test.js';

const messages = [{ role: 'user' as const, content: 'What is 17 × 3?' }];
const usage = (n: number) => ({ promptTokens: n, completionTokens: n, totalTokens: 2 * n });

describe('runCoordinator', () => {
  it('Worker answers, Verifier accepts: ends with reason accepted, usage summed, trace complete', async () => {
    const a = createScriptedWorker({ id: 'a', replies: [{ content: '51', usage: usage(3) }] });
    const b = createScriptedWorker({ id: 'b', replies: [{ content: 'ACCEPT', usage: usage(2) }] });
    const router = createScriptedRouter(
      ['a', 'b'],
      [
        { agent: 'a', role: 'worker' },
        { agent: 'b', role: 'verifier' },
      ],
    );
    const times = [0, 5, 10, 12];
    const result = await runCoordinator({
      router,
      workers: [a, b],
      messages,
      now: () => times.shift() ?? 99,
    });
    expect(result.reason).toBe('accepted');
    expect(result.answer).toBe('51');
    expect(result.usage).toEqual(usage(5));
    expect(result.turns.map((t) => [t.turn, t.agent, t.role, t.reply])).toEqual([
      [1, 'a', 'worker', '51'],
      [2, 'b', 'verifier', 'ACCEPT'],
    ]);
    expect(result.turns[0]!.latencyMs).toBe(5);
    expect(result.turns[1]!.latencyMs).toBe(2);
    expect(result.turns[1]!.accepted).toBe(true);
    expect(a.calls[0]!.messages).toEqual(messages);
    expect(String(b.calls[0]!.messages[1]!.content)).toContain('<answer>\n51\n</answer>');
    // The observation grows with each Worker response in numbered tags.
    expect(router.observations).toEqual([
      'user: What is 17 × 3?',
      'user: What is 17 × 3?\n<response_1>\n51\n</response_1>',
    ]);
  });

  it("reports the answering call's finish reason and never accepts an answer cut at the token limit", async () => {
    const a = createScriptedWorker({
      id: 'a',
      replies: [
        { content: 'The answ', finishReason: 'length' },
        { content: '51', finishReason: 'stop' },
      ],
    });
    const b = createScriptedWorker({ id: 'b', replies: ['ACCEPT'] });
    const router = createScriptedRouter(
      ['a', 'b'],
      [
        { agent: 'a', role: 'worker' },
        { agent: 'b', role: 'verifier' },
        { agent: 'a', role: 'worker' },
        { agent: 'b', role: 'verifier' },
      ],
    );
    const result = await runCoordinator({ router, workers: [a, b], messages, maxTokens: 2 });
    expect(result.turns.map((turn) => [turn.role, turn.finishReason, turn.accepted])).toEqual([
      ['worker', 'length', undefined],
      ['verifier', undefined, false],
      ['worker', 'stop', undefined],
      ['verifier', undefined, true],
    ]);
    // The next Worker is told why: the Verifier's ACCEPT was replaced by the truncation critique.
    expect(JSON.stringify(a.calls[1]!.messages)).toMatch(/cut off at the token limit/);
    expect(result).toMatchObject({ reason: 'accepted', answer: '51', finishReason: 'stop' });

    const cut = createScriptedWorker({ id: 'a', replies: [{ content: 'The answ', finishReason: 'length' }] });
    const alwaysAccept = createScriptedWorker({ id: 'b', replies: ['ACCEPT'] });
    const ended = await runCoordinator({
      router: createScriptedRouter(
        ['a', 'b'],
        [
          { agent: 'a', role: 'worker' },
          { agent: 'b', role: 'verifier' },
        ],
      ),
      workers: [cut, alwaysAccept],
      messages,
      maxTurns: 2,
    });
    expect(ended).toMatchObject({ reason: 'max_turns', answer: 'The answ', finishReason: 'length' });
  });

  it('turns a Verifier chosen before any answer into a Worker', async () => {
    const a = createScriptedWorker({ id: 'a', replies: ['51', 'ACCEPT'] });
    const router = createScriptedRouter(['a'], [{ agent: 'a', role: 'verifier' }]);
    const result = await runCoordinator({ router, workers: [a], messages });
    expect(result.turns[0]).toMatchObject({
      role: 'worker',
      routedRole: 'verifier',
      roleChange: 'verifier_before_answer',
    });
    expect(result.turns[1]).toMatchObject({ role: 'verifier', accepted: true });
    expect(result.reason).toBe('accepted');
  });

  it('passes Thinker hints and Verifier critiques to the next Worker; stops at maxTurns', async () => {
    const worker = createScriptedWorker({ id: 'w', replies: ['50', '51'] });
    const thinker = createScriptedWorker({
      id: 't',
      replies: ['NEXT: VERIFIER\nHINT: 17 × 3 = 17 + 17 + 17'],
    });
    const verifier = createScriptedWorker({ id: 'v', replies: ['Wrong: 17 × 3 is not 50.'] });
    const router = createScriptedRouter(
      ['w', 't', 'v'],
      [
        { agent: 't', role: 'thinker' },
        { agent: 'w', role: 'worker' },
        { agent: 'v', role: 'verifier' },
        { agent: 'w', role: 'worker' },
      ],
    );
    const result = await runCoordinator({
      router,
      workers: [worker, thinker, verifier],
      messages,
      maxTurns: 4,
    });
    expect(result.reason).toBe('max_turns');
    expect(result.answer).toBe('51');
    expect(result.turns.map((t) => t.role)).toEqual(['thinker', 'worker', 'verifier', 'worker']);
    expect(result.turns[0]!.suggestion).toEqual({ nextRole: 'verifier', hint: '17 × 3 = 17 + 17 + 17' });
    expect(String(worker.calls[0]!.messages.at(-1)!.content)).toContain('17 + 17 + 17');
    const second = String(worker.calls[1]!.messages.at(-1)!.content);
    expect(second).toContain('<answer>\n50\n</answer>');
    expect(second).toContain('Wrong: 17 × 3 is not 50.');
    expect(second).not.toContain('17 + 17 + 17');
    expect(result.observation).toContain('<response_2>\n51\n</response_2>');
    expect(result.usage.totalTokens).toBe(4 * 15);
  });

  it('can follow the Thinker suggestion and forces an answer on the last turn', async () => {
    const w = createScriptedWorker({ id: 'w', replies: ['51', 'ACCEPT'] });
    const t = createScriptedWorker({ id: 't', replies: ['NEXT: verifier'] });
    const router = createScriptedRouter(
      ['w', 't'],
      [
        { agent: 't', role: 'thinker' },
        { agent: 'w', role: 'worker' },
        { agent: 'w', role: 'worker' },
      ],
    );
    const followed = await runCoordinator({
      router,
      workers: [w, t],
      messages,
      followThinkerRole: true,
      maxTurns: 3,
    });
    // Turn 2: suggestion "verifier" but no answer yet → Worker; turn 3 plays the router's worker role.
    expect(followed.turns[1]).toMatchObject({ role: 'worker', roleChange: 'verifier_before_answer' });
    const thinkOnly = createScriptedRouter(['t'], [{ agent: 't', role: 'thinker' }]);
    const t2 = createScriptedWorker({ id: 't', replies: ['NEXT: worker', 'NEXT: worker', '42'] });
    const forced = await runCoordinator({ router: thinkOnly, workers: [t2], messages, maxTurns: 3 });
    expect(forced.turns.map((x) => x.role)).toEqual(['thinker', 'thinker', 'worker']);
    expect(forced.turns[2]!.roleChange).toBe('last_turn_needs_answer');
    expect(forced.answer).toBe('42');
  });

  it('ends with reason error and a typed error when a worker fails (default)', async () => {
    const a = createScriptedWorker({ id: 'a', replies: [new Error('HTTP 500')] });
    const router = createScriptedRouter(['a'], [{ agent: 'a', role: 'worker' }]);
    const result = await runCoordinator({ router, workers: [a], messages });
    expect(result.reason).toBe('error');
    expect(UpstreamError.isInstance(result.error)).toBe(true);
    expect(result.error).toMatchObject({ code: 'upstream_error', workerId: 'a' });
    expect(result.turns[0]!.error).toBeDefined();
  });

  it('falls back to another worker when asked, masking the failed one', async () => {
    const a = createScriptedWorker({ id: 'a', replies: [new Error('down')] });
    const b = createScriptedWorker({ id: 'b', replies: ['51'] });
    const router = createScriptedRouter(['a', 'b'], [{ agent: 'a', role: 'worker' }]);
    const result = await runCoordinator({
      router,
      workers: [a, b],
      messages,
      maxTurns: 2,
      onWorkerError: 'fallback',
    });
    expect(result.turns.map((t) => [t.turn, t.agent, t.error === undefined])).toEqual([
      [1, 'a', false],
      [1, 'b', true],
      [2, 'b', true],
    ]);
    expect(result.answer).toBe('51');
    const allDown = await runCoordinator({
      router: createScriptedRouter(['a'], [{ agent: 'a', role: 'worker' }]),
      workers: [createScriptedWorker({ id: 'a', replies: [new Error('down')] })],
      messages,
      onWorkerError: 'fallback',
    });
    expect(allDown.reason).toBe('error');
    expect(allDown.error?.code).toBe('no_available_worker');
  });

  it('times out a slow turn with a TimeoutError and aborts the worker call', async () => {
    // A reply that would take two minutes: the turn ending at all proves the timeout cut it.
    const slow = createScriptedWorker({ id: 's', replies: ['late'], delayMs: 120_000 });
    const router = createScriptedRouter(['s'], [{ agent: 's', role: 'worker' }]);
    const result = await runCoordinator({ router, workers: [slow], messages, turnTimeoutMs: 30 });
    expect(result.reason).toBe('error');
    expect(result.error?.code).toBe('timeout');
  });

  it('stops with reason aborted when the caller aborts (also for workers that ignore the signal)', async () => {
    const controller = new AbortController();
    const deaf = { id: 'd', complete: () => new Promise<never>(() => {}) };
    const router = createScriptedRouter(['d'], [{ agent: 'd', role: 'worker' }]);
    setTimeout(() => controller.abort(), 20);
    const result = await runCoordinator({ router, workers: [deaf], messages, signal: controller.signal });
    expect(result.reason).toBe('aborted');
    expect(result.error?.code).toBe('aborted');
    const pre = await runCoordinator({ router, workers: [deaf], messages, signal: AbortSignal.abort() });
    expect(pre.reason).toBe('aborted');
    expect(pre.turns).toHaveLength(0);
  });

  it('masks agents without workers or outside the run mask; a fully masked pool is an error result', async () => {
    const b = createScriptedWorker({ id: 'b', replies: ['51'] });
    const router = createScriptedRouter(['a', 'b'], [{ agent: 'a', role: 'worker' }]);
    const result = await runCoordinator({ router, workers: [b], messages, maxTurns: 1 });
    expect(result.turns[0]!.agent).toBe('b');
    const none = await runCoordinator({ router, workers: [b], messages, mask: ['a'] });
    expect(none.reason).toBe('error');
    expect(none.error?.code).toBe('no_available_worker');
  });

  it('runs end to end with a real hashing router', async () => {
    const backbone = createHashingBackbone({ dimension: 32 });
    // Agent row 0 zero, agent row 1 positive along the query direction; role rows: Worker preferred.
    const q = backbone.embedSync('user: What is 17 × 3?');
    const weights = new Float64Array(5 * 32);
    for (let i = 0; i < 32; i++) {
      weights[32 + i] = q[i]!;
      weights[2 * 32 + i] = q[i]!;
    }
    const router = createRouter({
      backbone,
      head: createRouterHead({ agentCount: 2, dimension: 32, weights }),
      agents: ['x', 'y'],
    });
    const y = createScriptedWorker({ id: 'y', replies: ['51'] });
    const x = createScriptedWorker({ id: 'x', replies: ['?'] });
    const result = await runCoordinator({ router, workers: [x, y], messages, maxTurns: 2 });
    expect(result.turns.map((t) => [t.agent, t.role])).toEqual([
      ['y', 'worker'],
      ['y', 'worker'],
    ]);
    expect(result.turns[0]!.agentProbabilities[1]).toBeGreaterThan(0.5);
  });
});

describe('runCoordinator: final calls', () => {
  /** A worker that records the call options it was given. */
  const recording = (id: string, replies: string[], fail = 0) => {
    const options: (FinalCallOptions | undefined)[] = [];
    let failures = fail;
    const worker: Worker = {
      id,
      async complete(_request, callOptions) {
        options.push(callOptions as FinalCallOptions | undefined);
        if (failures-- > 0) throw new UpstreamError({ message: 'down', workerId: id });
        return { content: replies.shift() ?? '' };
      },
    };
    return { worker, options };
  };

  it('marks only the Worker call on the last allowed turn final', async () => {
    const a = recording('a', ['draft', 'more thoughts', 'better']);
    const b = recording('b', ['the draft is wrong']);
    const router = createScriptedRouter(
      ['a', 'b'],
      [
        { agent: 'a', role: 'worker' },
        { agent: 'b', role: 'verifier' },
        { agent: 'a', role: 'thinker' },
        { agent: 'a', role: 'worker' },
      ],
    );
    const result = await runCoordinator({ router, workers: [a.worker, b.worker], messages, maxTurns: 4 });
    expect(result.reason).toBe('max_turns');
    expect(result.answer).toBe('better');
    expect(a.options.map((o) => o?.final)).toEqual([undefined, undefined, true]);
    expect(b.options.map((o) => o?.final)).toEqual([undefined]);
    expect(a.options.every((o) => o?.signal !== undefined)).toBe(true);
    expect(result.turns.map((t) => t.final)).toEqual([undefined, undefined, undefined, true]);
  });

  it('marks the single turn of maxTurns 1 final, also the forced answer and its fallback retry', async () => {
    const a = recording('a', [], 1);
    const b = recording('b', ['42']);
    const router = createScriptedRouter(
      ['a', 'b'],
      [
        { agent: 'a', role: 'thinker' },
        { agent: 'b', role: 'thinker' },
      ],
    );
    const result = await runCoordinator({
      router,
      workers: [a.worker, b.worker],
      messages,
      maxTurns: 1,
      onWorkerError: 'fallback',
    });
    expect(result.answer).toBe('42');
    expect(result.turns.map((t) => [t.agent, t.role, t.roleChange, t.final])).toEqual([
      ['a', 'worker', 'last_turn_needs_answer', true],
      ['b', 'worker', 'last_turn_needs_answer', true],
    ]);
    expect([...a.options, ...b.options].map((o) => o?.final)).toEqual([true, true]);
  });

  it('never marks a Thinker or Verifier on the last turn final, nor a Worker before it', async () => {
    const a = recording('a', ['51', 'not sure']);
    const router = createScriptedRouter(
      ['a'],
      [
        { agent: 'a', role: 'worker' },
        { agent: 'a', role: 'verifier' },
      ],
    );
    const result = await runCoordinator({ router, workers: [a.worker], messages, maxTurns: 2 });
    expect(result.answer).toBe('51');
    expect(a.options.map((o) => o?.final)).toEqual([undefined, undefined]);
  });
});
