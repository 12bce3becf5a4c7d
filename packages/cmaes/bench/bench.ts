/**
 * `pnpm --filter @openfugu/cmaes bench` — per-generation cost and the evaluations-to-1e-8 table.
 *
 * Timings: per generation, the median wall-clock time and the median and mean of this process's
 * CPU time (process.cpuUsage). On a shared machine CPU time is the steadier figure: it does not
 * count the time the process waits for a core. The mean is the amortised cost where work is lazy
 * (full CMA-ES decomposes C only every few generations, so its median hides that cost).
 * Baselines run in the same process.
 */

import {
  type Cmaes,
  createCmaes,
  createEigenWorkspace,
  createRng,
  createSepCmaes,
  ellipsoid,
  rosenbrock,
  sphere,
  symmetricEigen,
} from '../src/index.js';

const quick = process.argv.includes('--quick');

interface Timing {
  wallMs: number;
  cpuMs: number;
  cpuMeanMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `step` `repeats` times (after `warmup` untimed runs); medians of wall and CPU time in ms. */
function measure(step: () => void, repeats: number, warmup = 3): Timing {
  for (let i = 0; i < warmup; i++) step();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    wall.push(t1 - t0);
    cpu.push((c1.user + c1.system) / 1000);
  }
  return { wallMs: median(wall), cpuMs: median(cpu), cpuMeanMs: cpu.reduce((a, b) => a + b, 0) / cpu.length };
}

function generationStep(es: Cmaes): () => void {
  const fitness = new Float64Array(es.populationSize);
  return () => {
    const xs = es.ask();
    for (let k = 0; k < xs.length; k++) fitness[k] = xs[k]![0]!;
    es.tell(xs, fitness);
  };
}

// ---------------------------------------------------------------------------------------------
// Baseline: a straightforward sep-CMA-ES as one would first write it — number[][] populations,
// Box–Muller from Math.random, an array of {x, z, f} objects sorted per generation.
function naiveSepCmaes(n: number, lambda: number, sigma0: number): () => void {
  const mu = Math.floor(lambda / 2);
  const raw = Array.from({ length: mu }, (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1));
  const total = raw.reduce((a, b) => a + b, 0);
  const w = raw.map((v) => v / total);
  const muEff = 1 / w.reduce((a, b) => a + b * b, 0);
  const cCov =
    ((n + 2) / 3) *
    ((1 / muEff) * (2 / (n + Math.SQRT2) ** 2) +
      (1 - 1 / muEff) * ((2 * muEff - 1) / ((n + 2) ** 2 + muEff)));
  const c1 = cCov / muEff;
  const cmu = cCov * (1 - 1 / muEff);
  const cs = (muEff + 2) / (n + muEff + 3);
  const ds = 1 + cs;
  const cc = 4 / (n + 4);
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  let m: number[] = new Array(n).fill(0);
  let c: number[] = new Array(n).fill(1);
  let ps: number[] = new Array(n).fill(0);
  let pc: number[] = new Array(n).fill(0);
  let sigma = sigma0;
  const gauss = (): number =>
    Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  return () => {
    const population: Array<{ x: number[]; y: number[]; f: number }> = [];
    for (let k = 0; k < lambda; k++) {
      const y = c.map((ci) => Math.sqrt(ci) * gauss());
      const x = m.map((mi, i) => mi + sigma * y[i]!);
      population.push({ x, y, f: x[0]! });
    }
    population.sort((a, b) => a.f - b.f);
    const yw = m.map((_, i) => population.slice(0, mu).reduce((s, p, j) => s + w[j]! * p.y[i]!, 0));
    m = m.map((mi, i) => mi + sigma * yw[i]!);
    ps = ps.map((v, i) => (1 - cs) * v + Math.sqrt(cs * (2 - cs) * muEff) * (yw[i]! / Math.sqrt(c[i]!)));
    const norm = Math.sqrt(ps.reduce((s, v) => s + v * v, 0));
    pc = pc.map((v, i) => (1 - cc) * v + Math.sqrt(cc * (2 - cc) * muEff) * yw[i]!);
    c = c.map(
      (ci, i) =>
        (1 - c1 - cmu) * ci +
        c1 * pc[i]! ** 2 +
        cmu * population.slice(0, mu).reduce((s, p, j) => s + w[j]! * p.y[i]! ** 2, 0),
    );
    sigma *= Math.exp((cs / ds) * (norm / chiN - 1));
  };
}

function fmt(value: number, digits = 2): string {
  return value.toFixed(digits);
}

function section(title: string): void {
  process.stdout.write(`\n### ${title}\n\n`);
}

// ---------------------------------------------------------------------------------------------
section('Per-generation cost (ask + tell, trivial fitness)');
process.stdout.write('| case | wall ms (median) | CPU ms (median) | CPU ms (mean) |\n|---|---:|---:|---:|\n');
const row = (name: string, t: Timing): void => {
  process.stdout.write(`| ${name} | ${fmt(t.wallMs)} | ${fmt(t.cpuMs)} | ${fmt(t.cpuMeanMs)} |\n`);
};

