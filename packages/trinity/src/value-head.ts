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
import { type FeatureVector, isSparseVector, toDense, toSparse } from './sparse.js';
import { checkTrainingTable } from './training-table.js';

/** Settings of {@link trainValueHead}. */
export interface TrainValueHeadSettings {
  /**
   * One feature vector per prompt (all the same length `d`): dense, or {@link SparseVector}s (a wide
   * backbone's `embedSparseSync`) — then ridge is solved by conjugate gradients on the non-zeros.
   */
  features: readonly FeatureVector[];
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
  /**
   * `cholesky`: the closed form in the primal (one `d × d` Gram matrix; meant for `d` up to a few thousand).
   * `cg`: conjugate gradients on the centred normal equations, reading only the features' non-zeros
   * (`O(nnz · k)` per iteration, warm-started along the λ path; ridge only) — for wide sparse features.
   * Default: `cg` when any feature vector is sparse, else `cholesky`.
   */
  solver?: 'cholesky' | 'cg';
  /**
   * Relative residual at which `cg` stops (‖r‖ ≤ tolerance · ‖b‖ per agent). Default 1e-2: on RouteLLM MMLU
   * (98,324 hashed features) the CV losses agree with a 1e-5 solve to 1e-4 at a third of the iterations.
   */
  tolerance?: number;
  /** Newton iterations per logistic fit (default 25; stops earlier when the step is below 1e-8). */
  maxIterations?: number;
  /**
   * `idf`: scale feature `i` by its inverse document frequency on these (training) prompts,
   * `1 + ln((1 + n) / (1 + df_i))` with `df_i` = prompts where feature `i` is non-zero (scikit-learn's smooth
   * IDF), before fitting — TF-IDF-style weighting of hashed n-gram buckets (dense features, non-zero on every
   * prompt, keep scale 1). The scales are folded into the head's weights, so the head reads raw backbone
   * vectors and serves unchanged. It is equivalent to a per-feature penalty `λ / scale_i²`. Label-free and fitted
   * on the training prompts only (the same scales in every CV fold). Dense or sparse features.
   * `cv`: cross-validate both — unscaled and IDF-scaled, each over the λ grid on the same folds — and keep the
   * one whose path reaches the lower held-out loss (twice the fitting time). On RouteLLM with the wide sparse
   * backbone it keeps IDF on MMLU (~10k training prompts) and the unscaled features on GSM8K (~900), the
   * choice that is better on their held-out prompts (docs/results.md). Default: none.
   */
  featureScale?: 'idf' | 'cv';
  /**
   * How cross-validation picks λ. `loss` (default): the lowest mean held-out loss (MSE for ridge, log loss
   * for logistic). `deferral`: the largest area under the out-of-fold deferral curve between the two agents
   * with the highest mean outcome (strong `s`, weak `w`) — prompts sorted by predicted `q_s − q_w`, the top
   * share sent to `s`, the rest to `w`, mean realised quality averaged over every share from 0 to 1. That is
   * RouteLLM's APGR up to an affine map, i.e. λ is chosen for the ranking the cost–quality knob uses rather
   * than for the predicted values. With one agent it is `loss`.
   */
  criterion?: 'loss' | 'deferral';
}

/** One λ of the cross-validation path. */
export interface ValueHeadCvPoint {
  lambda: number;
  /** Mean held-out loss over folds and agents (MSE for ridge, log loss for logistic). */
  loss: number;
  /** Area under the out-of-fold deferral curve (criterion `deferral` only; higher is better). */
  deferral?: number;
  /** The feature scaling of this point (`featureScale: 'cv'` only, which reports both paths). */
  featureScale?: 'none' | 'idf';
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
  /**
   * The per-feature scales of `featureScale` (already folded into the head's weights), when IDF was set or
   * chosen by `cv`.
   */
  featureScales?: Float64Array;
  /** The criterion λ was chosen by (`deferral` falls back to `loss` with one agent). */
  criterion: 'loss' | 'deferral';
  /**
   * The solver used, and for `cg` the iterations run over the whole CV path (both paths for `featureScale: 'cv'`)
   * and the final fit.
   */
  solver: 'cholesky' | 'cg';
  iterations?: number;
}

