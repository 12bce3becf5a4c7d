/**
 * Executor figures: wall time of a fan-in workflow with 200 ms workers (parallel vs the same workflow forced
 * sequential), and the executor's own overhead on 5-step workflows with zero-latency workers (vs awaiting the
 * same five worker calls directly).
 *
 * Run: pnpm --filter @openfugu/conductor bench
 */
import type { Worker, Workflow } from '@openfugu/schema';
import { executeWorkflow } from '../src/execute.js';
import { buildStepMessages } from '../src/step-prompt.js';

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function sleepWorker(id: string, delayMs: number): Worker {
  return {
    id,
    complete: (_request, options) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ content: `${id} done` }), delayMs);
        options?.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      }),
  };
}

const instant: Worker = { id: 'w', complete: async () => ({ content: 'ok' }) };

async function timeRuns(runs: number, body: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await body();
    times.push(performance.now() - started);
  }
  return times;
}

const fanIn: Workflow = {
  steps: [
    { worker: 'a', subtask: 'Solve it one way.', access: [] },
    { worker: 'b', subtask: 'Solve it another way.', access: [] },
    { worker: 'c', subtask: 'Combine both and answer.', access: 'all' },
  ],
};
const latencyWorkers = [sleepWorker('a', 200), sleepWorker('b', 200), sleepWorker('c', 200)];
const parallel = await timeRuns(15, () => executeWorkflow(fanIn, { question: 'q', workers: latencyWorkers }));
const sequential = await timeRuns(15, () =>
  executeWorkflow(fanIn, { question: 'q', workers: latencyWorkers, concurrency: 1 }),
);

console.log('## Fan-in: two independent 200 ms steps + a joining 200 ms step (15 runs each)\n');
console.log('| schedule | median ms | min ms | max ms |');
console.log('|---|---|---|---|');
for (const [name, times] of [
  ['DAG, concurrency 4 (default)', parallel],
  ['same workflow, concurrency 1 (sequential baseline)', sequential],
] as const) {
  console.log(
    `| ${name} | ${median(times).toFixed(1)} | ${Math.min(...times).toFixed(1)} | ${Math.max(...times).toFixed(1)} |`,
  );
}

const chain: Workflow = {
  steps: Array.from({ length: 5 }, (_, index) => ({
    worker: 'w',
    subtask: `step ${index}`,
    access: index === 0 ? [] : [index - 1],
  })),
};
const wide: Workflow = {
  steps: [
    ...Array.from({ length: 4 }, (_, index) => ({
      worker: 'w',
      subtask: `step ${index}`,
      access: [] as number[],
    })),
    { worker: 'w', subtask: 'join', access: 'all' as const },
  ],
};
const direct = async (): Promise<void> => {
  // Baseline: the same five calls awaited back to back, messages built the same way, no scheduling.
  for (let step = 0; step < 5; step++) {
    await instant.complete({
      messages: buildStepMessages({
        question: 'q',
        subtask: `step ${step}`,
        step,
        stepCount: 5,
        isFinal: step === 4,
        visible: [],
      }),
    });
  }
};
const runs = 5000;
for (let warm = 0; warm < 500; warm++) {
  await executeWorkflow(chain, { question: 'q', workers: [instant] });
  await direct();
}
const batch = async (body: () => Promise<unknown>): Promise<number> => {
  // Median over 20 batches of runs/20, reported per run in microseconds.
  const perBatch = runs / 20;
  const times = await timeRuns(20, async () => {
    for (let run = 0; run < perBatch; run++) await body();
  });
  return (median(times) / perBatch) * 1000;
};
const directUs = await batch(direct);
const chainUs = await batch(() => executeWorkflow(chain, { question: 'q', workers: [instant] }));
const wideUs = await batch(() => executeWorkflow(wide, { question: 'q', workers: [instant] }));

console.log(
  `\n## Executor overhead: 5-step workflows, zero-latency workers (${runs} runs each, median of 20 batches)\n`,
);
console.log('| workflow | µs per run | overhead vs direct calls, µs per run |');
console.log('|---|---|---|');
console.log(`| direct: 5 awaited calls, no executor (baseline) | ${directUs.toFixed(1)} | – |`);
console.log(`| chain 0→1→2→3→4 | ${chainUs.toFixed(1)} | ${(chainUs - directUs).toFixed(1)} |`);
console.log(
  `| fan-in: 4 parallel + join ("all") | ${wideUs.toFixed(1)} | ${(wideUs - directUs).toFixed(1)} |`,
);
console.log(
  `\nNode ${process.version}, ${process.platform}/${process.arch}; shared machine, figures are noisy.`,
);
