/**
 * Adam (Kingma & Ba 2015, Algorithm 1) with decoupled weight decay (AdamW, Loshchilov & Hutter 2019,
 * Algorithm 2), in the same order of operations as `torch.optim.AdamW`:
 *
 *   θ ← θ·(1 − lr·λ);  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;
 *   θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
 */

import { InvalidArgumentError, ShapeMismatchError } from '@openfugu/schema';

/** Settings of {@link createAdam}. */
export interface AdamOptions {
  /** Step size. Default 0.01. */
  learningRate?: number;
  /** First-moment decay. Default 0.9. */
  beta1?: number;
  /** Second-moment decay. Default 0.999. */
  beta2?: number;
  /** Added to √v̂. Default 1e-8. */
  epsilon?: number;
  /** Decoupled weight decay λ (AdamW). Default 0. */
  weightDecay?: number;
}

/** Serialisable optimiser state (plain arrays of numbers). */
export interface AdamState {
  /** Number of updates taken. */
  step: number;
  /** First moments. */
  m: number[];
  /** Second moments. */
  v: number[];
}

/** An Adam optimiser over a fixed-size parameter vector. */
export interface Adam {
  /** Settings in use (defaults filled in). */
  readonly options: Required<AdamOptions>;
  /** Updates `parameters` in place with `gradient`. */
  update(parameters: Float64Array, gradient: ArrayLike<number>): void;
  /** Changes the learning rate (for schedules). */
  setLearningRate(learningRate: number): void;
  /** A copy of the state, for checkpoints. */
  state(): AdamState;
  /** Restores a state produced by {@link Adam.state}. */
  setState(state: AdamState): void;
}

/**
 * Creates an Adam/AdamW optimiser for `size` parameters.
 *
 * Defaults: lr 0.01, β₁ 0.9, β₂ 0.999, ε 1e-8, weight decay 0.
 *
 * @example
 * ```ts
 * const adam = createAdam(weights.length, { learningRate: 0.05 });
 * adam.update(weights, gradient);
 * ```
 */
export function createAdam(size: number, options: AdamOptions = {}): Adam {
  const settings: Required<AdamOptions> = {
    learningRate: options.learningRate ?? 0.01,
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    epsilon: options.epsilon ?? 1e-8,
    weightDecay: options.weightDecay ?? 0,
  };
  if (!(settings.learningRate >= 0)) {
    throw new InvalidArgumentError({ argument: 'learningRate', message: 'learningRate must be ≥ 0.' });
  }
  if (!(settings.beta1 >= 0 && settings.beta1 < 1) || !(settings.beta2 >= 0 && settings.beta2 < 1)) {
    throw new InvalidArgumentError({ argument: 'beta1', message: 'beta1 and beta2 must lie in [0, 1).' });
  }
  if (!(settings.epsilon >= 0) || !(settings.weightDecay >= 0)) {
    throw new InvalidArgumentError({ argument: 'epsilon', message: 'epsilon and weightDecay must be ≥ 0.' });
  }
  const m = new Float64Array(size);
  const v = new Float64Array(size);
  let step = 0;

  return {
    options: settings,
    update(parameters, gradient) {
      if (parameters.length !== size || gradient.length !== size) {
        throw new ShapeMismatchError({
          message: 'Adam.update got vectors of the wrong length.',
          expected: String(size),
          actual: `${parameters.length}/${gradient.length}`,
        });
      }
      step++;
      const { learningRate: lr, beta1, beta2, epsilon, weightDecay } = settings;
      // torch: step_size = lr / (1 − β₁ᵗ); denom = √v / √(1 − β₂ᵗ) + ε.
      const stepSize = lr / (1 - beta1 ** step);
      const correction2Sqrt = Math.sqrt(1 - beta2 ** step);
      const decay = 1 - lr * weightDecay;
      for (let j = 0; j < size; j++) {
        const g = gradient[j]!;
        const mj = beta1 * m[j]! + (1 - beta1) * g;
        const vj = beta2 * v[j]! + (1 - beta2) * g * g;
        m[j] = mj;
        v[j] = vj;
        const p = weightDecay === 0 ? parameters[j]! : parameters[j]! * decay;
        parameters[j] = p - (stepSize * mj) / (Math.sqrt(vj) / correction2Sqrt + epsilon);
      }
    },
    setLearningRate(learningRate) {
      if (!(learningRate >= 0)) {
        throw new InvalidArgumentError({ argument: 'learningRate', message: 'learningRate must be ≥ 0.' });
      }
      settings.learningRate = learningRate;
    },
    state() {
      return { step, m: Array.from(m), v: Array.from(v) };
    },
    setState(state) {
      if (state.m.length !== size || state.v.length !== size) {
        throw new ShapeMismatchError({
          message: 'Adam state has the wrong size.',
          expected: String(size),
          actual: `${state.m.length}/${state.v.length}`,
        });
      }
      step = state.step;
      m.set(state.m);
      v.set(state.v);
    },
  };
}
