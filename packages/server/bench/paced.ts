/**
 * An open-loop, paced load generator: request k is sent at `start + k / rate` whatever happened to the
 * earlier ones (no coordinated omission), on a keep-alive undici pool, with microsecond timers.
 *
 * autocannon's `overallRate` is not that: each connection sends back-to-back until it has used its
 * per-second quota, then waits for the next second, so "1000 req/s over 16 connections" is a burst of 16
 * requests in flight at full speed followed by silence — a saturation test. This generator is what "at
 * 1,000 requests/s" means.
 */
import { Pool } from 'undici';

/** Latencies (ms, from the actual send) and how late each send was against its schedule (ms). */
export interface PacedRun {
  latencies: number[];
  lateness: number[];
  errors: number;
  /** Achieved request rate over the run, per second. */
  rate: number;
}

/** Sends `rate` requests per second for `ms` to `url`; `check` validates each 200 body. */
export async function paced(
  pool: Pool,
  url: string,
  body: string,
  options: {
    rate: number;
    ms: number;
    check: (text: string) => boolean;
    headers?: Record<string, string>;
  },
): Promise<PacedRun> {
  const path = new URL(url).pathname;
  const interval = 1000 / options.rate;
  const total = Math.max(1, Math.round((options.rate * options.ms) / 1000));
  const latencies: number[] = [];
  const lateness: number[] = [];
  let errors = 0;
  let sent = 0;
  let done = 0;
  const start = performance.now() + 2;
  const headers = { 'content-type': 'application/json', ...options.headers };
  return new Promise((resolve) => {
    const finish = (): void => {
      if (++done === total) {
        resolve({ latencies, lateness, errors, rate: (total * 1000) / (performance.now() - start) });
      }
    };
    const fire = (k: number): void => {
      const t = performance.now();
      lateness.push(t - (start + k * interval));
      pool
        .request({ path, method: 'POST', headers, body })
        .then(async (response) => {
          const text = await response.body.text();
          if (response.statusCode === 200 && options.check(text)) latencies.push(performance.now() - t);
          else errors++;
        })
        .catch(() => {
          errors++;
        })
        .finally(finish);
    };
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) fire(sent++);
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    setTimeout(tick, 2);
  });
}

/** Creates the keep-alive client pool the paced runs use (one per target origin). */
export function pacedPool(url: string): Pool {
  return new Pool(new URL(url).origin, { connections: 64, pipelining: 1 });
}

/** The `q`-quantile (0..1) of a sample, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Several slices' runs as one: latencies and lateness pooled, errors summed, the mean achieved rate. */
export function joinRuns(runs: readonly PacedRun[]): PacedRun {
  return {
    latencies: runs.flatMap((run) => run.latencies),
    lateness: runs.flatMap((run) => run.lateness),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    rate: runs.reduce((sum, run) => sum + run.rate, 0) / runs.length,
  };
}
