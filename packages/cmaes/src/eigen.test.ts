import { describe, expect, it } from 'vitest';
import { symmetricEigen } from './eigen.js';
import { createRng } from './random.js';

function randomSymmetric(n: number, seed: number, spread = 1): Float64Array {
  const rng = createRng(seed);
  const a = new Float64Array(n * n);
  // A = Q diag(λ) Qᵀ with eigenvalues spread over `spread` orders of magnitude, via G·Gᵀ-like mixing.
  const g = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) g[i] = rng.gaussian();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += g[i * n + k]! * g[j * n + k]! * 10 ** ((spread * k) / n);
      a[i * n + j] = sum;
      a[j * n + i] = sum;
    }
  }
  return a;
}

function check(a: Float64Array, n: number): { reconstruction: number; orthogonality: number } {
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  symmetricEigen(a, n, values, vectors);
  let norm = 0;
  let error = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += vectors[k * n + i]! * values[k]! * vectors[k * n + j]!;
      error += (sum - a[i * n + j]!) ** 2;
      norm += a[i * n + j]! ** 2;
    }
  }
  let orthogonality = 0;
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += vectors[p * n + k]! * vectors[q * n + k]!;
      orthogonality = Math.max(orthogonality, Math.abs(dot - (p === q ? 1 : 0)));
    }
  }
  for (let k = 1; k < n; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
  return { reconstruction: Math.sqrt(error / norm), orthogonality };
}

describe('symmetricEigen (tred2 + tql2)', () => {
  it('solves a 2×2 by hand: [[2,1],[1,2]] has eigenvalues 1 and 3', () => {
    const values = new Float64Array(2);
    const vectors = new Float64Array(4);
    symmetricEigen(Float64Array.of(2, 1, 1, 2), 2, values, vectors);
    expect(values[0]).toBeCloseTo(1, 14);
    expect(values[1]).toBeCloseTo(3, 14);
    expect(Math.abs(vectors[2]! * vectors[3]!)).toBeCloseTo(0.5, 14); // (1,1)/√2 up to sign
  });

  it('handles diagonal, 1×1 and zero matrices', () => {
    const values = new Float64Array(3);
    const vectors = new Float64Array(9);
    symmetricEigen(Float64Array.of(3, 0, 0, 0, 1, 0, 0, 0, 2), 3, values, vectors);
    expect([...values]).toEqual([1, 2, 3]);
    const one = new Float64Array(1);
    const oneVector = new Float64Array(1);
    symmetricEigen(Float64Array.of(5), 1, one, oneVector);
    expect(one[0]).toBe(5);
    expect(Math.abs(oneVector[0]!)).toBe(1);
    symmetricEigen(new Float64Array(9), 3, values, vectors);
    expect([...values]).toEqual([0, 0, 0]);
  });

  it.each([
    [10, 0],
    [50, 6],
    [120, 12],
  ])(
    'reconstructs a random n=%i matrix (eigenvalue spread ~1e%i) to ~n·ε with orthonormal vectors',
    (n, spread) => {
      const { reconstruction, orthogonality } = check(randomSymmetric(n, n + spread, spread), n);
      expect(reconstruction).toBeLessThan(1e-13);
      expect(orthogonality).toBeLessThan(1e-12);
    },
  );

  it('recovers eigenvalues of a matrix with known spectrum and repeated eigenvalues', () => {
    const n = 30;
    const rng = createRng(7);
    // Random orthogonal Q by Gram–Schmidt, spectrum with a triple repeat.
    const q = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) q[i * n + k] = rng.gaussian();
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += q[i * n + k]! * q[j * n + k]!;
        for (let k = 0; k < n; k++) q[i * n + k] = q[i * n + k]! - dot * q[j * n + k]!;
      }
      let norm = 0;
      for (let k = 0; k < n; k++) norm += q[i * n + k]! ** 2;
      for (let k = 0; k < n; k++) q[i * n + k] = q[i * n + k]! / Math.sqrt(norm);
    }
    const spectrum = Array.from({ length: n }, (_, i) => (i < 3 ? 2 : 1 + i * i));
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += q[k * n + i]! * spectrum[k]! * q[k * n + j]!;
        a[i * n + j] = sum;
      }
    }
    const values = new Float64Array(n);
    symmetricEigen(a, n, values, new Float64Array(n * n));
    const expected = [...spectrum].sort((x, y) => x - y);
    for (let k = 0; k < n; k++) expect(values[k]).toBeCloseTo(expected[k]!, 9);
  });
});
