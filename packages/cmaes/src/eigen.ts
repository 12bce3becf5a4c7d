/**
 * Symmetric eigendecomposition: Householder tridiagonalisation (tred2) followed by the implicit
 * QL algorithm with Wilkinson-style shifts (tql2). These are the EISPACK routines of the same names
 * (Bowdler, Martin, Reinsch & Wilkinson 1968) in the form popularised by JAMA (public domain), which
 * is also what Hansen's own C and Java CMA-ES code uses.
 *
 * Why this and not Jacobi: tred2/tql2 costs about 9n³ flops with vectors against ~20n³ or more for
 * cyclic Jacobi (several sweeps of 2n³ each), and it is backward stable (reconstruction error
 * ‖C − B·diag(d)·Bᵀ‖/‖C‖ ≈ n·ε, see eigen.test.ts). Why not a numeric library: none on npm is both
 * maintained and allocation-free on flat typed arrays, and this is ~150 lines.
 *
 * Layout: `matrix` is row-major n×n. The result `vectors` holds the eigenvectors as ROWS
 * (`vectors[j*n + i]` = component i of eigenvector j) because then both the QL rotations and the
 * CMA-ES products B·t and Bᵀ·v walk memory contiguously.
 */

/** Workspace for {@link symmetricEigen}; reuse one per dimension to avoid allocation. */
export interface EigenWorkspace {
  readonly n: number;
  /** n×n scratch (row-major). */
  readonly v: Float64Array;
  readonly e: Float64Array;
  /** Rotation cosines and sines of one QL sweep (also sort scratch). */
  readonly c: Float64Array;
  readonly s: Float64Array;
}

/** Allocates a workspace for n×n problems. */
export function createEigenWorkspace(n: number): EigenWorkspace {
  return {
    n,
    v: new Float64Array(n * n),
    e: new Float64Array(n),
    c: new Float64Array(n),
    s: new Float64Array(n),
  };
}

/**
 * Eigendecomposition of the symmetric n×n matrix `matrix` (row-major; only read).
 * Writes eigenvalues in ascending order to `values` and the matching unit eigenvectors as rows of
 * `vectors` (n×n). Returns the number of QL iterations used (for diagnostics).
 *
 * @example
 * ```ts
 * const values = new Float64Array(2), vectors = new Float64Array(4);
 * symmetricEigen(Float64Array.of(2, 1, 1, 2), 2, values, vectors);
 * // values ≈ [1, 3]
 * ```
 */
export function symmetricEigen(
  matrix: Float64Array,
  n: number,
  values: Float64Array,
  vectors: Float64Array,
  workspace: EigenWorkspace = createEigenWorkspace(n),
): number {
  const e = workspace.e;
  const d = values;
  // tred2 runs on the transposed storage (every access of JAMA's V[i][j] reads V[j*n+i]), which
  // turns its column walks into row walks and leaves the eigenvector rows ready for tql2.
  // The input is symmetric, so its transpose is itself.
  vectors.set(matrix.subarray(0, n * n));
  tred2(n, vectors, d, e);
  // tql2 wants V row-major (eigenvectors as columns) for its per-row rotation chains.
  const V = workspace.v;
  transpose(n, vectors, V);
  const iterations = tql2(n, V, d, e, workspace.c, workspace.s);
  transpose(n, V, vectors);
  sortAscending(n, d, vectors, workspace.c);
  return iterations;
}

