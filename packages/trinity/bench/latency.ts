/**
 * route() latency per query for a 2 KB prompt, and the memory of each backbone.
 *
 *   pnpm --filter @openfugu/trinity bench:latency
 *   (= node --expose-gc --import tsx bench/latency.ts)
 *
 * Targets: hashing ≤ 50 µs, GloVe ≤ 1 ms per routeSync() call (embed + 10 × d head + softmaxes).
 * The hashing table has one row per measurement with hashing-v1 and hashing-v2 side by side (each timed back
 * to back in this process, the order alternating between rows) and their CPU-time ratio; the "original v1"
 * column runs the hashing implementation of commit 606dc2f (same v1 output, checked here), the state before
 * any speed-up. A second, non-repetitive 2 KB prompt (a slice of this package's README) shows the cost when
 * most n-grams are distinct (the default prompt repeats seven sentences); a third replaces letters with
 * accented ones to take the NFKC path. Baselines measured in the same run (a plain 1e6-iteration integer
 * loop, NFKC + lower-casing of the prompt) show how fast this machine is; the machine is shared, so read
 * medians of CPU time. Each backbone is the first instance of its version in the process, as in an
 * application (V8 specialises the first instance; see hashing-v2.ts).
 */
import { readFileSync } from 'node:fs';
// The hashing backbone as it was before the speed-up (commit 606dc2f), kept verbatim as the "original v1" column
// and as the bit-identity reference of hashing.test.ts.
import { createHashingBackboneReference } from '../src/backbones/__fixtures__/hashing-v1-reference.js';
import { createGloveBackbone, createHashingBackbone, createRouter, createRouterHead } from '../src/index.js';
import { prompt2k, type Timing, timeIt } from './timing.js';

