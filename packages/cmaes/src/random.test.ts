import { OpenFuguError, type Random } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { createRng } from './random.js';

// Φ(x) from the Chebyshev fit of erfc in Numerical Recipes (erfcc, |relative error| < 1.2e-7).
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x / Math.SQRT2));
  const y =
    t *
    Math.exp(
      -((x * x) / 2) -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - y / 2 : y / 2;
}

describe('createRng (xoshiro128** + ziggurat)', () => {
  it('matches the xoshiro128** reference outputs for state [1, 2, 3, 4]', () => {
    const rng = createRng([1, 2, 3, 4]);
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  it('is a schema Random and deterministic per seed; different seeds differ', () => {
    const random: Random = createRng(1);
    const a = Array.from({ length: 5 }, () => random());
    const b = Array.from({ length: 5 }, createRng(1));
    const c = Array.from({ length: 5 }, createRng(2));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    for (const u of a) expect(u >= 0 && u < 1).toBe(true);
    // Seeds that differ only above bit 32 still give different streams.
    expect(createRng(2 ** 40).nextUint32()).not.toBe(createRng(2 ** 41).nextUint32());
  });

  it('continues bit-for-bit from a saved state (uniform, gaussian and fill)', () => {
    const rng = createRng(99);
    for (let i = 0; i < 17; i++) rng.gaussian();
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const resumed = createRng(saved);
    const x = new Float64Array(1000);
    const y = new Float64Array(1000);
    rng.fillGaussian(x);
    resumed.fillGaussian(y);
    expect(y).toEqual(x);
    expect(resumed()).toBe(rng());
    expect(resumed.gaussian()).toBe(rng.gaussian());
  });

  it('rejects invalid seeds and states with OpenFuguError', () => {
    expect(() => createRng(1.5)).toThrow(/seed/);
    expect(() => createRng([0, 0, 0, 0])).toThrow(/state/);
    try {
      createRng([1, 2, 3] as unknown as [number, number, number, number]);
    } catch (error) {
      expect(OpenFuguError.hasCode(error, 'invalid_argument')).toBe(true);
    }
  });

  it('uniforms have mean 1/2 and variance 1/12', () => {
    const rng = createRng(3);
    let sum = 0;
    let sumSq = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const u = rng();
      sum += u;
      sumSq += u * u;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sumSq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 3);
  });

  it('gaussians pass moment, tail and Kolmogorov–Smirnov checks', () => {
    const rng = createRng(11);
    const n = 200_000;
    const x = new Float64Array(n);
    rng.fillGaussian(x, 0, n / 2);
    for (let i = n / 2; i < n; i++) x[i] = rng.gaussian();
    let m1 = 0;
    let m2 = 0;
    let m4 = 0;
    let tail = 0;
    for (const v of x) {
      m1 += v;
      m2 += v * v;
      m4 += v ** 4;
      if (Math.abs(v) > 3.442619855899) tail++;
    }
    expect(Math.abs(m1 / n)).toBeLessThan(0.01); // sd of the mean is 0.0022
    expect(m2 / n).toBeCloseTo(1, 1);
    expect(m4 / n).toBeGreaterThan(2.9); // kurtosis 3, sd ≈ 0.022
    expect(m4 / n).toBeLessThan(3.1);
    const expectedTail = 2 * (1 - normalCdf(3.442619855899)) * n; // ≈ 115
    expect(Math.abs(tail - expectedTail)).toBeLessThan(5 * Math.sqrt(expectedTail));
    const sorted = Array.from(x).sort((a, b) => a - b);
    let ks = 0;
    for (let i = 0; i < n; i++) {
      const cdf = normalCdf(sorted[i]!);
      ks = Math.max(ks, Math.abs(cdf - i / n), Math.abs(cdf - (i + 1) / n));
    }
    // 1% critical value 1.63/√n ≈ 0.0036; the CDF approximation adds < 2e-7.
    expect(ks).toBeLessThan(1.63 / Math.sqrt(n));
  });
});
