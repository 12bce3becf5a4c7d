/** Timing helper shared by the latency benchmarks. */

export interface Timing {
  median: number;
  p90?: number;
  cpu: number;
}

/** Wall-clock and process-CPU µs per call (CPU time is less distorted when other jobs share the cores). */
export function timeIt(fn: () => void, iterations: number, rounds = 9): Timing {
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
