/**
 * Small dense linear algebra for the supervised value heads: Gram accumulation, Cholesky factorisation and
 * triangular solves on row-major `Float64Array`s. Pure, no allocation in the inner loops.
 */
import { InvalidArgumentError } from '@openfugu/schema';

/**
 * Adds `weight · x xᵀ` to the upper triangle of the `d × d` row-major matrix `gram` (call
 * {@link symmetrize} once at the end). Zero entries of `x` are skipped, so sparse rows cost less.
 */
export function addOuterUpper(gram: Float64Array, x: ArrayLike<number>, d: number, weight = 1): void {
  for (let a = 0; a < d; a++) {
    const xa = x[a]!;
    if (xa === 0) continue;
    const s = weight * xa;
    const row = a * d;
    for (let b = a; b < d; b++) gram[row + b]! += s * x[b]!;
  }
}

/** Copies the upper triangle of a `d × d` row-major matrix into its lower triangle. */
export function symmetrize(matrix: Float64Array, d: number): void {
  for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) matrix[b * d + a] = matrix[a * d + b]!;
}

/**
 * Cholesky factorisation `A = L Lᵀ` of a symmetric positive-definite `d × d` row-major matrix. Returns
 * `L` (lower triangle, row-major; the upper triangle is zero). Throws `InvalidArgumentError` when `A` is
 * not positive definite (a non-positive pivot).
 */
export function cholesky(a: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let j = 0; j <= i; j++) {
      const rj = j * d;
      let sum = a[ri + j]!;
      for (let k = 0; k < j; k++) sum -= l[ri + k]! * l[rj + k]!;
      if (i === j) {
        if (!(sum > 0)) {
          throw new InvalidArgumentError({
            argument: 'matrix',
            message: `matrix is not positive definite (pivot ${i} = ${sum})`,
          });
        }
        l[ri + i] = Math.sqrt(sum);
      } else {
        l[ri + j] = sum / l[rj + j]!;
      }
    }
  }
  return l;
}

/**
 * Solves `L Lᵀ X = B` for `X` given the Cholesky factor `L` (`d × d`) and `B` (`d × m`, row-major);
 * returns `X` (`d × m`).
 */
export function choleskySolve(l: Float64Array, b: Float64Array, d: number, m: number): Float64Array {
  const x = Float64Array.from(b);
  // Forward: L y = b.
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let c = 0; c < m; c++) {
      let sum = x[i * m + c]!;
      for (let k = 0; k < i; k++) sum -= l[ri + k]! * x[k * m + c]!;
      x[i * m + c] = sum / l[ri + i]!;
    }
  }
  // Backward: Lᵀ x = y.
  for (let i = d - 1; i >= 0; i--) {
    for (let c = 0; c < m; c++) {
      let sum = x[i * m + c]!;
      for (let k = i + 1; k < d; k++) sum -= l[k * d + i]! * x[k * m + c]!;
      x[i * m + c] = sum / l[i * d + i]!;
    }
  }
  return x;
}

/** Solves the symmetric positive-definite system `A X = B` (`A` `d × d`, `B` `d × m`) by Cholesky. */
export function solveSpd(a: Float64Array, b: Float64Array, d: number, m: number): Float64Array {
  return choleskySolve(cholesky(a, d), b, d, m);
}
