// Tiny benchmark harness: runs `fn` in timed batches and reports the median rate over several samples.
// Single thread, in-process. The machine may be shared: medians, and a baseline measured in the same run.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchResult {
  name: string;
  /** Median operations per second over the samples (wall clock). */
  opsPerSecond: number;
  /** Median operations per second of process CPU time (steadier than wall clock on a loaded machine). */
  cpuOpsPerSecond: number;
  /** Median nanoseconds per operation. */
  nsPerOp: number;
  samples: number;
}

/** Calls `fn(i)` for `batch` iterations per sample, `samples` times (after a warm-up), returns the median. */
export function bench(
  name: string,
  fn: (i: number) => unknown,
  options: { batch?: number; samples?: number } = {},
): BenchResult {
  const batch = options.batch ?? 10_000;
  const samples = options.samples ?? 9;
  let sink = 0;
  for (let i = 0; i < Math.min(batch, 5_000); i++) if (fn(i)) sink++;
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let s = 0; s < samples; s++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) if (fn(i)) sink++;
    const ns = Number(process.hrtime.bigint() - start);
    const cpu = process.cpuUsage(cpuStart);
    rates.push((batch * 1e9) / ns);
    cpuRates.push((batch * 1e6) / Math.max(1, cpu.user + cpu.system));
  }
  const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const wall = median(rates);
  if (sink < 0) console.log(sink);
  return { name, opsPerSecond: wall, cpuOpsPerSecond: median(cpuRates), nsPerOp: 1e9 / wall, samples };
}

/** Prints results as a Markdown table. */
export function printTable(
  title: string,
  results: readonly BenchResult[],
  extra: (r: BenchResult) => string = () => '',
): void {
  console.log(`\n### ${title}\n`);
  console.log('| case | ops/s, wall clock (median) | ops/s, CPU time (median) | µs/op (wall) | note |');
  console.log('|---|---:|---:|---:|---|');
  const format = (value: number): string => Math.round(value).toLocaleString('en-US');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${format(r.opsPerSecond)} | ${format(r.cpuOpsPerSecond)} | ${(r.nsPerOp / 1000).toFixed(2)} | ${extra(r)} |`,
    );
  }
}

/** The shared data directory (OPENFUGU_DATA_DIR, relative to the repo root; default ../shared/data). */
export function dataDir(): string {
  const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
  return resolve(repoRoot, process.env.OPENFUGU_DATA_DIR ?? '../shared/data');
}