const DEFAULT_LAMBDA_SCALES = [1e-3, 1e-2, 0.1, 1, 10, 100];
/**
 * The `cg` solver's default grid (× the mean squared feature norm), half decades from 1 to 10: on wide
 * hashed features CV lands on 1 or 3 (unscaled) and 3 or 10 (IDF-scaled) on RouteLLM MMLU and GSM8K and
 * never chose 0.3 when it was in the grid; smaller λ costs many more iterations (the condition number grows as
 * λ shrinks), and every point costs a solve per fold. The path runs from the largest λ down, so dropping 0.3
 * changed no fit that had not chosen it.
 */
const CG_LAMBDA_SCALES = [1, 3, 10];

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
  const solver = settings.solver ?? (features.some(isSparseVector) ? 'cg' : 'cholesky');
  if (solver !== 'cholesky' && solver !== 'cg') {
    throw new InvalidArgumentError({
      argument: 'solver',
      message: `solver must be 'cholesky' or 'cg', got ${JSON.stringify(solver)}`,
    });
  }
  if (solver === 'cg' && model !== 'ridge') {
    throw new InvalidArgumentError({
      argument: 'solver',
      message: "the 'cg' solver (sparse features) fits ridge only",
    });
  }
  if (solver === 'cholesky' && features.some(isSparseVector)) {
    features = features.map((x) => (isSparseVector(x) ? toDense(x) : x));
  }
  const featureScale = settings.featureScale;
  if (featureScale !== undefined && featureScale !== 'idf' && featureScale !== 'cv') {
    throw new InvalidArgumentError({
      argument: 'featureScale',
      message: `featureScale must be 'idf' or 'cv', got ${JSON.stringify(featureScale)}`,
    });
  }
  const criterion = settings.criterion ?? 'loss';
  if (criterion !== 'loss' && criterion !== 'deferral') {
    throw new InvalidArgumentError({
      argument: 'criterion',
      message: `criterion must be 'loss' or 'deferral', got ${JSON.stringify(criterion)}`,
    });
  }
  const foldOf = assignFolds(n, folds, settings.random ?? createRng(settings.seed ?? 0));
  const pair = criterion === 'deferral' && k > 1 ? strongWeakPair(y, k) : undefined;

  // One cross-validated fit per candidate feature scaling (unscaled, IDF-scaled, or both for `cv`) on the
  // same folds; `cv` keeps the one whose λ path reaches the lower held-out loss (a proper score of the
  // predicted qualities; on RouteLLM the out-of-fold deferral areas of the two differ by less than their noise).
  const idf = featureScale === undefined ? undefined : idfScales(features, d);
  const candidates = featureScale === 'cv' ? [undefined, idf] : [idf];
  const runs = candidates.map((scales) =>
    crossValidate(scales === undefined ? features : scaleFeatures(features, scales), scales),
  );
  const lowestLoss = (r: (typeof runs)[number]) => Math.min(...r.cv.map((c) => c.loss));
  let chosen = runs[0]!;
  for (const r of runs) if (lowestLoss(r) < lowestLoss(chosen)) chosen = r;
  const { fitter, best, oofByLambda, featureScales } = chosen;

  function crossValidate(scaled: readonly FeatureVector[], featureScales: Float64Array | undefined) {
    let meanSquaredNorm = 0;
    for (const x of scaled) meanSquaredNorm += squaredNorm(x);
    meanSquaredNorm = meanSquaredNorm / n || 1;
    const scales = settings.lambdaScales ?? (solver === 'cg' ? CG_LAMBDA_SCALES : DEFAULT_LAMBDA_SCALES);
    const lambdas = settings.lambdas ?? scales.map((s) => s * meanSquaredNorm);
    if (lambdas.length === 0 || lambdas.some((l) => !(l > 0 && Number.isFinite(l)))) {
      throw new InvalidArgumentError({
        argument: 'lambdas',
        message: 'lambdas must be positive finite numbers',
      });
    }
    const dense = scaled as readonly ArrayLike<number>[];
    const fitter =
      solver === 'cg'
        ? createCgRidgeFitter(scaled, y, d, k, bias, settings.tolerance ?? 1e-2)
        : model === 'ridge'
          ? createRidgeFitter(dense, y, d, k, foldOf, folds, bias)
          : createLogisticFitter(dense, y, d, k, bias, settings.maxIterations ?? 25);
    // Cross-validation: held-out predictions of every λ, then the λ the criterion prefers.
    const oofByLambda = lambdas.map(() => new Float64Array(n * k));
    for (let f = 0; f < folds; f++) {
      const trainRows: number[] = [];
      const testRows: number[] = [];
      for (let p = 0; p < n; p++) (foldOf[p] === f ? testRows : trainRows).push(p);
      // Largest λ first: each conjugate-gradient solve starts from the previous (better-conditioned) one.
      for (const l of lambdaOrder(lambdas)) {
        const fit = fitter.fit(lambdas[l]!, trainRows, f);
        for (const p of testRows) predictInto(fit, scaled[p]!, d, k, model, oofByLambda[l]!, p * k);
      }
    }
    const cv: ValueHeadCvPoint[] = lambdas.map((lambda, l) => ({
      lambda,
      loss: meanLoss(oofByLambda[l]!, y, model),
      ...(pair ? { deferral: deferralArea(oofByLambda[l]!, y, k, pair) } : {}),
      ...(featureScale === 'cv'
        ? { featureScale: featureScales ? ('idf' as const) : ('none' as const) }
        : {}),
    }));
    let best = 0;
    for (let l = 1; l < cv.length; l++) {
      // Deferral: the larger area, ties (e.g. prompts ranked perfectly at several λ) to the lower loss.
      const area = pair ? cv[l]!.deferral! - cv[best]!.deferral! : 0;
      const better = area > 0 || (area === 0 && cv[l]!.loss < cv[best]!.loss);
      if (better) best = l;
    }
    return { fitter, cv, best, lambdas, oofByLambda, featureScales };
  }

  const lambda = chosen.lambdas[best]!;
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
    cv: runs.flatMap((r) => r.cv),
    oofPredictions,
    foldOf,
    calibration: calibrationOf(oofPredictions, y),
    ...(featureScales === undefined ? {} : { featureScales }),
    criterion: pair ? 'deferral' : 'loss',
    solver,
    ...(solver === 'cg' ? { iterations: runs.reduce((sum, r) => sum + (r.fitter.iterations ?? 0), 0) } : {}),
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
export function idfScales(features: readonly FeatureVector[], d: number): Float64Array {
  const df = new Float64Array(d);
  for (const x of features) {
    if (isSparseVector(x)) {
      for (let j = 0; j < x.indices.length; j++) if (x.values[j] !== 0) df[x.indices[j]!]! += 1;
    } else for (let i = 0; i < d; i++) if (x[i] !== 0) df[i] = df[i]! + 1;
  }
  const n = features.length;
  return df.map((c) => 1 + Math.log((1 + n) / (1 + c)));
}

