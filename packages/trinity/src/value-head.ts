/**
 * Supervised value heads: per agent, a linear model of the quality of that agent's answer to a prompt,
 * fitted on recorded outcomes — the design that beats the project's black-box trainers on the RouteLLM sets
 * (issue 16). Routing takes the argmax of the predicted qualities (or quality − λ·price, `cost-knob.ts`).
 *
 * Models (both with an optional unpenalised per-agent bias, `bias`, default on):
 * - `ridge`: least squares with an L2 penalty, closed form in the primal — one `d × d` Gram matrix
 *   (`n·d²/2` multiply-adds), then one Cholesky factorisation per (fold, λ) shared by every agent
 *   (`d³/6` each). With the bias the features and targets are centred by the (fold's) training means, so
 *   the bias is not penalised; predictions are conditional means (calibrated in the least-squares sense).
 * - `logistic`: L2-regularised logistic regression (cross-entropy, soft labels in [0, 1] allowed) by
 *   Newton's method / IRLS (Hastie, Tibshirani & Friedman, *ESL* §4.4.1), one weighted Gram and Cholesky
 *   per iteration and agent — `n·d²/2` each, so meant for `d` up to a few hundred. The logits are log-odds,
 *   i.e. calibrated probabilities by construction (`valueLink: 'logistic'`).
 *
 * λ is chosen by k-fold cross-validation on the training prompts only (mean squared error for ridge, log
 * loss for logistic, averaged over agents), then the model is refitted on all of them. Folds come from an
 * injected `random`; nothing else is random. The result keeps the out-of-fold predictions at the chosen λ
 * (for thresholds and refinements that must not see in-sample predictions) and their calibration
 * (Brier score and expected calibration error over 10 equal-width bins).
 */
import { createRng } from '@openfugu/cmaes';
import { InvalidArgumentError, type Random, ShapeMismatchError } from '@openfugu/schema';
import { createRouterHead, type RouterHead } from './head.js';
import { addOuterUpper, cholesky, choleskySolve, solveSpd, symmetrize } from './linalg.js';
import { checkTrainingTable } from './training-table.js';

/** Settings of {@link trainValueHead}. */
export interface TrainValueHeadSettings {
  /** One feature vector per prompt (all the same length `d`). */
  features: readonly ArrayLike<number>[];
  /** `outcomes[prompt][agent]`: the recorded quality (e.g. 0/1 correct, or P(win) in [0, 1]). Finite. */
  outcomes: readonly (readonly number[])[];
  /** `ridge` (default) or `logistic` (outcomes must lie in [0, 1]). */
  model?: 'ridge' | 'logistic';
  /**
   * Candidate penalties. Default: `[1e-3, 1e-2, 0.1, 1, 10, 100]` × (mean squared feature norm), i.e.
   * relative to the scale of the Gram matrix's diagonal sum.
   */
  lambdas?: readonly number[];
  /**
   * Candidate penalties relative to the mean squared feature norm (used when `lambdas` is not given).
   * Default `[1e-3, 1e-2, 0.1, 1, 10, 100]`; a finer grid costs one Cholesky factorisation per fold and λ more.
   */
  lambdaScales?: readonly number[];
  /** Number of cross-validation folds (≥ 2, ≤ prompts). Default 5. */
  folds?: number;
  /** Fit an unpenalised per-agent bias. Default true. */
  bias?: boolean;
  /** Uniform [0, 1) generator for the fold assignment. Default: `createRng(seed)` (@openfugu/cmaes). */
  random?: Random;
  /** Seed of the default generator. Default 0. */
  seed?: number;
  agents?: readonly string[];
  /** Recorded in the head (`backboneId`). */
  backboneId?: string;
  /** Newton iterations per logistic fit (default 25; stops earlier when the step is below 1e-8). */
  maxIterations?: number;
  /**
   * `idf`: scale feature `i` by its inverse document frequency on these (training) prompts,
   * `1 + ln((1 + n) / (1 + df_i))` with `df_i` = prompts where feature `i` is non-zero (scikit-learn's smooth
   * IDF), before fitting — TF-IDF-style weighting of hashed n-gram buckets (dense features, non-zero on every
   * prompt, keep scale 1). The scales are folded into the head's weights, so the head reads raw backbone
   * vectors and serves unchanged. It is equivalent to a per-feature penalty `λ / scale_i²`. Label-free and fitted
   * on the training prompts only (the same scales in every CV fold). Default: none.
   */
  featureScale?: 'idf';
}