const gc = (globalThis as { gc?: () => void }).gc;

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
  // Non-ASCII text takes the NFKC + lower-casing path (accented Latin, not yet in NFKC form after the swap).
  const accented = text.replace(/e/g, 'é').replace(/a/g, 'Ä');
  const reference = createHashingBackboneReference();
  const sameOutput = (a: Float32Array, b: Float32Array): boolean =>
    a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

  const m0 = memory();
  const hashing = createHashingBackbone({ version: 1 });
  const hashingRouter = createRouter({
    backbone: hashing,
    head: createRouterHead({ agentCount: 7, dimension: 1024, random: Math.random, scale: 0.05 }),
    agents: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6'],
  });
  hashingRouter.routeSync(messages);
  const m1 = memory();
  const m2Start = memory();
  const hashing2 = createHashingBackbone({ version: 2 });
  const hashing2Router = createRouter({
    backbone: hashing2,
    head: hashingRouter.head,
    agents: hashingRouter.agents,
  });
  hashing2Router.routeSync(messages);
  const m2 = memory();
  const referenceRouter = createRouter({
    backbone: reference,
    head: hashingRouter.head,
    agents: hashingRouter.agents,
  });

  // v1 and v2 rows of each measurement, timed back to back (interleaved rounds would be fairer still, but the
  // order alternates between measurements so neither version always runs first).
  const pairs: { name: string; target: string; v1: Timing; v2: Timing; reference?: Timing }[] = [];
  const pair = (
    name: string,
    target: string,
    v1: () => void,
    v2: () => void,
    reference?: () => void,
  ): void => {
    const flip = pairs.length % 2 === 1;
    const first = timeIt(flip ? v2 : v1, 2000);
    const second = timeIt(flip ? v1 : v2, 2000);
    const ref = reference === undefined ? undefined : timeIt(reference, 2000);
    pairs.push({
      name,
      target,
      v1: flip ? second : first,
      v2: flip ? first : second,
      ...(ref === undefined ? {} : { reference: ref }),
    });
  };
  pair(
    'embedSync, 2 KB prompt',
    '—',
    () => {
      sink += hashing.embedSync(text)[0]!;
    },
    () => {
      sink += hashing2.embedSync(text)[0]!;
    },
    () => {
      sink += reference.embedSync(text)[0]!;
    },
  );
  pair(
    'routeSync (7 agents + 3 roles), 2 KB prompt',
    '≤ 50',
    () => {
      sink += hashingRouter.routeSync(messages).agentIndex;
    },
    () => {
      sink += hashing2Router.routeSync(messages).agentIndex;
    },
    () => {
      sink += referenceRouter.routeSync(messages).agentIndex;
    },
  );
  pair(
    'embedSync, varied 2 KB prompt',
    '—',
    () => {
      sink += hashing.embedSync(varied)[0]!;
    },
    () => {
      sink += hashing2.embedSync(varied)[0]!;
    },
    () => {
      sink += reference.embedSync(varied)[0]!;
    },
  );
  pair(
    'routeSync, varied 2 KB prompt',
    '≤ 50',
    () => {
      sink += hashingRouter.routeSync(varied).agentIndex;
    },
    () => {
      sink += hashing2Router.routeSync(varied).agentIndex;
    },
  );
  pair(
    'embedSync, non-ASCII 2 KB prompt (NFKC path)',
    '—',
    () => {
      sink += hashing.embedSync(accented)[0]!;
    },
    () => {
      sink += hashing2.embedSync(accented)[0]!;
    },
  );
  const identical =
    sameOutput(hashing.embedSync(text), reference.embedSync(text)) &&
    sameOutput(hashing.embedSync(varied), reference.embedSync(varied));
  const features = hashing.embedSync(text);
  const headOnly = timeIt(() => {
    sink += hashingRouter.routeFeatures(features).agentIndex;
  }, 5000);
  const asyncRoute = async (router: typeof hashingRouter): Promise<Timing> => {
    for (let i = 0; i < 500; i++) await router.route(messages);
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < 2000; i++) await router.route(messages);
    const used = process.cpuUsage(cpu);
    return { median: ((performance.now() - start) * 1000) / 2000, cpu: (used.user + used.system) / 2000 };
  };
  pairs.push({
    name: 'await route(), 2 KB prompt (one run of 2,000 calls)',
    target: '—',
    v1: await asyncRoute(hashingRouter),
    v2: await asyncRoute(hashing2Router),
  });

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
  const row = (name: string, t: Timing, target: string): void =>
    console.log(
      `| ${name} | ${fmt(t.median)} | ${t.p90 === undefined ? '—' : fmt(t.p90)} | ${fmt(t.cpu)} | ${target} |`,
    );
  row('baseline: 1e6-iteration integer loop', loop, '—');
  row('baseline: NFKC + toLowerCase of the prompt', normalise, '—');
  row('routeFeatures (head 10 × 1024 + softmaxes, no embedding)', headOnly, '—');
  row('glove-sif-100 routeSync (7 agents + 3 roles)', gloveRoute, '≤ 1000');
  console.log('\n### hashing-1024: v1 (exact per-feature counts) and v2 (per-bucket counts), same run\n');
  console.log(
    '| what | v1 median CPU µs | v2 median CPU µs | v2 / v1 | v1 median wall µs (p90) | v2 median wall µs (p90) | original v1 (before speed-up) CPU µs | target |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  const wall = (t: Timing): string => `${fmt(t.median)} (${t.p90 === undefined ? '—' : fmt(t.p90)})`;
  for (const p of pairs) {
    console.log(
      `| ${p.name} | ${fmt(p.v1.cpu)} | ${fmt(p.v2.cpu)} | ${(p.v2.cpu / p.v1.cpu).toFixed(2)} | ${wall(p.v1)} | ${wall(p.v2)} | ${p.reference === undefined ? '—' : fmt(p.reference.cpu)} | ${p.target} |`,
    );
  }
  console.log(`\noutput bit-identical to the v1 reference on both prompts: ${identical ? 'yes' : 'NO'}`);
  console.log('\n| backbone memory | RSS MiB | JS heap MiB | external + ArrayBuffers MiB | notes |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| hashing-1024 v1 (after first call) | ${fmt(m1.rss - m0.rss)} | ${fmt(m1.heap - m0.heap)} | ${fmt(m1.external - m0.external)} | scratch table grows with the longest text seen |`,
  );
  console.log(
    `| hashing-1024 v2 (after first call) | ${fmt(m2.rss - m2Start.rss)} | ${fmt(m2.heap - m2Start.heap)} | ${fmt(m2.external - m2Start.external)} | 8 KiB of counts per weight group + code-unit buffers that grow with the longest text seen |`,
  );
  console.log(
    `| glove-sif-100 (loaded) | ${fmt(afterGlove.rss - beforeGlove.rss)} | ${fmt(afterGlove.heap - beforeGlove.heap)} | ${fmt(afterGlove.external - beforeGlove.external)} | load ${loadSeconds.toFixed(1)} s; process peak RSS during load ${fmt(peakRss)} MiB (reads the 293 MiB JSON into one buffer) |`,
  );
  if (sink === 42) console.log('');
}

await main();