/** `x_i · scales_i` for every feature vector (sparse stay sparse, with the same non-zero pattern). */
function scaleFeatures(features: readonly FeatureVector[], scales: Float64Array): FeatureVector[] {
  return features.map((x) =>
    isSparseVector(x)
      ? { ...x, values: Float32Array.from(x.values, (v, j) => v * scales[x.indices[j]!]!) }
      : Float64Array.from(x as ArrayLike<number>, (v, i) => v * scales[i]!),
  );
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
  /** Conjugate-gradient iterations run so far (the `cg` solver only). */
  readonly iterations?: number;
}

function predictInto(
  fit: LinearFit,
  x: FeatureVector,
  d: number,
  k: number,
  model: 'ridge' | 'logistic',
  out: Float64Array,
  offset: number,
): void {
  for (let a = 0; a < k; a++) {
    let s = fit.b[a]!;
    if (isSparseVector(x)) {
      for (let j = 0; j < x.indices.length; j++) s += x.values[j]! * fit.w[x.indices[j]! * k + a]!;
    } else {
      for (let i = 0; i < d; i++) {
        const xi = x[i]!;
        if (xi !== 0) s += xi * fit.w[i * k + a]!;
      }
    }
    out[offset + a] = model === 'logistic' ? sigmoid(s) : s;
  }
}

