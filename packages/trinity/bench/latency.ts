/**
 * route() latency per query for a 2 KB prompt, and the memory of each backbone.
 *
 *   pnpm --filter @openfugu/trinity bench:latency
 *   (= node --expose-gc --import tsx bench/latency.ts)
 *
 * Targets: hashing ≤ 50 µs, GloVe ≤ 1 ms per routeSync() call (embed + 10 × d head + softmaxes).
 * "before" rows run the pre-speed-up hashing implementation (same output, checked here) in the same process.
 * A second, non-repetitive 2 KB prompt (a slice of this package's README) shows the cost when most n-grams
 * are distinct (the default prompt repeats seven sentences, so ~2,200 of its ~6,800 features are distinct).
 * A baseline measured in the same run (a plain 1e6-iteration integer loop, and NFKC + lower-casing of
 * the same prompt) shows how fast this machine is; the machine is shared, so read medians.
 */
import { readFileSync } from 'node:fs';
// The hashing backbone as it was before the speed-up (commit 606dc2f), kept verbatim as the "before" row and as
// the bit-identity reference of hashing.test.ts.
import { createHashingBackboneReference } from '../src/backbones/__fixtures__/hashing-v1-reference.js';
import { createGloveBackbone, createHashingBackbone, createRouter, createRouterHead } from '../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc;

const SENTENCES = [
  'I am preparing a short workshop for new volunteers at our community garden and need help structuring it.',
  'Please explain, step by step, how composting works, which kitchen scraps are safe to add, and which are not.',
  'Include a simple schedule for turning the pile, a list of common mistakes, and how to tell when compost is ready.',
  'Some participants are children, so suggest two hands-on activities that are safe and fun for ages eight to twelve.',
  'We also have a small budget of 150 dollars; recommend the three most useful tools we could buy with it.',
  'Finally, write a friendly two-paragraph welcome message that I can read aloud at the start of the session.',
  'If anything about local regulations matters (for example rodents or smells), mention what to check with the city.',
];

function prompt2k(): string {
  let text = '';
  for (let i = 0; text.length < 2048; i++) text += `${SENTENCES[i % SENTENCES.length]} `;
  return text.slice(0, 2048);
}

/** Wall-clock and process-CPU µs per call (CPU time is less distorted when other jobs share the cores). */
function timeIt(
  fn: () => void,
  iterations: number,
  rounds = 9,
): { median: number; p90: number; cpu: number } {
  for (let i = 0; i < Math.min(iterations, 500); i++) fn();
  const perCall: number[] = [];
  const cpuPerCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    perCall.push(((performance.now() - start) * 1000) / iterations);
    const used = process.cpuUsage(cpu);
    cpuPerCall.push((used.user + used.system) / iterations);
  }
  perCall.sort((a, b) => a - b);
  cpuPerCall.sort((a, b) => a - b);
  return {
    median: perCall[Math.floor(rounds / 2)]!,
    p90: perCall[Math.floor(rounds * 0.9)]!,
    cpu: cpuPerCall[Math.floor(rounds / 2)]!,
  };
}

function memory(): { rss: number; heap: number; external: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return {
    rss: m.rss / 2 ** 20,
    heap: m.heapUsed / 2 ** 20,
    external: (m.external + m.arrayBuffers) / 2 ** 20,
  };
}

const fmt = (x: number): string => x.toFixed(1);

