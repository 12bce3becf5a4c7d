import type { Worker, WorkerRequest } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { fakeWorker } from './__fixtures__/workers.js';
import type { FinalCallOptions } from './execute.js';
import { runConductor } from './run-conductor.js';

/** A planner that answers each round with the next scripted reply and records what it saw. */
function scriptedPlanner(replies: string[]): Worker & { seen: WorkerRequest[] } {
  const seen: WorkerRequest[] = [];
  return {
    id: 'planner',
    seen,
    async complete(request) {
      seen.push(request);
      return {
        content: replies[seen.length - 1] ?? replies.at(-1) ?? '',
        usage: { promptTokens: 100, completionTokens: 20, totalTokens: 120 },
      };
    },
  };
}

const pool = [
  { id: 'solver', model: 'solver-model', description: 'solves maths' },
  { id: 'checker', model: 'checker-model', description: 'checks work' },
];
const usage = { promptTokens: 10, completionTokens: 5, totalTokens: 15 };
const workers = () => [
  fakeWorker('solver', { reply: () => '17 * 23 = 391', usage }),
  fakeWorker('checker', { reply: () => 'Checked: 391', usage }),
];

const one = "model_id: ['solver']\nsubtasks: ['Compute 17 * 23.']\naccess_list: [[]]";
const two =
  "model_id: ['solver', 'checker']\nsubtasks: ['Compute 17 * 23.', 'Check and answer.']\naccess_list: [[], 'all']";

describe('runConductor', () => {
  it("passes maxTokens and temperature to every step and reports the answering call's finish reason", async () => {
    const cut: Worker & { seen: WorkerRequest[] } = {
      id: 'checker',
      seen: [],
      async complete(request) {
        cut.seen.push(request);
        return { content: 'Chec', finishReason: 'length', usage };
      },
    };
    const solver = fakeWorker('solver', { reply: () => '391', usage });
    const result = await runConductor({
      planner: scriptedPlanner([two]),
      pool,
      workers: [solver, cut],
      question: 'What is 17 * 23?',
      maxTokens: 2,
      temperature: 0.3,
    });
    expect(result).toMatchObject({ answer: 'Chec', finishReason: 'length' });
    for (const request of [...solver.requests, ...cut.seen])
      expect(request).toMatchObject({ maxTokens: 2, temperature: 0.3 });
    const whole = await runConductor({
      planner: scriptedPlanner([one]),
      pool,
      workers: [fakeWorker('solver', { reply: () => '391', usage })],
      question: 'What is 17 * 23?',
    });
    expect(whole.finishReason).toBeUndefined(); // the fake worker reports none
  });

  it('plans, runs, and stops when the planner repeats its workflow', async () => {
    const planner = scriptedPlanner([one, two, `Looks right.\n${two}`]);
    const result = await runConductor({
      planner,
      pool,
      workers: workers(),
      question: 'What is 17 * 23?',
      maxRounds: 5,
    });
    expect(result.rounds).toHaveLength(3);
    expect(result.stopReason).toBe('unchanged');
    expect(result.answer).toBe('Checked: 391');
    expect(result.workflow?.steps).toHaveLength(2);
    expect(result.rounds[2]).toMatchObject({ unchanged: true });
    expect(result.rounds[2]!.execution).toBeUndefined();
    // 3 planner calls + 1 step + 2 steps.
    expect(result.usage.totalTokens).toBe(3 * 120 + 3 * 15);
    // Round 2's planner saw its round-1 workflow and answer.
    const revision = planner.seen[1]!.messages;
    expect(revision.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(String(revision[2]!.content)).toContain("model_id: ['solver']");
    expect(String(revision[2]!.content)).toContain('17 * 23 = 391');
  });

  it('stops at maxRounds', async () => {
    const planner = scriptedPlanner([one, two, one]);
    const result = await runConductor({ planner, pool, workers: workers(), question: 'q', maxRounds: 2 });
    expect(result.rounds).toHaveLength(2);
    expect(result.stopReason).toBe('max_rounds');
    expect(planner.seen).toHaveLength(2);
  });

  it('keeps the last good answer when a revision is invalid', async () => {
    const planner = scriptedPlanner([one, 'I think it is fine, the answer is 391.']);
    const result = await runConductor({ planner, pool, workers: workers(), question: 'q', maxRounds: 3 });
    expect(result.stopReason).toBe('invalid_workflow');
    expect(result.answer).toBe('17 * 23 = 391');
    expect(result.rounds[1]!.validation.issues.map((issue) => issue.code)).toContain('not_a_workflow');
  });

  it('enforces the allowed subset and hides other workers from the planner', async () => {
    const planner = scriptedPlanner([two]);
    const result = await runConductor({
      planner,
      pool,
      workers: workers(),
      question: 'q',
      allowedWorkers: ['solver'],
    });
    expect(String(planner.seen[0]!.messages[0]!.content)).not.toContain('checker');
    expect(result.stopReason).toBe('invalid_workflow');
    expect(result.answer).toBeUndefined();
    expect(result.rounds[0]!.validation.issues.map((issue) => issue.code)).toEqual(['worker_not_allowed']);
  });

  it('reports a failed run', async () => {
    const planner = scriptedPlanner([one]);
    const broken = fakeWorker('solver', { fail: { error: () => new Error('down'), calls: true } });
    const result = await runConductor({ planner, pool, workers: [broken], question: 'q', retries: 0 });
    expect(result.stopReason).toBe('execution_failed');
    expect(result.answer).toBeUndefined();
    expect(result.rounds[0]!.execution?.status).toBe('failed');
  });
});

describe('runConductor: the final call', () => {
  it('marks the last step final only in the last round the planner may plan', async () => {
    const seen: (boolean | undefined)[] = [];
    const recorded = workers().map(
      (worker): Worker => ({
        id: worker.id,
        complete(request, options) {
          seen.push((options as FinalCallOptions | undefined)?.final);
          return worker.complete(request, options);
        },
      }),
    );
    const planner = scriptedPlanner([one, two]);
    const result = await runConductor({ planner, pool, workers: recorded, question: 'Q', maxRounds: 2 });
    expect(result.rounds).toHaveLength(2);
    // Round 1 (one step, may be revised): not final. Round 2 (two steps, the last round): only its last step.
    expect(seen).toEqual([undefined, undefined, true]);
    expect(planner.seen).toHaveLength(2);
  });
});