/** One λ of the cross-validation path. */
export interface ValueHeadCvPoint {
  lambda: number;
  /** Mean held-out loss over folds and agents (MSE for ridge, log loss for logistic). */
  loss: number;
}

/** Result of {@link trainValueHead}. */
export interface TrainValueHeadResult {
  /** A roles-free head with `agentBias` (when `bias`) and `valueLink`. */
  head: RouterHead;
  model: 'ridge' | 'logistic';
  /** The chosen penalty. */
  lambda: number;
  cv: ValueHeadCvPoint[];
  /** Out-of-fold predicted qualities at the chosen λ (prompts × agents, row-major; probabilities for logistic). */
  oofPredictions: Float64Array;
  /** Fold of each prompt. */
  foldOf: Int32Array;
  /** Calibration of the out-of-fold predictions against the outcomes (all agents pooled). */
  calibration: { brier: number; ece: number };
  /** The per-feature scales of `featureScale` (already folded into the head's weights), when one was set. */
  featureScales?: Float64Array;
}

const DEFAULT_LAMBDA_SCALES = [1e-3, 1e-2, 0.1, 1, 10, 100];

/**
 * Fits a supervised value head (ridge or L2-logistic) with λ chosen by k-fold cross-validation.
 *
 * @example
 * ```ts
 * const { head } = trainValueHead({ features, outcomes, agents: ['gpt4', 'mixtral'], random: createRng(1) });
 * const router = createRouter({ backbone, head }); // argmax of predicted quality
 * ```
 */
export function trainValueHead(settings: TrainValueHeadSettings): TrainValueHeadResult {
  const { outcomes } = settings;
  let features = settings.features;
  const n = features.length;
  const model = settings.model ?? 'ridge';
  const bias = settings.bias ?? true;
  const folds = settings.folds ?? Math.min(5, n);
  if (n < 2) throw new InvalidArgumentError({ argument: 'features', message: 'need at least 2 prompts' });
  const { d, k, flat: y } = checkTrainingTable(features, outcomes, { unitInterval: model === 'logistic' });
  if (!Number.isInteger(folds) || folds < 2 || folds > n) {
    throw new InvalidArgumentError({
      argument: 'folds',
      message: `folds must be an integer in [2, ${n}], got ${folds}`,
    });
  }
  if (settings.agents !== undefined && settings.agents.length !== k) {
    throw new ShapeMismatchError({
      message: `agents lists ${settings.agents.length} ids but outcomes have ${k} columns`,
      expected: `${k}`,
      actual: `${settings.agents.length}`,
    });
  }
  let featureScales: Float64Array | undefined;
  if (settings.featureScale !== undefined) {
    if (settings.featureScale !== 'idf') {
      throw new InvalidArgumentError({
        argument: 'featureScale',
        message: `featureScale must be 'idf', got ${JSON.stringify(settings.featureScale)}`,
      });
    }
    const scales = idfScales(features, d);
    featureScales = scales;
    features = features.map((x) => {
      const out = new Float64Array(d);
      for (let i = 0; i < d; i++) out[i] = x[i]! * scales[i]!;
      return out;
    });
  }
  let meanSquaredNorm = 0;
  for (const x of features) for (let i = 0; i < d; i++) meanSquaredNorm += x[i]! * x[i]!;
  meanSquaredNorm = meanSquaredNorm / n || 1;
  const lambdas =
    settings.lambdas ?? (settings.lambdaScales ?? DEFAULT_LAMBDA_SCALES).map((s) => s * meanSquaredNorm);
  if (lambdas.length === 0 || lambdas.some((l) => !(l > 0 && Number.isFinite(l)))) {
    throw new InvalidArgumentError({
      argument: 'lambdas',
      message: 'lambdas must be positive finite numbers',
    });
  }
  const foldOf = assignFolds(n, folds, settings.random ?? createRng(settings.seed ?? 0));

  const fitter =
    model === 'ridge'
      ? createRidgeFitter(features, y, d, k, foldOf, folds, bias)
      : createLogisticFitter(features, y, d, k, bias, settings.maxIterations ?? 25);
  // Cross-validation: held-out predictions of every λ, then the λ with the lowest mean loss.
  const oofByLambda = lambdas.map(() => new Float64Array(n * k));
  for (let f = 0; f < folds; f++) {
    const trainRows: number[] = [];
    const testRows: number[] = [];
    for (let p = 0; p < n; p++) (foldOf[p] === f ? testRows : trainRows).push(p);
    lambdas.forEach((lambda, l) => {
      const fit = fitter.fit(lambda, trainRows, f);
      for (const p of testRows) predictInto(fit, features[p]!, d, k, model, oofByLambda[l]!, p * k);
    });
  }
  const cv = lambdas.map((lambda, l) => ({ lambda, loss: meanLoss(oofByLambda[l]!, y, model) }));
  let best = 0;
  for (let l = 1; l < cv.length; l++) if (cv[l]!.loss < cv[best]!.loss) best = l;
  const lambda = lambdas[best]!;
  const all = Array.from({ length: n }, (_, p) => p);
  const fit = fitter.fit(lambda, all, -1);
  const weights = new Float64Array(k * d);
  for (let a = 0; a < k; a++) {
    for (let i = 0; i < d; i++) weights[a * d + i] = fit.w[i * k + a]! * (featureScales?.[i] ?? 1);
  }
  const head = createRouterHead({
    agentCount: k,
    dimension: d,
    roles: false,
    weights,
    valueLink: model === 'ridge' ? 'identity' : 'logistic',
    ...(bias ? { agentBias: fit.b } : {}),
    ...(settings.agents === undefined ? {} : { agents: settings.agents }),
    ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
  });
  const oofPredictions = oofByLambda[best]!;
  return {
    head,
    model,
    lambda,
    cv,
    oofPredictions,
    foldOf,
    calibration: calibrationOf(oofPredictions, y),
    ...(featureScales === undefined ? {} : { featureScales }),
  };
}