/** Indices of `lambdas` from the largest to the smallest. */
function lambdaOrder(lambdas: readonly number[]): number[] {
  return lambdas.map((_, l) => l).sort((a, b) => lambdas[b]! - lambdas[a]! || a - b);
}

function squaredNorm(x: FeatureVector): number {
  let sum = 0;
  if (isSparseVector(x)) for (const v of x.values) sum += v * v;
  else for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  return sum;
}

/**
 * Ridge by conjugate gradients on the non-zeros (compressed rows): for the rows of a fit, solves
 * `(X̃ᵀX̃ + λI) W = X̃ᵀỸ` for all `k` agents at once (one pass over the non-zeros per iteration serves every
 * agent; each agent keeps its own step sizes), where `X̃`, `Ỹ` are centred by the rows' means when `bias`
 * — implicitly, `X̃v = Xv − 1·(x̄ᵀv)`, so the centred matrix is never formed. Jacobi-preconditioned. Each fit
 * of a fold starts from that fold's previous solution (the CV path runs from the largest λ down); the final
 * fit from the last fold's solution at the same λ. Stops when every agent's residual is below `tolerance` ×
 * its right-hand side, or after `max(100, 10·√d)` iterations.
 */
function createCgRidgeFitter(
  features: readonly FeatureVector[],
  y: Float64Array,
  d: number,
  k: number,
  bias: boolean,
  tolerance: number,
): Fitter {
  const n = features.length;
  const sparse = features.map((x) => (isSparseVector(x) ? x : toSparse(x)));
  const rowStart = new Int32Array(n + 1);
  for (let p = 0; p < n; p++) rowStart[p + 1] = rowStart[p]! + sparse[p]!.indices.length;
  const cols = new Int32Array(rowStart[n]!);
  const vals = new Float32Array(rowStart[n]!);
  for (let p = 0; p < n; p++) {
    cols.set(sparse[p]!.indices, rowStart[p]!);
    vals.set(sparse[p]!.values, rowStart[p]!);
  }
  const maxIterations = Math.max(100, Math.ceil(10 * Math.sqrt(d)));
  const previous = new Map<number, Float64Array>();
  const atLambda = new Map<number, Float64Array>();
  let last: Float64Array | undefined;
  let iterations = 0;
  return {
    get iterations() {
      return iterations;
    },
    fit(lambda, rows, fold) {
      const m = rows.length;
      const mx = new Float64Array(d);
      const my = new Float64Array(k);
      if (bias && m > 0) {
        for (const p of rows) {
          for (let j = rowStart[p]!; j < rowStart[p + 1]!; j++) mx[cols[j]!]! += vals[j]!;
          for (let a = 0; a < k; a++) my[a]! += y[p * k + a]!;
        }
        for (let i = 0; i < d; i++) mx[i]! /= m;
        for (let a = 0; a < k; a++) my[a]! /= m;
      }
      // The fit's rows as one compressed block (typed, contiguous: the two passes below are the solver's cost;
      // values in float32, as the sparse vectors hold them, so each pass moves 8 bytes per non-zero).
      const rowAt = new Int32Array(m + 1);
      for (let r = 0; r < m; r++) rowAt[r + 1] = rowAt[r]! + rowStart[rows[r]! + 1]! - rowStart[rows[r]!]!;
      const fitCols = new Int32Array(rowAt[m]!);
      const fitVals = new Float32Array(rowAt[m]!);
      for (let r = 0; r < m; r++) {
        fitCols.set(cols.subarray(rowStart[rows[r]!]!, rowStart[rows[r]! + 1]!), rowAt[r]!);
        fitVals.set(vals.subarray(rowStart[rows[r]!]!, rowStart[rows[r]! + 1]!), rowAt[r]!);
      }
      const t = new Float64Array(m * k);
      const meanDot = new Float64Array(k);
      const tSum = new Float64Array(k);
      // out = (X̃ᵀX̃ + λI) v for the d × k block v (row-major, like the fit's weights): one gather pass and one
      // scatter pass over the non-zeros serve every agent (an agent's entries of a feature are adjacent). Two
      // agents (every RouteLLM pool) get an unrolled loop: 16.6 against 27.0 s CPU for the MMLU IDF fit.
      const apply = (v: Float64Array, out: Float64Array): void => {
        meanDot.fill(0);
        tSum.fill(0);
        if (bias)
          for (let i = 0; i < d; i++) for (let a = 0; a < k; a++) meanDot[a]! += mx[i]! * v[i * k + a]!;
        for (let r = 0; r < m; r++) {
          const end = rowAt[r + 1]!;
          if (k === 2) {
            let s0 = -meanDot[0]!;
            let s1 = -meanDot[1]!;
            for (let j = rowAt[r]!; j < end; j++) {
              const c = fitCols[j]! << 1;
              const x = fitVals[j]!;
              s0 += x * v[c]!;
              s1 += x * v[c + 1]!;
            }
            t[2 * r] = s0;
            t[2 * r + 1] = s1;
          } else {
            for (let a = 0; a < k; a++) t[r * k + a] = -meanDot[a]!;
            for (let j = rowAt[r]!; j < end; j++) {
              const c = fitCols[j]! * k;
              const x = fitVals[j]!;
              for (let a = 0; a < k; a++) t[r * k + a]! += x * v[c + a]!;
            }
          }
          for (let a = 0; a < k; a++) tSum[a]! += t[r * k + a]!;
        }
        out.fill(0);
        for (let r = 0; r < m; r++) {
          const end = rowAt[r + 1]!;
          if (k === 2) {
            const t0 = t[2 * r]!;
            const t1 = t[2 * r + 1]!;
            for (let j = rowAt[r]!; j < end; j++) {
              const c = fitCols[j]! << 1;
              const x = fitVals[j]!;
              out[c]! += x * t0;
              out[c + 1]! += x * t1;
            }
          } else {
            for (let j = rowAt[r]!; j < end; j++) {
              const c = fitCols[j]! * k;
              const x = fitVals[j]!;
              for (let a = 0; a < k; a++) out[c + a]! += x * t[r * k + a]!;
            }
          }
        }
        for (let i = 0; i < d; i++) {
          for (let a = 0; a < k; a++) {
            out[i * k + a]! += lambda * v[i * k + a]! - (bias ? mx[i]! * tSum[a]! : 0);
          }
        }
      };
      // Right-hand side X̃ᵀỸ (Σ over rows of x (y − ȳ), minus x̄ Σ (y − ȳ) = 0 when centred).
      const rhs = new Float64Array(d * k);
      for (const p of rows) {
        for (let j = rowStart[p]!; j < rowStart[p + 1]!; j++) {
          const base = cols[j]! * k;
          for (let a = 0; a < k; a++) rhs[base + a]! += vals[j]! * (y[p * k + a]! - my[a]!);
        }
      }
      // Jacobi preconditioner: the diagonal of X̃ᵀX̃ + λI (hashed n-gram buckets differ in frequency by orders
      // of magnitude, which is most of the system's ill-conditioning).
      const diagonal = new Float64Array(d).fill(lambda);
      for (const p of rows)
        for (let j = rowStart[p]!; j < rowStart[p + 1]!; j++) diagonal[cols[j]!]! += vals[j]! ** 2;
      if (bias) for (let i = 0; i < d; i++) diagonal[i]! -= m * mx[i]! ** 2;
      const precondition = (r: Float64Array, z: Float64Array): void => {
        for (let i = 0; i < d; i++) {
          const inv = 1 / Math.max(diagonal[i]!, lambda);
          for (let a = 0; a < k; a++) z[i * k + a] = r[i * k + a]! * inv;
        }
      };
      const start = previous.get(fold) ?? atLambda.get(lambda) ?? last;
      const w = start ? Float64Array.from(start) : new Float64Array(d * k);
      const residual = new Float64Array(d * k);
      apply(w, residual);
      for (let i = 0; i < d * k; i++) residual[i] = rhs[i]! - residual[i]!;
      const z = new Float64Array(d * k);
      precondition(residual, z);
      const direction = Float64Array.from(z);
      const product = new Float64Array(d * k);
      let rz = columnDots(residual, z, d, k);
      const limit = columnDots(rhs, rhs, d, k).map((b) => tolerance * tolerance * b);
      let rr = columnDots(residual, residual, d, k);
      for (let iteration = 0; iteration < maxIterations; iteration++) {
        if (rr.every((r, a) => r <= limit[a]!)) break;
        iterations++;
        apply(direction, product);
        const curvature = columnDots(direction, product, d, k);
        const alpha = rz.map((r, a) => (curvature[a]! > 0 && rr[a]! > limit[a]! ? r / curvature[a]! : 0));
        for (let i = 0; i < d; i++) {
          for (let a = 0; a < k; a++) {
            w[i * k + a]! += alpha[a]! * direction[i * k + a]!;
            residual[i * k + a]! -= alpha[a]! * product[i * k + a]!;
          }
        }
        rr = columnDots(residual, residual, d, k);
        precondition(residual, z);
        const next = columnDots(residual, z, d, k);
        for (let i = 0; i < d; i++) {
          for (let a = 0; a < k; a++) {
            const beta = rz[a]! > 0 ? next[a]! / rz[a]! : 0;
            direction[i * k + a] = z[i * k + a]! + beta * direction[i * k + a]!;
          }
        }
        rz = next;
      }
      previous.set(fold, w);
      atLambda.set(lambda, w);
      last = w;
      const b = new Float64Array(k);
      if (bias) {
        for (let a = 0; a < k; a++) {
          let s = my[a]!;
          for (let i = 0; i < d; i++) s -= mx[i]! * w[i * k + a]!;
          b[a] = s;
        }
      }
      return { w, b };
    },
  };
}

