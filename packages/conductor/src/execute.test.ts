import { AbortedError, TimeoutError, UpstreamError, type Worker, type Workflow } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { fakeWorker } from './__fixtures__/workers.js';
import { executeWorkflow, type FinalCallOptions, workflowDependencies } from './execute.js';
import { buildStepMessages } from './step-prompt.js';

const usage = { promptTokens: 10, completionTokens: 5, totalTokens: 15 };
const userText = (messages: { role: string; content?: unknown }[]): string =>
  messages
    .filter((message) => message.role === 'user')
    .map((message) => String(message.content))
    .join('\n');

const fanIn: Workflow = {
  steps: [
    { worker: 'a', subtask: 'Solve it one way.', access: [] },
    { worker: 'b', subtask: 'Solve it another way.', access: [] },
    { worker: 'c', subtask: 'Combine both and answer.', access: 'all' },
  ],
};

describe('executeWorkflow', () => {
  it('runs two independent steps in parallel: both start before either finishes; the join waits for both', async () => {
    // Proof by overlap, not by wall-clock: each of a and b logs its start, then waits until both have started
    // (a barrier). Run one after the other, the first would wait forever and hit the step deadline.
    const events: string[] = [];
    let release: () => void = () => {};
    const bothStarted = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated = (id: string): Worker => ({
      id,
      async complete(request) {
        events.push(`start ${id}`);
        if (events.filter((event) => event.startsWith('start ')).length === 2) release();
        if (id !== 'c') await bothStarted;
        events.push(`end ${id}`);
        return { content: `${id}: ${userText(request.messages).length}`, usage };
      },
    });
    const run = await executeWorkflow(fanIn, {
      question: 'Q?',
      workers: ['a', 'b', 'c'].map(gated),
      stepTimeoutMs: 10_000,
      retries: 0,
    });
    expect(run.status).toBe('completed');
    expect(events.slice(0, 2).sort()).toEqual(['start a', 'start b']);
    expect(events.slice(2, 4).sort()).toEqual(['end a', 'end b']);
    expect(events.slice(4)).toEqual(['start c', 'end c']);
    // The trace says the same with the executor's clock: the join started after both ended.
    const [first, second, join] = run.trace;
    expect(Math.max(first!.startedAtMs!, second!.startedAtMs!)).toBeLessThanOrEqual(
      Math.min(first!.endedAtMs!, second!.endedAtMs!),
    );
    expect(join!.startedAtMs!).toBeGreaterThanOrEqual(Math.max(first!.endedAtMs!, second!.endedAtMs!));
  });

  it('runs them one after the other with concurrency 1 (the overlap check above can fail)', async () => {
    const events: string[] = [];
    const logged = (id: string): Worker => ({
      id,
      async complete() {
        events.push(`start ${id}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`end ${id}`);
        return { content: id, usage };
      },
    });
    const run = await executeWorkflow(fanIn, {
      question: 'Q?',
      workers: ['a', 'b', 'c'].map(logged),
      concurrency: 1,
    });
    expect(run.status).toBe('completed');
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('gives each step the question, its subtask and the visible earlier subtasks and outputs', async () => {
    const workers = ['a', 'b', 'c'].map((id) => fakeWorker(id, { reply: () => `OUTPUT-OF-${id}`, usage }));
    const run = await executeWorkflow(fanIn, { question: 'How many eggs?', workers });
    expect(run.answer).toBe('OUTPUT-OF-c');
    const [a, , c] = workers;
    const firstPrompt = userText(a!.requests[0]!.messages);
    expect(firstPrompt).toContain('How many eggs?');
    expect(firstPrompt).toContain('Solve it one way.');
    expect(firstPrompt).not.toContain('OUTPUT-OF');
    const joinPrompt = userText(c!.requests[0]!.messages);
    expect(joinPrompt).toContain('How many eggs?');
    expect(joinPrompt).toContain('Solve it one way.');
    expect(joinPrompt).toContain('Solve it another way.');
    expect(joinPrompt).toContain('OUTPUT-OF-a');
    expect(joinPrompt).toContain('OUTPUT-OF-b');
    expect(joinPrompt).toContain('final answer');
    expect(run.trace.map((entry) => entry.inputsSeen)).toEqual([[], [], [0, 1]]);
    expect(run.usage).toEqual({ promptTokens: 30, completionTokens: 15, totalTokens: 45 });
    expect(run.trace.every((entry) => entry.status === 'completed' && entry.attempts === 1)).toBe(true);
  });

  it('shows only the steps in the access list', async () => {
    const workflow: Workflow = {
      steps: [
        { worker: 'a', subtask: 's0', access: [] },
        { worker: 'a', subtask: 's1', access: [] },
        { worker: 'a', subtask: 's2', access: [1] },
      ],
    };
    const a = fakeWorker('a', { reply: (_request, call) => `OUT${call}` });
    await executeWorkflow(workflow, { question: 'q', workers: [a], concurrency: 1 });
    const last = userText(a.requests[2]!.messages);
    expect(last).toContain('OUT2');
    expect(last).not.toContain('OUT1');
    expect(last).not.toContain('s0');
  });

  it('can leave the question out', async () => {
    const a = fakeWorker('a');
    await executeWorkflow(
      { steps: [{ worker: 'a', subtask: 'Do it', access: [] }] },
      {
        question: 'SECRET QUESTION',
        workers: { a },
        includeQuestion: false,
      },
    );
    expect(userText(a.requests[0]!.messages)).not.toContain('SECRET QUESTION');
  });

  it('bounds concurrency', async () => {
    const a = fakeWorker('a', { delayMs: 20 });
    const workflow: Workflow = {
      steps: Array.from({ length: 5 }, (_, index) => ({ worker: 'a', subtask: `s${index}`, access: [] })),
    };
    await executeWorkflow(workflow, { question: 'q', workers: [a], concurrency: 2 });
    expect(a.maxActive).toBe(2);
    const unbounded = fakeWorker('a', { delayMs: 20 });
    await executeWorkflow(workflow, {
      question: 'q',
      workers: [unbounded],
      concurrency: Number.POSITIVE_INFINITY,
    });
    expect(unbounded.maxActive).toBe(5);
  });

  it('retries a retryable failure and counts attempts', async () => {
    const a = fakeWorker('a', {
      fail: { error: () => new UpstreamError({ message: 'busy', statusCode: 503 }), calls: [1] },
    });
    const run = await executeWorkflow(
      { steps: [{ worker: 'a', subtask: 'x', access: [] }] },
      {
        question: 'q',
        workers: [a],
        retries: 2,
        retryDelayMs: 0,
      },
    );
    expect(run.status).toBe('completed');
    expect(run.trace[0]!.attempts).toBe(2);
  });

  it('does not retry a non-retryable failure', async () => {
    const a = fakeWorker('a', {
      fail: { error: () => new UpstreamError({ message: 'bad request', statusCode: 400 }), calls: true },
    });
    const run = await executeWorkflow(
      { steps: [{ worker: 'a', subtask: 'x', access: [] }] },
      {
        question: 'q',
        workers: [a],
        retries: 3,
        retryDelayMs: 0,
      },
    );
    expect(run.status).toBe('failed');
    expect(run.answer).toBeUndefined();
    expect(run.trace[0]).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'upstream_error' } });
    expect(UpstreamError.isInstance(run.error)).toBe(true);
  });

  it('times a step out, aborting the worker signal, then retries', async () => {
    const slow = fakeWorker('a', { delayMs: 10_000 });
    const run = await executeWorkflow(
      { steps: [{ worker: 'a', subtask: 'x', access: [] }] },
      {
        question: 'q',
        workers: [slow],
        stepTimeoutMs: 30,
        retries: 1,
        retryDelayMs: 0,
      },
    );
    expect(run.trace[0]).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'timeout' } });
    expect(slow.aborted).toBe(2);
    expect(run.error?.code).toBe('timeout');
    expect(run.error?.name).toBe(new TimeoutError({ message: '', timeoutMs: 1 }).name);
  });

  it('settles at the step deadline even when a worker ignores its signal', async () => {
    // The deaf call never ends until the test releases it: the run settling at all proves it did not wait.
    let release: () => void = () => {};
    let pending = 0;
    const deaf: Worker = {
      id: 'a',
      async complete() {
        pending++;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        pending--;
        return { content: 'too late' };
      },
    };
    const run = await executeWorkflow(
      { steps: [{ worker: 'a', subtask: 'x', access: [] }] },
      { question: 'q', workers: [deaf], stepTimeoutMs: 30, retries: 0 },
    );
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('timeout');
    expect(pending).toBe(1); // the worker's call is still running
    release();
  });

  it("'fail' policy cancels steps in flight and never starts the rest", async () => {
    const broken = fakeWorker('a', { fail: { error: () => new Error('boom'), calls: true } });
    const slow = fakeWorker('b', { delayMs: 5000 });
    const c = fakeWorker('c');
    const run = await executeWorkflow(fanIn, { question: 'q', workers: [broken, slow, c], retries: 0 });
    expect(run.status).toBe('failed');
    expect(run.trace.map((entry) => entry.status)).toEqual(['failed', 'cancelled', 'cancelled']);
    expect(slow.aborted).toBe(1);
    expect(c.requests).toHaveLength(0);
    expect(run.error?.code).toBe('upstream_error');
  });

  it("'skip_dependants' skips what sees the failed step and runs the rest", async () => {
    const workflow: Workflow = {
      steps: [
        { worker: 'bad', subtask: 's0', access: [] },
        { worker: 'ok', subtask: 's1', access: [] },
        { worker: 'ok', subtask: 's2', access: [0] },
        { worker: 'ok', subtask: 's3', access: [1] },
      ],
    };
    const bad = fakeWorker('bad', { fail: { error: () => new Error('boom'), calls: true } });
    const ok = fakeWorker('ok');
    const run = await executeWorkflow(workflow, {
      question: 'q',
      workers: [bad, ok],
      retries: 0,
      failurePolicy: 'skip_dependants',
    });
    expect(run.trace.map((entry) => entry.status)).toEqual(['failed', 'completed', 'skipped', 'completed']);
    expect(run.status).toBe('completed');
    expect(run.answer).toBeDefined();
    const dead = await executeWorkflow(
      { steps: [workflow.steps[0]!, { worker: 'ok', subtask: 'final', access: 'all' }] },
      { question: 'q', workers: [bad, ok], retries: 0, failurePolicy: 'skip_dependants' },
    );
    expect(dead.status).toBe('failed');
    expect(dead.answer).toBeUndefined();
    expect(dead.trace[1]).toMatchObject({ status: 'skipped', attempts: 0, messages: [] });
  });

  it('falls back to another worker', async () => {
    const bad = fakeWorker('bad', { fail: { error: () => new Error('boom'), calls: true } });
    const backup = fakeWorker('backup', { reply: () => 'saved' });
    const run = await executeWorkflow(
      { steps: [{ worker: 'bad', subtask: 'x', access: [] }] },
      {
        question: 'q',
        workers: [bad, backup],
        retries: 1,
        retryDelayMs: 0,
        failurePolicy: { fallback: 'backup' },
      },
    );
    expect(run.answer).toBe('saved');
    expect(run.trace[0]).toMatchObject({ worker: 'bad', ranBy: 'backup', attempts: 3, status: 'completed' });
  });

  it('rejects with AbortedError when the caller aborts, aborting the workers', async () => {
    // Workers that would take a minute: the run rejecting at all proves it did not wait for them.
    const slow = fakeWorker('a', { delayMs: 60_000 });
    const other = fakeWorker('b', { delayMs: 60_000 });
    const controller = new AbortController();
    const abortOnSecondStart = (worker: typeof slow): typeof slow => {
      const complete = worker.complete.bind(worker);
      worker.complete = (request, options) => {
        const call = complete(request, options);
        if (slow.active + other.active === 2) controller.abort();
        return call;
      };
      return worker;
    };
    await expect(
      executeWorkflow(fanIn, {
        question: 'q',
        workers: [abortOnSecondStart(slow), abortOnSecondStart(other), fakeWorker('c')],
        signal: controller.signal,
      }),
    ).rejects.toSatisfy((error: unknown) => AbortedError.isInstance(error) && error.code === 'aborted');
    expect(slow.aborted).toBe(1);
    expect(other.aborted).toBe(1);
  });

  it('rejects an already-aborted signal without calling workers', async () => {
    const a = fakeWorker('a');
    const controller = new AbortController();
    controller.abort();
    await expect(
      executeWorkflow(
        { steps: [{ worker: 'a', subtask: 'x', access: [] }] },
        { question: 'q', workers: [a], signal: controller.signal },
      ),
    ).rejects.toSatisfy((error: unknown) => AbortedError.isInstance(error));
    expect(a.requests).toHaveLength(0);
  });

  it('refuses workflows that cannot run, with InvalidArgumentError', async () => {
    const a = fakeWorker('a');
    const run = (workflow: Workflow, extra = {}) =>
      executeWorkflow(workflow, { question: 'q', workers: [a], ...extra });
    await expect(run({ steps: [{ worker: 'zzz', subtask: 'x', access: [] }] })).rejects.toThrow(
      /not in the pool/,
    );
    await expect(run({ steps: [{ worker: 'a', subtask: 'x', access: [0] }] })).rejects.toThrow(
      /earlier steps/,
    );
    await expect(run({ steps: [] })).rejects.toThrow(/no step/);
    const six: Workflow = {
      steps: Array.from({ length: 6 }, () => ({ worker: 'a', subtask: 'x', access: [] })),
    };
    await expect(run(six)).rejects.toThrow(/at most 5/);
    await expect(run(six, { maxSteps: 6 })).resolves.toMatchObject({ status: 'completed' });
    await expect(
      run({ steps: [{ worker: 'a', subtask: 'x', access: [] }] }, { failurePolicy: { fallback: 'nope' } }),
    ).rejects.toThrow(/fallback/);
    await expect(
      run({ steps: [{ worker: 'a', subtask: 'x', access: [] }] }, { concurrency: 0 }),
    ).rejects.toThrow(/concurrency/);
  });

  it('turns a throwing custom prompt builder into a failed step instead of hanging', async () => {
    const run = await executeWorkflow(
      { steps: [{ worker: 'a', subtask: 'x', access: [] }] },
      {
        question: 'q',
        workers: [fakeWorker('a')],
        stepMessages: () => {
          throw new Error('template bug');
        },
      },
    );
    expect(run.status).toBe('failed');
    expect(run.trace[0]!.error?.message).toMatch(/template bug/);
  });

  it('reports each settled step through onStep', async () => {
    const seen: number[] = [];
    await executeWorkflow(fanIn, {
      question: 'q',
      workers: ['a', 'b', 'c'].map((id) => fakeWorker(id)),
      onStep: (entry) => seen.push(entry.step),
    });
    expect(seen.sort()).toEqual([0, 1, 2]);
  });
});

describe('workflowDependencies', () => {
  it("resolves 'all' to every earlier step", () => {
    expect(workflowDependencies(fanIn)).toEqual([[], [], [0, 1]]);
  });
});

describe('buildStepMessages', () => {
  it('marks the final step and lists visible steps in order', () => {
    const [system, user] = buildStepMessages({
      question: 'Q',
      subtask: 'Finish',
      step: 2,
      stepCount: 3,
      isFinal: true,
      visible: [
        { step: 0, subtask: 'first', output: 'one' },
        { step: 1, subtask: 'second', output: 'two' },
      ],
    });
    expect(system?.role).toBe('system');
    const text = String(user?.content);
    expect(text.indexOf('first')).toBeLessThan(text.indexOf('second'));
    expect(text.indexOf('two')).toBeLessThan(text.indexOf('Finish'));
    expect(text).toContain('final answer');
  });
});

describe('executeWorkflow: the final call', () => {
  /** Wraps a worker and records the `final` flag of each call. */
  const recordFinal = (worker: Worker, seen: [string, boolean | undefined][]): Worker => ({
    id: worker.id,
    complete(request, options) {
      seen.push([worker.id, (options as FinalCallOptions | undefined)?.final]);
      return worker.complete(request, options);
    },
  });

  it('marks the last step final once every other step has settled, and no other call', async () => {
    const seen: [string, boolean | undefined][] = [];
    const workers = ['a', 'b', 'c'].map((id) => recordFinal(fakeWorker(id, { delayMs: 5, usage }), seen));
    const run = await executeWorkflow(fanIn, { question: 'Q?', workers });
    expect(run.status).toBe('completed');
    expect(seen.slice().sort()).toEqual([
      ['a', undefined],
      ['b', undefined],
      ['c', true],
    ]);
    expect(seen.at(-1)).toEqual(['c', true]);
  });

  it('does not mark a last step that runs beside another step, nor any step with markFinalStep false', async () => {
    const parallel: Workflow = {
      steps: [
        { worker: 'a', subtask: 'Slow side task.', access: [] },
        { worker: 'b', subtask: 'Answer.', access: [] },
      ],
    };
    const seen: [string, boolean | undefined][] = [];
    const workers = ['a', 'b', 'c'].map((id) => recordFinal(fakeWorker(id, { delayMs: 5, usage }), seen));
    await executeWorkflow(parallel, { question: 'Q?', workers });
    expect(seen.map(([, final]) => final)).toEqual([undefined, undefined]);
    seen.length = 0;
    await executeWorkflow(fanIn, { question: 'Q?', workers, markFinalStep: false });
    expect(seen.map(([, final]) => final)).toEqual([undefined, undefined, undefined]);
  });

  it('keeps the flag on a retry of the final step', async () => {
    const seen: [string, boolean | undefined][] = [];
    const flaky = fakeWorker('a', {
      fail: { error: () => new UpstreamError({ message: 'busy', isRetryable: true }), calls: [1] },
      usage,
    });
    const run = await executeWorkflow(
      { steps: [{ worker: 'a', subtask: 'Answer.', access: [] }] },
      { question: 'Q?', workers: [recordFinal(flaky, seen)], retryDelayMs: 1 },
    );
    expect(run.status).toBe('completed');
    expect(seen).toEqual([
      ['a', true],
      ['a', true],
    ]);
  });
});
