/**
 * Standard test objectives (minimum 0), as used for the correctness anchors and the benchmark.
 * Exported so that users can reproduce the README table and sanity-check their own setups.
 */

/** Sphere f(x) = Σ xᵢ². Minimum 0 at 0. @example sphere(Float64Array.of(1, 2)) // 5 */
export function sphere(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  return sum;
}

/**
 * Ellipsoid f(x) = Σ 10^(6(i−1)/(n−1)) xᵢ² (condition number 1e6). Minimum 0 at 0.
 * @example ellipsoid(Float64Array.of(0, 1)) // 1e6
 */
export function ellipsoid(x: ArrayLike<number>): number {
  const n = x.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += 10 ** ((6 * i) / Math.max(1, n - 1)) * x[i]! * x[i]!;
  return sum;
}

/**
 * Rosenbrock f(x) = Σ 100(x_{i+1} − xᵢ²)² + (1 − xᵢ)². Minimum 0 at (1, …, 1).
 * @example rosenbrock(Float64Array.of(1, 1)) // 0
 */
export function rosenbrock(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length - 1; i++) {
    const a = x[i + 1]! - x[i]! * x[i]!;
    const b = 1 - x[i]!;
    sum += 100 * a * a + b * b;
  }
  return sum;
}

/**
 * Rastrigin f(x) = 10n + Σ (xᵢ² − 10 cos 2πxᵢ): highly multimodal, minimum 0 at 0.
 * @example rastrigin(Float64Array.of(0, 0)) // 0
 */
export function rastrigin(x: ArrayLike<number>): number {
  let sum = 10 * x.length;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]! - 10 * Math.cos(2 * Math.PI * x[i]!);
  return sum;
}