/**
 * Smooth inverse document frequency of each feature over `features`: `1 + ln((1 + n) / (1 + df_i))`,
 * `df_i` = number of vectors whose feature `i` is non-zero (scikit-learn's `smooth_idf`).
 *
 * @example
 * ```ts
 * idfScales([[1, 0], [1, 2]], 2); // [1, 1 + ln(3 / 2)]
 * ```
 */
export function idfScales(features: readonly ArrayLike<number>[], d: number): Float64Array {
  const df = new Float64Array(d);
  for (const x of features) for (let i = 0; i < d; i++) if (x[i] !== 0) df[i] = df[i]! + 1;
  const n = features.length;
  return df.map((c) => 1 + Math.log((1 + n) / (1 + c)));
}

/**
 * Predicted qualities of a value head for one feature vector: the agent logits (bias included) for an
 * `identity` head, their sigmoid for a `logistic` head, the raw logits otherwise.
 */
export function predictQuality(head: RouterHead, agentLogits: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(agentLogits);
  if (head.valueLink === 'logistic') for (let a = 0; a < out.length; a++) out[a] = sigmoid(out[a]!);
  return out;
}

/** The logistic function, stable for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Balanced random fold assignment: a shuffled `0, 1, …, folds − 1, 0, 1, …` (Fisher–Yates). */
function assignFolds(n: number, folds: number, random: Random): Int32Array {
  const foldOf = Int32Array.from({ length: n }, (_, p) => p % folds);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const t = foldOf[i]!;
    foldOf[i] = foldOf[j]!;
    foldOf[j] = t;
  }
  return foldOf;
}

/** A fitted linear model: `w` is `d × k` (row-major), `b` the `k` biases. */
interface LinearFit {
  w: Float64Array;
  b: Float64Array;
}

interface Fitter {
  /** Fits on `rows` (fold `fold` held out, or −1 for all rows). */
  fit(lambda: number, rows: readonly number[], fold: number): LinearFit;
}

