import { OpenFuguError } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { createAdam } from './adam.js';

describe('createAdam', () => {
  // lr 0.1, β₁ 0.9, β₂ 0.999, ε 1e-8, θ₀ = 1, gradients 0.5 then −1.
  // t=1: m = 0.05, v = 0.00025, step size 0.1/0.1 = 1, denom √v/√0.001 + ε = 0.5 + 1e-8
  //      → θ = 1 − 0.05/0.50000001 = 0.900000002.
  // t=2: m = 0.045 − 0.1 = −0.055, v = 0.00024975 + 0.001 = 0.00124975, step size 0.1/0.19,
  //      denom √0.00124975/√0.001999 = 0.7906887 → θ = 0.900000002 + 0.0366103540 = 0.9366103542.
  it('matches hand-computed Adam steps', () => {
    const adam = createAdam(1, { learningRate: 0.1 });
    const theta = new Float64Array([1]);
    adam.update(theta, [0.5]);
    expect(theta[0]).toBeCloseTo(0.900000002, 12);
    adam.update(theta, [-1]);
    expect(theta[0]).toBeCloseTo(0.9366103542, 10);
  });

  it('applies decoupled weight decay before the step (AdamW)', () => {
    // θ is first multiplied by 1 − lr·λ = 0.99: 0.99 − 0.1 = 0.890000002, then 0.9177103542.
    const adam = createAdam(1, { learningRate: 0.1, weightDecay: 0.1 });
    const theta = new Float64Array([1]);
    adam.update(theta, [0.5]);
    expect(theta[0]).toBeCloseTo(0.890000002, 12);
    adam.update(theta, [-1]);
    expect(theta[0]).toBeCloseTo(0.9177103542, 10);
  });

  it('state round-trips through JSON and resumes identically', () => {
    const a = createAdam(3, { learningRate: 0.05 });
    const pa = new Float64Array([0.1, -0.2, 0.3]);
    a.update(pa, [1, -2, 0.5]);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = createAdam(3, { learningRate: 0.05 });
    b.setState(saved);
    const pb = Float64Array.from(pa);
    a.update(pa, [0.3, 0.1, -0.7]);
    b.update(pb, [0.3, 0.1, -0.7]);
    expect(Array.from(pb)).toEqual(Array.from(pa));
    expect(b.state().step).toBe(2);
  });

  it('rejects bad settings and shapes', () => {
    expect(() => createAdam(2, { beta1: 1 })).toThrow();
    expect(() => createAdam(2).update(new Float64Array(2), [1])).toThrow();
    try {
      createAdam(2, { learningRate: -1 });
    } catch (error) {
      expect(OpenFuguError.hasCode(error, 'invalid_argument')).toBe(true);
    }
  });
});