function tred2(n: number, V: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = V[j * n + (n - 1)]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[j * n + (i - 1)]!;
        V[j * n + i] = 0;
        V[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[i * n + j] = f;
        // Two partial sums break the serial dependency of the dot product.
        const row = j * n;
        let g0 = e[j]! + V[row + j]! * f;
        let g1 = 0;
        let k = j + 1;
        for (; k + 1 <= i - 1; k += 2) {
          const v0 = V[row + k]!;
          const v1 = V[row + k + 1]!;
          g0 += v0 * d[k]!;
          g1 += v1 * d[k + 1]!;
          e[k] = e[k]! + v0 * f;
          e[k + 1] = e[k + 1]! + v1 * f;
        }
        for (; k <= i - 1; k++) {
          const v0 = V[row + k]!;
          g0 += v0 * d[k]!;
          e[k] = e[k]! + v0 * f;
        }
        e[j] = g0 + g1;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[j * n + k] = V[j * n + k]! - (f * e[k]! + g * d[k]!);
        d[j] = V[j * n + (i - 1)]!;
        V[j * n + i] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    V[i * n + (n - 1)] = V[i * n + i]!;
    V[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[(i + 1) * n + k]! / h;
      for (let j = 0; j <= i; j++) {
        const u = (i + 1) * n;
        const row = j * n;
        let g0 = 0;
        let g1 = 0;
        let g2 = 0;
        let g3 = 0;
        let k = 0;
        for (; k + 3 <= i; k += 4) {
          g0 += V[u + k]! * V[row + k]!;
          g1 += V[u + k + 1]! * V[row + k + 1]!;
          g2 += V[u + k + 2]! * V[row + k + 2]!;
          g3 += V[u + k + 3]! * V[row + k + 3]!;
        }
        for (; k <= i; k++) g0 += V[u + k]! * V[row + k]!;
        const g = g0 + g1 + (g2 + g3);
        for (k = 0; k <= i; k++) V[row + k] = V[row + k]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[(i + 1) * n + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[j * n + (n - 1)]!;
    V[j * n + (n - 1)] = 0;
  }
  V[(n - 1) * n + (n - 1)] = 1;
  e[0] = 0;
}

function transpose(n: number, from: Float64Array, to: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) to[j * n + i] = from[row + j]!;
  }
}

function hypot(a: number, b: number): number {
  // Math.hypot is several times slower in V8; rescale to stay safe from over/underflow.
  const absA = Math.abs(a);
  const absB = Math.abs(b);
  if (absA > absB) {
    const r = absB / absA;
    return absA * Math.sqrt(1 + r * r);
  }
  if (absB === 0) return 0;
  const r = absA / absB;
  return absB * Math.sqrt(1 + r * r);
}

/** Implicit QL on the tridiagonal (d, e); `V` is row-major with eigenvectors as columns. */
function tql2(
  n: number,
  V: Float64Array,
  d: Float64Array,
  e: Float64Array,
  cs: Float64Array,
  ss: Float64Array,
): number {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  let iterations = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m === n) m = n - 1;
    if (m > l) {
      do {
        iterations++;
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          cs[i] = c;
          ss[i] = s;
        }
        // Apply the chain of rotations (i, i+1), i = m−1 … l, to every row of V at once. The
        // rotation parameters depend only on d and e, so the chain can run per row: each element is
        // loaded and stored once, walking the row contiguously (JAMA rotates column pairs instead,
        // touching every element twice with stride n).
        // Four rows at a time: each chain is a serial dependency on x, so interleaving four
        // independent chains keeps the floating-point pipeline busy.
        let k = 0;
        for (; k + 3 < n; k += 4) {
          const b0 = k * n;
          const b1 = b0 + n;
          const b2 = b1 + n;
          const b3 = b2 + n;
          let x0 = V[b0 + m]!;
          let x1 = V[b1 + m]!;
          let x2 = V[b2 + m]!;
          let x3 = V[b3 + m]!;
          for (let i = m - 1; i >= l; i--) {
            const ci = cs[i]!;
            const si = ss[i]!;
            const y0 = V[b0 + i]!;
            const y1 = V[b1 + i]!;
            const y2 = V[b2 + i]!;
            const y3 = V[b3 + i]!;
            V[b0 + i + 1] = si * y0 + ci * x0;
            V[b1 + i + 1] = si * y1 + ci * x1;
            V[b2 + i + 1] = si * y2 + ci * x2;
            V[b3 + i + 1] = si * y3 + ci * x3;
            x0 = ci * y0 - si * x0;
            x1 = ci * y1 - si * x1;
            x2 = ci * y2 - si * x2;
            x3 = ci * y3 - si * x3;
          }
          V[b0 + l] = x0;
          V[b1 + l] = x1;
          V[b2 + l] = x2;
          V[b3 + l] = x3;
        }
        for (; k < n; k++) {
          const base = k * n;
          let x = V[base + m]!;
          for (let i = m - 1; i >= l; i--) {
            const y = V[base + i]!;
            const ci = cs[i]!;
            const si = ss[i]!;
            V[base + i + 1] = si * y + ci * x;
            x = ci * y - si * x;
          }
          V[base + l] = x;
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1 && iterations < 30 * n * n);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
  return iterations;
}

function sortAscending(n: number, d: Float64Array, W: Float64Array, scratch: Float64Array): void {
  // Selection sort on values with row swaps: O(n²) comparisons, ≤ n row swaps.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i]!;
    for (let j = i + 1; j < n; j++) {
      if (d[j]! < p) {
        k = j;
        p = d[j]!;
      }
    }
    if (k !== i) {
      d[k] = d[i]!;
      d[i] = p;
      const rowI = W.subarray(i * n, i * n + n);
      const rowK = W.subarray(k * n, k * n + n);
      scratch.set(rowI, 0);
      rowI.set(rowK);
      rowK.set(scratch.subarray(0, n));
    }
  }
}