function predictInto(
  fit: LinearFit,
  x: ArrayLike<number>,
  d: number,
  k: number,
  model: 'ridge' | 'logistic',
  out: Float64Array,
  offset: number,
): void {
  for (let a = 0; a < k; a++) {
    let s = fit.b[a]!;
    for (let i = 0; i < d; i++) {
      const xi = x[i]!;
      if (xi !== 0) s += xi * fit.w[i * k + a]!;
    }
    out[offset + a] = model === 'logistic' ? sigmoid(s) : s;
  }
}

/**
 * Ridge through sufficient statistics: per fold, the Gram matrix `Σ x xᵀ`, `Σ x yᵀ`, `Σ x`, `Σ y`; a
 * fold's training statistics are the totals minus the fold's own, so the data are read once.
 */
function createRidgeFitter(
  features: readonly ArrayLike<number>[],
  y: Float64Array,
  d: number,
  k: number,
  foldOf: Int32Array,
  folds: number,
  bias: boolean,
): Fitter {
  const n = features.length;
  const stats = Array.from({ length: folds }, () => ({
    gram: new Float64Array(d * d),
    xy: new Float64Array(d * k),
    sx: new Float64Array(d),
    sy: new Float64Array(k),
    count: 0,
  }));
  for (let p = 0; p < n; p++) {
    const s = stats[foldOf[p]!]!;
    const x = features[p]!;
    addOuterUpper(s.gram, x, d);
    for (let i = 0; i < d; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      s.sx[i]! += xi;
      for (let a = 0; a < k; a++) s.xy[i * k + a]! += xi * y[p * k + a]!;
    }
    for (let a = 0; a < k; a++) s.sy[a]! += y[p * k + a]!;
    s.count++;
  }
  const total = {
    gram: new Float64Array(d * d),
    xy: new Float64Array(d * k),
    sx: new Float64Array(d),
    sy: new Float64Array(k),
    count: n,
  };
  for (const s of stats) {
    symmetrize(s.gram, d);
    addInto(total.gram, s.gram, 1);
    addInto(total.xy, s.xy, 1);
    addInto(total.sx, s.sx, 1);
    addInto(total.sy, s.sy, 1);
  }
  // Centred training statistics per fold, computed once and reused for every λ.
  const centred = new Map<
    number,
    { gram: Float64Array; xy: Float64Array; mx: Float64Array; my: Float64Array }
  >();
  const centredFor = (fold: number) => {
    const cached = centred.get(fold);
    if (cached) return cached;
    const gram = Float64Array.from(total.gram);
    const xy = Float64Array.from(total.xy);
    const sx = Float64Array.from(total.sx);
    const sy = Float64Array.from(total.sy);
    let count = n;
    if (fold >= 0) {
      const s = stats[fold]!;
      addInto(gram, s.gram, -1);
      addInto(xy, s.xy, -1);
      addInto(sx, s.sx, -1);
      addInto(sy, s.sy, -1);
      count -= s.count;
    }
    const mx = new Float64Array(d);
    const my = new Float64Array(k);
    if (bias && count > 0) {
      for (let i = 0; i < d; i++) mx[i] = sx[i]! / count;
      for (let a = 0; a < k; a++) my[a] = sy[a]! / count;
      // Σ (x − x̄)(x − x̄)ᵀ = Σ x xᵀ − n x̄ x̄ᵀ; Σ (x − x̄)(y − ȳ)ᵀ = Σ x yᵀ − n x̄ ȳᵀ.
      for (let i = 0; i < d; i++) {
        const ci = count * mx[i]!;
        if (ci === 0) continue;
        for (let j = 0; j < d; j++) gram[i * d + j]! -= ci * mx[j]!;
        for (let a = 0; a < k; a++) xy[i * k + a]! -= ci * my[a]!;
      }
    }
    const entry = { gram, xy, mx, my };
    centred.set(fold, entry);
    return entry;
  };
  return {
    fit(lambda, _rows, fold) {
      const c = centredFor(fold);
      const a = Float64Array.from(c.gram);
      for (let i = 0; i < d; i++) a[i * d + i]! += lambda;
      const w = solveSpd(a, c.xy, d, k);
      const b = new Float64Array(k);
      if (bias) {
        for (let j = 0; j < k; j++) {
          let s = c.my[j]!;
          for (let i = 0; i < d; i++) s -= c.mx[i]! * w[i * k + j]!;
          b[j] = s;
        }
      }
      return { w, b };
    },
  };
}