async function main(): Promise<void> {
  const text = prompt2k();
  const messages = [{ role: 'user' as const, content: text }];
  console.log(
    `# route() latency, ${text.length}-character prompt (Node ${process.version}; medians of 9 rounds)\n`,
  );
  if (gc === undefined) console.log('(run with --expose-gc for accurate memory figures)\n');

  let sink = 0;
  const loop = timeIt(() => {
    let s = 0;
    for (let i = 0; i < 1_000_000; i++) s = (s + i) | 0;
    sink += s;
  }, 5);
  const normalise = timeIt(() => {
    sink += text.normalize('NFKC').toLowerCase().length;
  }, 2000);

  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const varied = readme.slice(readme.indexOf('## Backbones')).slice(0, 2048);
  const reference = createHashingBackboneReference();
  const sameOutput = (a: Float32Array, b: Float32Array): boolean =>
    a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

  const m0 = memory();
  const hashing = createHashingBackbone();
  const hashingRouter = createRouter({
    backbone: hashing,
    head: createRouterHead({ agentCount: 7, dimension: 1024, random: Math.random, scale: 0.05 }),
    agents: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6'],
  });
  hashingRouter.routeSync(messages);
  const m1 = memory();
  const hashingRoute = timeIt(() => {
    sink += hashingRouter.routeSync(messages).agentIndex;
  }, 2000);
  const hashingEmbed = timeIt(() => {
    sink += hashing.embedSync(text)[0]!;
  }, 2000);
  const referenceEmbed = timeIt(() => {
    sink += reference.embedSync(text)[0]!;
  }, 2000);
  const referenceRouter = createRouter({
    backbone: reference,
    head: hashingRouter.head,
    agents: hashingRouter.agents,
  });
  const referenceRoute = timeIt(() => {
    sink += referenceRouter.routeSync(messages).agentIndex;
  }, 2000);
  const variedEmbed = timeIt(() => {
    sink += hashing.embedSync(varied)[0]!;
  }, 2000);
  const variedReference = timeIt(() => {
    sink += reference.embedSync(varied)[0]!;
  }, 2000);
  const variedRoute = timeIt(() => {
    sink += hashingRouter.routeSync(varied).agentIndex;
  }, 2000);
  const identical =
    sameOutput(hashing.embedSync(text), reference.embedSync(text)) &&
    sameOutput(hashing.embedSync(varied), reference.embedSync(varied));
  const features = hashing.embedSync(text);
  const head = hashingRouter.head;
  const headOnly = timeIt(() => {
    sink += hashingRouter.routeFeatures(features).agentIndex;
  }, 5000);
  const plainHead = timeIt(() => {
    // The head loop before the speed-up: one row at a time (same sums, same order).
    const d = head.dimension;
    const w = head.weights;
    let acc = 0;
    for (let r = 0; r < head.agentCount + head.roleCount; r++) {
      let sum = 0;
      const offset = r * d;
      for (let i = 0; i < d; i++) sum += w[offset + i]! * features[i]!;
      acc += sum;
    }
    sink += acc;
  }, 5000);
  const hashingAsync = await (async () => {
    for (let i = 0; i < 500; i++) await hashingRouter.route(messages);
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < 2000; i++) await hashingRouter.route(messages);
    const used = process.cpuUsage(cpu);
    return { median: ((performance.now() - start) * 1000) / 2000, cpu: (used.user + used.system) / 2000 };
  })();

  const beforeGlove = memory();
  const loadStart = performance.now();
  const glove = createGloveBackbone();
  await glove.load();
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const peakRss = process.resourceUsage().maxRSS / 1024;
  const afterGlove = memory();
  const gloveRouter = createRouter({
    backbone: glove,
    head: createRouterHead({ agentCount: 7, dimension: 100, random: Math.random, scale: 0.05 }),
    agents: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6'],
  });
  const gloveRoute = timeIt(() => {
    sink += gloveRouter.routeSync(messages).agentIndex;
  }, 2000);

  const os = await import('node:os');
  console.log(
    `load average (1 min) at the end: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores\n`,
  );
  console.log('| what | median wall µs / call | p90 wall µs | median CPU µs / call | target |');
  console.log('|---|---|---|---|---|');
  const row = (name: string, t: { median: number; p90?: number; cpu: number }, target: string): void =>
    console.log(
      `| ${name} | ${fmt(t.median)} | ${t.p90 === undefined ? '—' : fmt(t.p90)} | ${fmt(t.cpu)} | ${target} |`,
    );
  row('baseline: 1e6-iteration integer loop', loop, '—');
  row('baseline: NFKC + toLowerCase of the prompt', normalise, '—');
  row('before: hashing-1024 embedSync (v1 reference implementation)', referenceEmbed, '—');
  row('before: hashing-1024 routeSync (v1 reference implementation)', referenceRoute, '≤ 50');
  row('hashing-1024 embedSync', hashingEmbed, '—');
  row('hashing-1024 routeSync (7 agents + 3 roles)', hashingRoute, '≤ 50');
  row('routeFeatures (head 10 × 1024 + softmaxes, no embedding)', headOnly, '—');
  row('before: head matmul alone, one row at a time', plainHead, '—');
  row('varied 2 KB prompt — before: embedSync (v1 reference)', variedReference, '—');
  row('varied 2 KB prompt — hashing-1024 embedSync', variedEmbed, '—');
  row('varied 2 KB prompt — hashing-1024 routeSync', variedRoute, '≤ 50');
  row('hashing-1024 await route()', hashingAsync, '—');
  row('glove-sif-100 routeSync (7 agents + 3 roles)', gloveRoute, '≤ 1000');
  console.log(`\noutput bit-identical to the v1 reference on both prompts: ${identical ? 'yes' : 'NO'}`);
  console.log('\n| backbone memory | RSS MiB | JS heap MiB | external + ArrayBuffers MiB | notes |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| hashing-1024 (after first call) | ${fmt(m1.rss - m0.rss)} | ${fmt(m1.heap - m0.heap)} | ${fmt(m1.external - m0.external)} | scratch table grows with the longest text seen |`,
  );
  console.log(
    `| glove-sif-100 (loaded) | ${fmt(afterGlove.rss - beforeGlove.rss)} | ${fmt(afterGlove.heap - beforeGlove.heap)} | ${fmt(afterGlove.external - beforeGlove.external)} | load ${loadSeconds.toFixed(1)} s; process peak RSS during load ${fmt(peakRss)} MiB (reads the 293 MiB JSON into one buffer) |`,
  );
  if (sink === 42) console.log('');
}

await main();