/** Per column `a` of two d × k row-major blocks: Σ_i u[i, a] · v[i, a]. */
function columnDots(u: Float64Array, v: Float64Array, d: number, k: number): Float64Array {
  const out = new Float64Array(k);
  for (let i = 0; i < d; i++) for (let a = 0; a < k; a++) out[a]! += u[i * k + a]! * v[i * k + a]!;
  return out;
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

/** The agents with the highest and second-highest mean outcome (ties: the lower index). */
function strongWeakPair(y: Float64Array, k: number): { strong: number; weak: number } {
  const means = new Float64Array(k);
  for (let i = 0; i < y.length; i++) means[i % k]! += y[i]!;
  let strong = 0;
  for (let a = 1; a < k; a++) if (means[a]! > means[strong]!) strong = a;
  let weak = strong === 0 ? 1 : 0;
  for (let a = 0; a < k; a++) if (a !== strong && means[a]! > means[weak]!) weak = a;
  return { strong, weak };
}

/**
 * Area under the deferral curve of `predictions` (prompts × k): prompts sorted by predicted
 * `strong − weak` (descending), the top `m` answered by `strong` and the rest by `weak`, mean quality
 * averaged over m = 0 … n (the trapezoid over shares 0, 1/n, …, 1).
 */
export function deferralArea(
  predictions: ArrayLike<number>,
  y: ArrayLike<number>,
  k: number,
  pair: { strong: number; weak: number },
): number {
  const n = y.length / k;
  const { strong, weak } = pair;
  const order = Array.from({ length: n }, (_, p) => p);
  const margin = Float64Array.from(order, (p) => predictions[p * k + strong]! - predictions[p * k + weak]!);
  order.sort((a, b) => margin[b]! - margin[a]! || a - b);
  let quality = 0;
  for (let p = 0; p < n; p++) quality += y[p * k + weak]!;
  let area = quality / 2; // trapezoid: half weight at both ends
  for (let m = 0; m < n; m++) {
    const p = order[m]!;
    quality += y[p * k + strong]! - y[p * k + weak]!;
    area += m === n - 1 ? quality / 2 : quality;
  }
  return area / (n * n);
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
