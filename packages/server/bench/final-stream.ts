/**
 * Time to the first content byte of a streamed `fugu` / `fugu-ultra` run, against the same requests
 * non-streamed (measured in the same run). Before the final call was streamed through, a streamed run wrote
 * its first content chunk only once the whole run had finished, i.e. at about the non-streamed response time.
 *
 * The simulated pool keeps its seeded latencies (15–60 ms + jitter per call) and sends one chunk every 20 ms.
 * `fugu` runs 2 turns with a zero head (Worker, then the final Worker, both `writer`); `fugu-ultra` plans with
 * `generalist` and streams the workflow's last step. Sequential requests, n per mode.
 *
 * Run: `pnpm --filter @openfugu/server bench:final-stream` (N=40 by default; `N=…` to change).
 */
import { loadavg } from 'node:os';
import { createHashingBackbone, createRouter, createRouterHead } from '@openfugu/trinity';
import {
  createConductorMode,
  createGateway,
  createOpenAIWorker,
  createSimulatedUpstream,
  createTrinityMode,
  DEFAULT_SIMULATED_POOL,
} from '../src/index.js';

const n = Number(process.env.N ?? 40);
const upstream = await createSimulatedUpstream({
  models: DEFAULT_SIMULATED_POOL.map((entry) => ({ ...entry.spec, chunkDelayMs: 20 })),
  seed: 3,
});
const workers = DEFAULT_SIMULATED_POOL.map((entry) =>
  createOpenAIWorker({
    id: entry.id,
    baseURL: upstream.baseURL,
    model: entry.spec.model,
    price: entry.price,
  }),
);
const router = createRouter({
  backbone: createHashingBackbone({ dimension: 16 }),
  head: createRouterHead({ agentCount: 4, dimension: 16 }),
  agents: ['writer', 'math', 'coder', 'generalist'],
});
const gateway = createGateway({
  workers,
  modes: [
    createTrinityMode({ router, maxTurns: 2 }),
    createConductorMode({
      planner: 'generalist',
      descriptions: Object.fromEntries(DEFAULT_SIMULATED_POOL.map((entry) => [entry.id, entry.description])),
    }),
  ],
});
const url = await gateway.listen({ port: 0 });

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

async function once(
  model: string,
  prompt: string,
  stream: boolean,
): Promise<{ first: number; total: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: prompt }] }),
  });
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  if (!stream) {
    await response.json();
    const total = performance.now() - started;
    return { first: total, total };
  }
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let raw = '';
  let first = Number.NaN;
  for (;;) {
    const read = await reader.read();
    if (read.done) break;
    raw += decoder.decode(read.value, { stream: true });
    if (Number.isNaN(first) && /"delta":\{"content":"[^"]/.test(raw)) first = performance.now() - started;
  }
  if (!raw.endsWith('data: [DONE]\n\n')) throw new Error('stream did not end with [DONE]');
  return { first, total: performance.now() - started };
}

const rows: string[] = [];
for (const model of ['fugu', 'fugu-ultra']) {
  const plain: number[] = [];
  const first: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < n; i++) {
    const prompt = `Write a short poem about the sea, number ${i}`;
    // Interleaved so both see the same machine load.
    plain.push((await once(model, prompt, false)).total);
    const streamed = await once(model, prompt, true);
    first.push(streamed.first);
    total.push(streamed.total);
  }
  const cell = (values: number[]): string =>
    `${quantile(values, 0.5).toFixed(0)} / ${quantile(values, 0.9).toFixed(0)}`;
  rows.push(`| ${model} | ${cell(plain)} | ${cell(first)} | ${cell(total)} | ${n} |`);
}
await gateway.close();
await upstream.close();

console.log(
  '| model | non-streamed response, ms p50 / p90 (≈ first content before) | streamed: first content chunk, ms p50 / p90 | streamed: whole stream, ms p50 / p90 | n |',
);
console.log('| --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);
console.log(`load average (1 min) at the end: ${loadavg()[0]?.toFixed(2)}`);
