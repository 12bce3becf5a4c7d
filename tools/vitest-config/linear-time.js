// A guard against quadratic blow-ups on megabyte inputs, not a speed check. Ratios of timings (1 MB against
// 256 KB, best of 3, measured back to back) were tried and are not reliable: allocation and GC make a linear
// parser jump 10–60× between those sizes on a loaded machine (measured 2026-12-04, load 20). What separates
// linear from quadratic robustly is the order of magnitude: linear work on 1 MB takes milliseconds (seconds on
// the busiest machine), quadratic work takes minutes. So the bound is a generous ceiling, 30 s, far above
// the first and far below the second; speed figures belong to the benches.
import { expect } from 'vitest';

/** Ceiling for one run on a 1 MB input: ~100× a loaded machine's linear time, ~1/10 of quadratic time. */
export const QUADRATIC_GUARD_MS = 30_000;

/** @param {string} input @param {(input: string) => unknown} run */
export function expectNotQuadratic(input, run) {
  const started = performance.now();
  const result = run(input);
  const elapsed = performance.now() - started;
  expect(elapsed, `${input.length} characters took ${elapsed.toFixed(0)} ms`).toBeLessThan(
    QUADRATIC_GUARD_MS,
  );
  return result;
}