/**
 * L2-logistic regression per agent by Newton's method (IRLS) on the features augmented with a constant
 * (the unpenalised bias). Warm-started from the previous fit of the same rows when there is one.
 */
function createLogisticFitter(
  features: readonly ArrayLike<number>[],
  y: Float64Array,
  d: number,
  k: number,
  bias: boolean,
  maxIterations: number,
): Fitter {
  const m = bias ? d + 1 : d;
  const warm = new Map<number, Float64Array[]>();
  return {
    fit(lambda, rows, fold) {
      const w = new Float64Array(d * k);
      const b = new Float64Array(k);
      const starts = warm.get(fold) ?? [];
      for (let a = 0; a < k; a++) {
        const beta = starts[a] ? Float64Array.from(starts[a]!) : new Float64Array(m);
        const z = new Float64Array(m);
        for (let iteration = 0; iteration < maxIterations; iteration++) {
          const hessian = new Float64Array(m * m);
          const gradient = new Float64Array(m);
          for (let i = 0; i < d; i++) {
            hessian[i * m + i] = lambda;
            gradient[i] = lambda * beta[i]!;
          }
          for (const p of rows) {
            const x = features[p]!;
            for (let i = 0; i < d; i++) z[i] = x[i]!;
            if (bias) z[d] = 1;
            let s = 0;
            for (let i = 0; i < m; i++) if (z[i] !== 0) s += z[i]! * beta[i]!;
            const mu = sigmoid(s);
            const r = mu - y[p * k + a]!;
            const weight = Math.max(mu * (1 - mu), 1e-10);
            for (let i = 0; i < m; i++) if (z[i] !== 0) gradient[i]! += r * z[i]!;
            addOuterUpper(hessian, z, m, weight);
          }
          symmetrize(hessian, m);
          if (bias) hessian[d * m + d]! += 1e-9; // keeps the bias pivot positive on constant data
          const step = choleskySolve(cholesky(hessian, m), gradient, m, 1);
          let size = 0;
          for (let i = 0; i < m; i++) {
            beta[i]! -= step[i]!;
            size = Math.max(size, Math.abs(step[i]!));
          }
          if (size < 1e-8) break;
        }
        starts[a] = beta;
        for (let i = 0; i < d; i++) w[i * k + a] = beta[i]!;
        if (bias) b[a] = beta[d]!;
      }
      warm.set(fold, starts);
      return { w, b };
    },
  };
}

function addInto(target: Float64Array, source: Float64Array, scale: number): void {
  for (let i = 0; i < target.length; i++) target[i]! += scale * source[i]!;
}

function meanLoss(predictions: Float64Array, y: Float64Array, model: 'ridge' | 'logistic'): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const p = predictions[i]!;
    const t = y[i]!;
    if (model === 'ridge') sum += (p - t) ** 2;
    else {
      const q = Math.min(1 - 1e-12, Math.max(1e-12, p));
      sum -= t * Math.log(q) + (1 - t) * Math.log(1 - q);
    }
  }
  return sum / y.length;
}

/**
 * Brier score and expected calibration error (10 equal-width bins over [0, 1], predictions clipped into
 * it) of predicted qualities against outcomes.
 */
export function calibrationOf(
  predictions: ArrayLike<number>,
  outcomes: ArrayLike<number>,
): { brier: number; ece: number } {
  const bins = 10;
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  let brier = 0;
  const n = predictions.length;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1, Math.max(0, predictions[i]!));
    const t = outcomes[i]!;
    brier += (p - t) ** 2;
    const bin = Math.min(bins - 1, Math.floor(p * bins));
    count[bin]!++;
    sumP[bin]! += p;
    sumY[bin]! += t;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]! > 0) ece += Math.abs(sumP[b]! - sumY[b]!) / n;
  return { brier: n === 0 ? 0 : brier / n, ece };
}