{
  const n = 19_456;
  const lambda = 33;
  const repeats = quick ? 10 : 40;
  const ours = measure(generationStep(createSepCmaes({ dimension: n, sigma0: 0.03, seed: 1 })), repeats);
  row(`sep-CMA-ES n=${n}, λ=${lambda}: @openfugu/cmaes`, ours);
  const rng = createRng(2);
  const buffer = new Float64Array(n * lambda);
  row(
    `  floor: drawing the λ·n Gaussians alone (ziggurat)`,
    measure(() => rng.fillGaussian(buffer), repeats),
  );
  row(
    `  baseline: naive number[][] sep-CMA-ES, Box–Muller`,
    measure(naiveSepCmaes(n, lambda, 0.03), quick ? 5 : 15, 2),
  );
}
{
  const n = 200;
  const repeats = quick ? 20 : 60;
  const lazy = createCmaes({ dimension: n, sigma0: 0.3, seed: 1 });
  const gap = lazy.state().settings.eigenUpdateGap;
  row(
    `full CMA-ES n=${n}, λ=${lazy.populationSize}: @openfugu/cmaes (eigen every ${gap} gen.)`,
    measure(generationStep(lazy), repeats),
  );
  row(
    `  eigendecomposition every generation`,
    measure(generationStep(createCmaes({ dimension: n, sigma0: 0.3, seed: 1, eigenUpdateGap: 1 })), repeats),
  );
  // Floor: sampling only — λ Gaussian vectors and the B·(D∘z) products.
  const rng = createRng(3);
  const z = new Float64Array(n);
  const y = new Float64Array(n);
  const b = new Float64Array(n * n).fill(0.05);
  row(
    `  floor: sampling alone (λ·n Gaussians + λ B·D·z products)`,
    measure(() => {
      for (let k = 0; k < lazy.populationSize; k++) {
        rng.fillGaussian(z);
        y.fill(0);
        for (let j = 0; j < n; j++) {
          const t = z[j]!;
          for (let i = 0; i < n; i++) y[i] = y[i]! + t * b[j * n + i]!;
        }
      }
    }, repeats),
  );
}

// ---------------------------------------------------------------------------------------------
section('Eigendecomposition (tred2 + tql2): speed and accuracy');
process.stdout.write(
  '| n | CPU ms (median) | ‖C − B·Λ·Bᵀ‖_F/‖C‖_F | max |BᵀB − I| |\n|---:|---:|---:|---:|\n',
);
for (const n of [50, 100, 200]) {
  const rng = createRng(n);
  const g = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) g[i] = rng.gaussian();
  const a = new Float64Array(n * n); // G·diag(10^(6k/n))·Gᵀ: condition ≈ 1e6, like an adapted C
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += g[i * n + k]! * g[j * n + k]! * 10 ** ((6 * k) / n);
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  }
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  const work = createEigenWorkspace(n);
  const t = measure(() => symmetricEigen(a, n, values, vectors, work), quick ? 5 : 15);
  let error = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[k * n + i]! * values[k]! * vectors[k * n + j]!;
      error += (s - a[i * n + j]!) ** 2;
      norm += a[i * n + j]! ** 2;
    }
  }
  let orthogonality = 0;
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[p * n + k]! * vectors[q * n + k]!;
      orthogonality = Math.max(orthogonality, Math.abs(s - (p === q ? 1 : 0)));
    }
  }
  process.stdout.write(
    `| ${n} | ${fmt(t.cpuMs)} | ${Math.sqrt(error / norm).toExponential(1)} | ${orthogonality.toExponential(1)} |\n`,
  );
}

// ---------------------------------------------------------------------------------------------
section('Evaluations to f < 1e-8 (median of seeds 1–5, default λ, no restarts) vs CyberAgentAILab/cmaes');
process.stdout.write(
  'sphere/ellipsoid: x₀ = 3·1, σ₀ = 2; Rosenbrock: x₀ = 0, σ₀ = 0.5; ellipsoid condition 1e6. ' +
    '"k/5" = runs that reached 1e-8 (the median counts a miss as ∞).\n\n',
);
process.stdout.write('| function | n | sep: ours | sep: reference | full: ours | full: reference |\n');
process.stdout.write('|---|---:|---:|---:|---:|---:|\n');
const reference: Record<string, Record<number, [string, string]>> = {
  sphere: { 10: ['1,267', '1,491'], 20: ['2,455', '2,781'], 40: ['5,090', '5,253'] },
  ellipsoid: { 10: ['2,603', '4,361'], 20: ['5,991', '13,354'], 40: ['14,722', '49,652'] },
  rosenbrock: { 10: ['does not converge', '4,935'], 20: ['~157k', '16.4k'] },
};
const objectives = { sphere, ellipsoid, rosenbrock } as const;
for (const name of ['sphere', 'ellipsoid', 'rosenbrock'] as const) {
  for (const n of name === 'rosenbrock' ? [10, 20] : [10, 20, 40]) {
    if (quick && n > 20) continue;
    const cells: string[] = [];
    for (const create of [createSepCmaes, createCmaes]) {
      const counts: number[] = [];
      for (const seed of [1, 2, 3, 4, 5]) {
        const x0 = name === 'rosenbrock' ? 0 : 3;
        const sigma0 = name === 'rosenbrock' ? 0.5 : 2;
        const es = create({ dimension: n, x0, sigma0, seed, targetFitness: 1e-8, maxEvaluations: 1_000_000 });
        const step = (): void => {
          const xs = es.ask();
          es.tell(xs, xs.map(objectives[name]));
        };
        while (!es.stop()) step();
        counts.push(es.stop() === 'targetFitness' ? es.evaluations : Number.POSITIVE_INFINITY);
      }
      const reached = counts.filter(Number.isFinite).length;
      const med = median(counts);
      cells.push(`${Number.isFinite(med) ? Math.round(med).toLocaleString('en-US') : '—'} (${reached}/5)`);
    }
    const [sepRef, fullRef] = reference[name]![n]!;
    process.stdout.write(`| ${name} | ${n} | ${cells[0]} | ${sepRef} | ${cells[1]} | ${fullRef} |\n`);
  }
}
process.stdout.write(`\nNode ${process.version}, ${new Date().toISOString()}\n`);
