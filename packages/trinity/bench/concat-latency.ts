/**
 * Routing latency of the composed backbone (issue 16): `createValueRouter` over `createDefaultConcatBackbone`
 * (hashed words 512 + hashed character n-grams 512 + 20 prompt statistics) with a 2-agent ridge value head,
 * for a 2 KB prompt — against hashing-v2 1024 with a 10-row head (`createRouter`), measured in the same run.
 *
 *   pnpm --filter @openfugu/trinity bench:latency   (runs bench/latency.ts, then this file)
 *   pnpm --filter @openfugu/trinity bench:concat [--wide | --sparse]   (this file; `--wide`: hashed-word block
 *   1024; `--sparse`: the wide composition `createWideConcatBackbone`, 98,324-d, routed through its sparse
 *   embedding — `embedSparseSync` and a head that reads only the non-zeros)
 *
 * Target: ≤ 200 µs per routeSync for the 2 KB prompt. Medians of 9 rounds; CPU time is the less noisy column on
 * a shared machine.
 */
import { createRng } from '@openfugu/cmaes';
import {
  createDefaultConcatBackbone,
  createHashingBackbone,
  createRouter,
  createRouterHead,
  createValueRouter,
  createWideConcatBackbone,
  trainValueHead,
} from '../src/index.js';
import { prompt2k, timeIt } from './timing.js';

const prompt = prompt2k();
const SENTENCES = prompt.split('. ');

const hashing = createHashingBackbone({ dimension: 1024 });
const baseline = createRouter({
  backbone: hashing,
  head: createRouterHead({ agentCount: 7, dimension: 1024, random: createRng(1) }),
  agents: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
});
const sparse = process.argv.includes('--sparse');
const concat = sparse
  ? createWideConcatBackbone()
  : createDefaultConcatBackbone(process.argv.includes('--wide') ? { wordDimension: 1024 } : {});
const random = createRng(2);
const texts = Array.from({ length: 200 }, (_, i) => `${SENTENCES[i % SENTENCES.length]} ${i} ${random()}`);
const { head } = trainValueHead({
  features: texts.map((t) => (sparse ? concat.embedSparseSync(t) : concat.embedSync(t))),
  outcomes: texts.map(() => [random() < 0.8 ? 1 : 0, random() < 0.6 ? 1 : 0]),
  agents: ['strong', 'weak'],
  backboneId: concat.id,
  lambdas: [1],
  random: createRng(3),
});
const router = createValueRouter({ head, prices: [10, 0.6] });
const rows = [
  ['baseline: hashing-v2 1024 routeSync (7 agents, createRouter)', () => baseline.routeSync(prompt)],
  [`concat embedSync (${concat.dimension}-d, dense)`, () => concat.embedSync(prompt)],
  [`concat embedSparseSync (${concat.dimension}-d, non-zeros)`, () => concat.embedSparseSync(prompt)],
  ['concat value router routeSync (2 agents, argmax)', () => router.routeSync(prompt)],
  ['concat value router routeSync (λ·price knob)', () => router.routeSync(prompt, { lambda: 0.01 })],
] as const;
console.log(`Node ${process.version}; 2 KB prompt (${prompt.length} chars)\n`);
console.log('| what | median wall µs / call | median CPU µs / call | target |');
console.log('|---|---|---|---|');
for (const [name, fn] of rows) {
  const t = timeIt(fn, 2000);
  console.log(
    `| ${name} | ${t.median.toFixed(1)} | ${t.cpu.toFixed(1)} | ${name.startsWith('concat value') ? '≤ 200' : '—'} |`,
  );
}
