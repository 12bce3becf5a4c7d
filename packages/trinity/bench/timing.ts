/** Timing helper and the 2 KB prompt shared by the latency benchmarks. */

const SENTENCES = [
  'I am preparing a short workshop for new volunteers at our community garden and need help structuring it.',
  'Please explain, step by step, how composting works, which kitchen scraps are safe to add, and which are not.',
  'Include a simple schedule for turning the pile, a list of common mistakes, and how to tell when compost is ready.',
  'Some participants are children, so suggest two hands-on activities that are safe and fun for ages eight to twelve.',
  'We also have a small budget of 150 dollars; recommend the three most useful tools we could buy with it.',
  'Finally, write a friendly two-paragraph welcome message that I can read aloud at the start of the session.',
  'If anything about local regulations matters (for example rodents or smells), mention what to check with the city.',
];

/** A 2 KB prompt: seven sentences repeated. */
export function prompt2k(): string {
  let text = '';
  for (let i = 0; text.length < 2048; i++) text += `${SENTENCES[i % SENTENCES.length]} `;
  return text.slice(0, 2048);
}

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
