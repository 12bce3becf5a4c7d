/**
 * CMA-ES with an ask/tell interface, in two flavours sharing one implementation:
 *
 * - `full`: Hansen, "The CMA Evolution Strategy: A Tutorial" (arXiv:1604.00772, 2016), with
 *   rank-one + rank-μ update and negative ("active") recombination weights, Table 1 defaults.
 *   Equation numbers below refer to that tutorial.
 * - `sep`: Ros & Hansen, "A Simple Modification in CMA-ES Achieving Linear Time and Space
 *   Complexity" (PPSN 2008): diagonal C, learning rate c_cov multiplied by (n+2)/3, positive
 *   weights only, c_σ = (μ_eff+2)/(n+μ_eff+3), c_c = 4/(n+4).
 *
 * Notation follows the papers (m, sigma, C, p_c, p_sigma, mu_eff); the public API speaks of
 * `stepSize` and `populationSize`. Every array of length n or n² is a Float64Array allocated once;
 * ask/tell allocate only the returned candidate arrays.
 */

import { InvalidArgumentError } from '@openfugu/schema';
import { decodeFloat64, encodeFloat64 } from './codec.js';
import { createEigenWorkspace, type EigenWorkspace, symmetricEigen } from './eigen.js';
import { createRng, type Rng, type RngState } from './random.js';

/** Which covariance model: `sep` (diagonal, O(n) per sample) or `full` (O(n²) per sample). */
export type CmaesKind = 'sep' | 'full';

/**
 * Why an optimiser stopped. The first group are successes or budget limits, the rest are the
 * standard CMA-ES stopping rules (Hansen's tutorial, appendix B.3; pycma's names where they exist):
 *
 * - `maxEvaluations`: the evaluation budget is spent.
 * - `targetFitness`: the best fitness reached `targetFitness`.
 * - `tolFun`: best and worst fitness of the last 10 + ⌈30n/λ⌉ generations lie within `tolFun`.
 * - `tolX`: σ·√C_ii and σ·|p_c,i| are below `tolX` in every coordinate.
 * - `tolUpX`: σ·√λ_max(C) grew beyond `tolUpX` (divergence, e.g. an unbounded objective).
 * - `conditionCov`: the condition number of C exceeds `tolConditionCov`.
 * - `noEffectAxis` / `noEffectCoord`: adding 0.1σ along a principal axis / 0.2σ√C_ii along a
 *   coordinate leaves the mean unchanged in floating point.
 * - `stagnation`: over the last `stagnation` generations the median of the newest 20% of the
 *   per-generation best and median fitness is no better than that of the oldest 20%.
 * - `nonFiniteFitness`: 10 generations in a row returned no finite fitness at all.
 * - `aborted`: only from `minimize`, when its signal fired.
 */
export type TerminationReason =
  | 'maxEvaluations'
  | 'targetFitness'
  | 'tolFun'
  | 'tolX'
  | 'tolUpX'
  | 'conditionCov'
  | 'noEffectAxis'
  | 'noEffectCoord'
  | 'stagnation'
  | 'nonFiniteFitness'
  | 'aborted';

/** Box constraints; a number applies to every coordinate. Use ±Infinity for an open side. */
export interface Bounds {
  lower: number | ArrayLike<number>;
  upper: number | ArrayLike<number>;
}

/** Settings of {@link createSepCmaes} and {@link createCmaes}. */
export interface CmaesSettings {
  /** Search-space dimension n ≥ 1. */
  dimension: number;
  /** Initial mean m₀; a number fills every coordinate. Default: 0, or the box centre with bounds. */
  x0?: number | ArrayLike<number>;
  /** Initial step size σ₀ > 0 (about a quarter of the search range is a good start). */
  sigma0: number;
  /** λ; default 4 + ⌊3 ln n⌋. μ = ⌊λ/2⌋ parents with logarithmic weights. */
  populationSize?: number;
  /** Seed of the xoshiro128** stream that drives all sampling. */
  seed: number;
  /**
   * Box constraints. `ask()` returns candidates clipped into the box; the update uses the unclipped
   * samples, ranked by fitness plus a penalty (see README "Bounds").
   */
  bounds?: Bounds;
  /** Stop once this many fitness values have been told. Default: unlimited. */
  maxEvaluations?: number;
  /** Stop once a finite fitness ≤ this value has been told. Default: none. */
  targetFitness?: number;
  /** Fitness-range tolerance. Default 1e-12. */
  tolFun?: number;
  /** Step tolerance in x. Default 1e-12·σ₀. */
  tolX?: number;
  /** Divergence limit on σ·√λ_max(C). Default 1e8·σ₀. */
  tolUpX?: number;
  /** Limit on the condition number of C. Default 1e14. */
  tolConditionCov?: number;
  /** Stagnation window in generations, or `false` to disable. Default 120 + ⌈30n/λ⌉. */
  stagnation?: number | false;
  /**
   * full only: generations between eigendecompositions of C. Default (Hansen's rule)
   * max(1, ⌊1/(10 n (c₁ + c_μ))⌋): every generation below n = 200, every 2nd from n = 200 (default λ).
   */
  eigenUpdateGap?: number;
}

/** The best solution told so far. `fitness` is +Infinity until a finite fitness has been told. */
export interface BestSolution {
  x: Float64Array;
  fitness: number;
}

/** A JSON-serialisable snapshot; {@link fromState} continues bit-for-bit. Arrays are base64 float64. */
export interface CmaesState {
  format: 'openfugu.cmaes/1';
  kind: CmaesKind;
  dimension: number;
  populationSize: number;
  seed: number;
  sigma0: number;
  sigma: number;
  generation: number;
  evaluations: number;
  nonFiniteEvaluations: number;
  nonFiniteStreak: number;
  scaleRepairs: number;
  rng: RngState;
  mean: string;
  covariance: string;
  pathC: string;
  pathSigma: string;
  /** full only: eigenvectors (rows) and √eigenvalues in use, and the generation they were computed. */
  eigen: { vectors: string; sqrtValues: string; generation: number } | null;
  best: { x: string; fitness: string };
  history: { funRange: string; stagnation: string };
  termination: TerminationReason | null;
  settings: {
    bounds: { lower: string; upper: string } | null;
    maxEvaluations: number | null;
    targetFitness: number | null;
    tolFun: number;
    tolX: number;
    tolUpX: number;
    tolConditionCov: number;
    stagnation: number | false;
    eigenUpdateGap: number;
  };
}

/** The ask/tell optimiser returned by {@link createSepCmaes} and {@link createCmaes}. */
export interface Cmaes {
  readonly kind: CmaesKind;
  readonly dimension: number;
  /** λ. */
  readonly populationSize: number;
  /** Completed tell() calls. */
  readonly generation: number;
  /** Fitness values told so far (λ per generation). */
  readonly evaluations: number;
  /** How many told fitness values were NaN or ±Infinity (each ranked worst). */
  readonly nonFiniteEvaluations: number;
  /** How often the σ/C scale drift was repaired (see README "Drift guard"); the distribution is unchanged. */
  readonly scaleRepairs: number;
  /** A copy of the best solution told so far (fitness +Infinity before any finite value). */
  readonly best: BestSolution;
  /** A copy of the current mean m. */
  readonly mean: Float64Array;
  /** The current step size σ. */
  readonly stepSize: number;
  /** Samples λ candidates (clipped into the bounds if any). Calling it again resamples. */
  ask(): Float64Array[];
  /**
   * Updates the distribution. `candidates` are normally the arrays from the last `ask()` (or equal
   * copies); any other array is taken as an injected solution (Hansen 2016, App. B: its step is
   * clipped to Mahalanobis length √n + 2n/(n+2)). Minimisation; NaN/±Infinity rank worst.
   */
  tell(candidates: ReadonlyArray<ArrayLike<number>>, fitnesses: ArrayLike<number>): void;
  /** The termination reason once a stopping rule fired, else null. */
  stop(): TerminationReason | null;
  /**
   * Loads a snapshot into this optimiser in place (any kind/dimension/λ: everything is replaced)
   * and returns it; the same as the exported {@link fromState} but keeping the object identity.
   */
  fromState(state: CmaesState): Cmaes;
  /** JSON-serialisable snapshot between generations (a pending ask is discarded: it is re-sampled identically). */
  state(): CmaesState;
}

const FORMAT = 'openfugu.cmaes/1';
const NON_FINITE_STREAK_LIMIT = 10;

function invalid(argument: string, message: string): never {
  throw new InvalidArgumentError({ argument, message });
}

function expand(value: number | ArrayLike<number>, n: number, name: string): Float64Array {
  if (typeof value === 'number') return new Float64Array(n).fill(value);
  if (value.length !== n) invalid(name, `${name} has length ${value.length}, expected ${n}`);
  return Float64Array.from(value);
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) invalid(name, `${name} must be > 0, got ${value}`);
  return value;
}

interface Parameters {
  mu: number;
  weights: Float64Array;
  muEff: number;
  c1: number;
  cmu: number;
  cc: number;
  cSigma: number;
  dSigma: number;
  chiN: number;
  sumWeights: number;
  eigenGap: number;
}

function strategyParameters(kind: CmaesKind, n: number, lambda: number): Parameters {
  const mu = Math.floor(lambda / 2);
  const prime = new Float64Array(lambda);
  for (let i = 0; i < lambda; i++) prime[i] = Math.log((lambda + 1) / 2) - Math.log(i + 1);
  let sumPos = 0;
  let sumPosSq = 0;
  let sumNeg = 0;
  let sumNegSq = 0;
  for (let i = 0; i < lambda; i++) {
    const w = prime[i]!;
    if (i < mu) {
      sumPos += w;
      sumPosSq += w * w;
    } else if (w < 0) {
      sumNeg += -w;
      sumNegSq += w * w;
    }
  }
  const muEff = (sumPos * sumPos) / sumPosSq;
  const muEffMinus = sumNegSq > 0 ? (sumNeg * sumNeg) / sumNegSq : 0;
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  const weights = new Float64Array(lambda);
  for (let i = 0; i < mu; i++) weights[i] = prime[i]! / sumPos;

  if (kind === 'sep') {
    // Ros & Hansen 2008: c_cov of the 2006 CMA-ES with μ_cov = μ_eff, times (n+2)/3.
    const muCov = muEff;
    const cCov =
      (1 / muCov) * (2 / (n + Math.SQRT2) ** 2) +
      (1 - 1 / muCov) * Math.min(1, (2 * muEff - 1) / ((n + 2) ** 2 + muEff));
    const cCovSep = Math.min(1, ((n + 2) / 3) * cCov);
    const cSigma = (muEff + 2) / (n + muEff + 3);
    return {
      mu,
      weights,
      muEff,
      c1: cCovSep / muCov,
      cmu: cCovSep * (1 - 1 / muCov),
      cc: 4 / (n + 4),
      cSigma,
      dSigma: 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (n + 1)) - 1) + cSigma,
      chiN,
      sumWeights: 1,
      eigenGap: 1,
    };
  }

  // Tutorial 2016, Table 1 (eqs. 49–58), α_cov = 2.
  const c1 = 2 / ((n + 1.3) ** 2 + muEff);
  const cmu = Math.min(1 - c1, (2 * (0.25 + muEff + 1 / muEff - 2)) / ((n + 2) ** 2 + muEff));
  const alphaMu = 1 + c1 / cmu;
  const alphaMuEff = 1 + (2 * muEffMinus) / (muEff + 2);
  const alphaPosDef = (1 - c1 - cmu) / (n * cmu);
  const negativeScale = sumNeg > 0 ? Math.min(alphaMu, alphaMuEff, alphaPosDef) / sumNeg : 0;
  let sumWeights = 1;
  for (let i = mu; i < lambda; i++) {
    weights[i] = prime[i]! * negativeScale;
    sumWeights += weights[i]!;
  }
  const cSigma = (muEff + 2) / (n + muEff + 5);
  return {
    mu,
    weights,
    muEff,
    c1,
    cmu,
    cc: (4 + muEff / n) / (n + 4 + (2 * muEff) / n),
    cSigma,
    dSigma: 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (n + 1)) - 1) + cSigma,
    chiN,
    sumWeights,
    // Hansen's lazy eigendecomposition: every 1/(10 n (c1+cμ)) generations (at least every one).
    eigenGap: Math.max(1, Math.floor(1 / (10 * n * (c1 + cmu)))),
  };
}

function median(values: Float64Array, from: number, to: number): number {
  const slice = Array.from(values.subarray(from, to)).sort((a, b) => a - b);
  const mid = slice.length >> 1;
  return slice.length % 2 === 1 ? slice[mid]! : (slice[mid - 1]! + slice[mid]!) / 2;
}

class CmaesImpl implements Cmaes {
  readonly kind: CmaesKind;
  readonly dimension: number;
  readonly populationSize: number;
  private readonly seed: number;
  private readonly p: Parameters;
  private readonly rng: Rng;
  private readonly sigma0: number;
  private sigma: number;
  private gen = 0;
  private evals = 0;
  private nonFinite = 0;
  private nonFiniteStreak = 0;
  private scaleRepairCount = 0;
  private termination: TerminationReason | null = null;

  private readonly m: Float64Array;
  /** sep: diagonal (n); full: row-major n×n. */
  private readonly C: Float64Array;
  private readonly pc: Float64Array;
  private readonly ps: Float64Array;
  /** sep: √C_ii; full: √eigenvalues of C at the last decomposition. */
  private readonly D: Float64Array;
  /** full: eigenvectors of C as rows. */
  private readonly B: Float64Array;
  private eigenGeneration = 0;
  private readonly eigenWorkspace: EigenWorkspace | null;
  private readonly eigenInput: Float64Array | null;

  private readonly bestX: Float64Array;
  private bestFitness = Number.POSITIVE_INFINITY;

  // Settings.
  private readonly lower: Float64Array | null;
  private readonly upper: Float64Array | null;
  private readonly maxEvaluations: number | null;
  private readonly targetFitness: number | null;
  private readonly tolFun: number;
  private readonly tolX: number;
  private readonly tolUpX: number;
  private readonly tolConditionCov: number;
  private readonly stagnationWindow: number | false;

  // History ring buffers: [best, worst] per generation for tolFun; [best, median] for stagnation.
  private readonly funRange: Float64Array;
  private readonly stagnationHistory: Float64Array;

  // Per-generation scratch (allocated once).
  private readonly Y: Float64Array; // λ×n raw steps y = (x − m)/σ of the last ask
  private readonly zNormSq: Float64Array; // ‖z_k‖² = ‖C^{-1/2} y_k‖² (full, for negative weights)
  private readonly penaltyDistance: Float64Array; // bounds: mean squared clip distance in σ√C_ii units
  private injected: Float64Array | null = null;
  private readonly yw: Float64Array;
  private readonly rankMu: Float64Array;
  private readonly work: Float64Array;
  private readonly work2: Float64Array;
  private asked: Float64Array[] | null = null;
  private rngBeforeAsk: RngState;

  constructor(kind: CmaesKind, settings: CmaesSettings, restored?: CmaesState) {
    const n = settings.dimension;
    if (!Number.isInteger(n) || n < 1) invalid('dimension', `dimension must be an integer ≥ 1, got ${n}`);
    if (!(settings.sigma0 > 0) || !Number.isFinite(settings.sigma0)) {
      invalid('sigma0', `sigma0 must be a finite number > 0, got ${settings.sigma0}`);
    }
    const lambda = settings.populationSize ?? 4 + Math.floor(3 * Math.log(n));
    if (!Number.isInteger(lambda) || lambda < 2) {
      invalid('populationSize', `populationSize must be an integer ≥ 2, got ${lambda}`);
    }
    if (!Number.isSafeInteger(settings.seed))
      invalid('seed', `seed must be a safe integer, got ${settings.seed}`);
    this.kind = kind;
    this.dimension = n;
    this.populationSize = lambda;
    this.seed = settings.seed;
    this.p = strategyParameters(kind, n, lambda);
    if (settings.eigenUpdateGap !== undefined) {
      if (!(Number.isInteger(settings.eigenUpdateGap) && settings.eigenUpdateGap >= 1)) {
        invalid('eigenUpdateGap', 'eigenUpdateGap must be an integer ≥ 1');
      }
      this.p.eigenGap = settings.eigenUpdateGap;
    }
    this.rng = createRng(settings.seed);
    this.rngBeforeAsk = this.rng.getState();
    this.sigma0 = settings.sigma0;
    this.sigma = settings.sigma0;

    if (settings.bounds) {
      this.lower = expand(settings.bounds.lower, n, 'bounds.lower');
      this.upper = expand(settings.bounds.upper, n, 'bounds.upper');
      for (let i = 0; i < n; i++) {
        if (!(this.lower[i]! < this.upper[i]!)) {
          invalid('bounds', `bounds.lower[${i}] must be < bounds.upper[${i}]`);
        }
      }
    } else {
      this.lower = null;
      this.upper = null;
    }
    if (settings.x0 !== undefined) this.m = expand(settings.x0, n, 'x0');
    else if (this.lower && this.upper) {
      this.m = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const lo = this.lower[i]!;
        const hi = this.upper[i]!;
        this.m[i] =
          Number.isFinite(lo) && Number.isFinite(hi) ? (lo + hi) / 2 : Number.isFinite(lo) ? lo : hi;
        if (!Number.isFinite(this.m[i]!)) this.m[i] = 0;
      }
    } else this.m = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(this.m[i]!)) invalid('x0', `x0[${i}] is not finite`);
      if (this.lower && this.upper)
        this.m[i] = Math.min(this.upper[i]!, Math.max(this.lower[i]!, this.m[i]!));
    }

    this.maxEvaluations = settings.maxEvaluations ?? null;
    if (this.maxEvaluations !== null && !(this.maxEvaluations > 0)) {
      invalid('maxEvaluations', 'maxEvaluations must be > 0');
    }
    this.targetFitness = settings.targetFitness ?? null;
    this.tolFun = positive(settings.tolFun, 'tolFun', 1e-12);
    this.tolX = positive(settings.tolX, 'tolX', 1e-12 * settings.sigma0);
    this.tolUpX = positive(settings.tolUpX, 'tolUpX', 1e8 * settings.sigma0);
    this.tolConditionCov = positive(settings.tolConditionCov, 'tolConditionCov', 1e14);
    const stagnation = settings.stagnation ?? 120 + Math.ceil((30 * n) / lambda);
    if (stagnation !== false && !(Number.isInteger(stagnation) && stagnation >= 10)) {
      invalid('stagnation', 'stagnation must be an integer ≥ 10 or false');
    }
    this.stagnationWindow = stagnation;

    const full = kind === 'full';
    this.C = new Float64Array(full ? n * n : n);
    this.D = new Float64Array(n).fill(1);
    this.B = new Float64Array(full ? n * n : 0);
    if (full) {
      for (let i = 0; i < n; i++) {
        this.C[i * n + i] = 1;
        this.B[i * n + i] = 1;
      }
    } else this.C.fill(1);
    this.eigenWorkspace = full ? createEigenWorkspace(n) : null;
    this.eigenInput = full ? new Float64Array(n * n) : null;
    this.pc = new Float64Array(n);
    this.ps = new Float64Array(n);
    this.bestX = Float64Array.from(this.m);
    this.funRange = new Float64Array(2 * (10 + Math.ceil((30 * n) / lambda)));
    this.stagnationHistory = new Float64Array(2 * (stagnation === false ? 1 : stagnation));

    this.Y = new Float64Array(lambda * n);
    this.zNormSq = new Float64Array(lambda);
    this.penaltyDistance = new Float64Array(lambda);
    this.yw = new Float64Array(n);
    this.rankMu = new Float64Array(full ? 0 : n);
    this.work = new Float64Array(n);
    this.work2 = new Float64Array(n);

    if (restored) this.restore(restored);
  }

  get generation(): number {
    return this.gen;
  }
  get evaluations(): number {
    return this.evals;
  }
  get nonFiniteEvaluations(): number {
    return this.nonFinite;
  }
  get scaleRepairs(): number {
    return this.scaleRepairCount;
  }
  get best(): BestSolution {
    return { x: Float64Array.from(this.bestX), fitness: this.bestFitness };
  }
  get mean(): Float64Array {
    return Float64Array.from(this.m);
  }
  get stepSize(): number {
    return this.sigma;
  }

  stop(): TerminationReason | null {
    return this.termination;
  }

  ask(): Float64Array[] {
    const n = this.dimension;
    const lambda = this.populationSize;
    const { m, D, B, Y, sigma, lower, upper } = this;
    const full = this.kind === 'full';
    if (full && this.gen - this.eigenGeneration >= this.p.eigenGap) this.updateEigen();
    this.rngBeforeAsk = this.rng.getState();
    const z = this.work;
    const candidates: Float64Array[] = new Array(lambda);
    for (let k = 0; k < lambda; k++) {
      const y = Y.subarray(k * n, (k + 1) * n);
      const x = new Float64Array(n);
      if (full) {
        this.rng.fillGaussian(z);
        let zz = 0;
        y.fill(0);
        for (let j = 0; j < n; j++) {
          const zj = z[j]!;
          zz += zj * zj;
          const t = D[j]! * zj;
          const row = j * n;
          for (let i = 0; i < n; i++) y[i] = y[i]! + t * B[row + i]!;
        }
        this.zNormSq[k] = zz;
        for (let i = 0; i < n; i++) x[i] = m[i]! + sigma * y[i]!;
      } else {
        // z is drawn straight into the Y row and scaled in place: one pass over memory.
        this.rng.fillGaussian(y);
        for (let i = 0; i < n; i++) {
          const yi = D[i]! * y[i]!;
          y[i] = yi;
          x[i] = m[i]! + sigma * yi;
        }
      }
      if (lower && upper) this.penaltyDistance[k] = this.clip(x, x);
      candidates[k] = x;
    }
    this.asked = candidates;
    return candidates;
  }

  /** Clips `x` into the box, writing to `out`; returns the mean squared clip distance in σ√C_ii units. */
  private clip(x: ArrayLike<number>, out: Float64Array): number {
    const lower = this.lower!;
    const upper = this.upper!;
    const n = this.dimension;
    let distance = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      const clipped = Math.min(Math.max(v, lower[i]!), upper[i]!);
      if (clipped !== v) {
        const cii = this.kind === 'full' ? this.C[i * n + i]! : this.C[i]!;
        const scaled = (v - clipped) / (this.sigma * Math.sqrt(cii));
        distance += scaled * scaled;
      }
      out[i] = clipped;
    }
    return distance / n;
  }

  private updateEigen(): void {
    const n = this.dimension;
    const { C, D, B } = this;
    // Normalise by the largest diagonal entry so the solver never sees extreme magnitudes.
    let scale = 0;
    for (let i = 0; i < n; i++) scale = Math.max(scale, C[i * n + i]!);
    if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
    const copy = this.eigenInput!;
    for (let i = 0; i < n * n; i++) copy[i] = C[i]! / scale;
    symmetricEigen(copy, n, D, B, this.eigenWorkspace!);
    let maxValue = 0;
    for (let i = 0; i < n; i++) maxValue = Math.max(maxValue, D[i]!);
    const floor = maxValue * 1e-300 > 0 ? maxValue * 1e-300 : Number.MIN_VALUE;
    for (let i = 0; i < n; i++) D[i] = Math.sqrt(Math.max(D[i]!, floor) * scale);
    this.eigenGeneration = this.gen;
  }

  tell(candidates: ReadonlyArray<ArrayLike<number>>, fitnesses: ArrayLike<number>): void {
    const n = this.dimension;
    const lambda = this.populationSize;
    const p = this.p;
    if (candidates.length !== lambda) {
      invalid('candidates', `tell() needs ${lambda} candidates, got ${candidates.length}`);
    }
    if (fitnesses.length !== lambda)
      invalid('fitnesses', `tell() needs ${lambda} fitnesses, got ${fitnesses.length}`);
    for (let k = 0; k < lambda; k++) {
      if (candidates[k]!.length !== n) {
        invalid(`candidates[${k}]`, `candidate ${k} has length ${candidates[k]!.length}, expected ${n}`);
      }
    }
    const full = this.kind === 'full';

    // Locate each candidate's step y: the stored sample when it is one we asked, else injected.
    const rows = new Int32Array(lambda);
    const asked = this.asked;
    for (let k = 0; k < lambda; k++) {
      const x = candidates[k]!;
      let row = -1;
      if (asked) {
        if (x === asked[k] || sameValues(x, asked[k]!)) row = k;
        else {
          const j = asked.indexOf(x as Float64Array);
          if (j >= 0) row = j;
        }
      }
      if (row < 0) {
        row = lambda + k;
        this.injectStep(k, x);
      }
      rows[k] = row;
    }
    const stepRow = (row: number): Float64Array =>
      row < lambda
        ? this.Y.subarray(row * n, row * n + n)
        : this.injected!.subarray((row - lambda) * n, (row - lambda + 1) * n);

    // Fitness bookkeeping: best, non-finite count, penalised ranking values.
    const values = new Float64Array(lambda);
    let finiteCount = 0;
    let fMin = Number.POSITIVE_INFINITY;
    let fMax = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < lambda; k++) {
      const f = Number(fitnesses[k]);
      values[k] = f;
      if (!Number.isFinite(f)) {
        this.nonFinite++;
        continue;
      }
      finiteCount++;
      if (f < fMin) fMin = f;
      if (f > fMax) fMax = f;
      if (f < this.bestFitness) {
        this.bestFitness = f;
        const x = candidates[k]!;
        for (let i = 0; i < n; i++) this.bestX[i] = x[i]!;
      }
    }
    this.evals += lambda;
    this.gen++;
    this.asked = null;

    if (finiteCount === 0) {
      this.nonFiniteStreak++;
      this.checkTermination(Number.NaN, Number.NaN, Number.NaN);
      return;
    }
    this.nonFiniteStreak = 0;

    if (this.lower && this.upper) {
      const sortedFinite = Array.from(values).filter(Number.isFinite);
      const range = fMax - fMin;
      const mid = median(Float64Array.from(sortedFinite), 0, sortedFinite.length);
      const scale = range > 0 ? range : Math.abs(mid) > 0 ? Math.abs(mid) : 1;
      for (let k = 0; k < lambda; k++) {
        const row = rows[k]!;
        const distance = row < lambda ? this.penaltyDistance[row]! : this.clip(candidates[k]!, this.work2);
        if (distance > 0 && Number.isFinite(values[k]!))
          values[k] = values[k]! + Math.min(scale, Number.MAX_VALUE) * distance;
      }
    }

    const order = Array.from({ length: lambda }, (_, k) => k);
    order.sort((a, b) => {
      const fa = values[a]!;
      const fb = values[b]!;
      const finiteA = Number.isFinite(fa);
      const finiteB = Number.isFinite(fb);
      if (finiteA && finiteB) return fa - fb || a - b;
      if (finiteA) return -1;
      if (finiteB) return 1;
      return a - b;
    });

    const { m, C, pc, ps, D, yw } = this;
    const weights = p.weights;

    // Recombination (eq. 41): ⟨y⟩_w = Σ_{i≤μ} w_i y_{i:λ}; m ← m + σ⟨y⟩_w (c_m = 1).
    // sep: the rank-μ sum Σ w_i y_i² is accumulated in the same pass over the selected rows.
    yw.fill(0);
    const rankMu = this.rankMu;
    if (!full) rankMu.fill(0);
    for (let i = 0; i < p.mu; i++) {
      const w = weights[i]!;
      const y = stepRow(rows[order[i]!]!);
      if (full) for (let j = 0; j < n; j++) yw[j] = yw[j]! + w * y[j]!;
      else {
        for (let j = 0; j < n; j++) {
          const v = y[j]!;
          const wv = w * v;
          yw[j] = yw[j]! + wv;
          rankMu[j] = rankMu[j]! + wv * v;
        }
      }
    }
    const sigma = this.sigma;
    for (let j = 0; j < n; j++) m[j] = m[j]! + sigma * yw[j]!;

    // Step-size path (eq. 43): p_σ ← (1−c_σ)p_σ + √(c_σ(2−c_σ)μ_eff)·C^{-1/2}⟨y⟩_w.
    const invSqrtCyw = this.work;
    if (full) this.multiplyInvSqrtC(yw, invSqrtCyw);
    else for (let j = 0; j < n; j++) invSqrtCyw[j] = yw[j]! / D[j]!;
    const cs = p.cSigma;
    const csFactor = Math.sqrt(cs * (2 - cs) * p.muEff);
    let psNormSq = 0;
    for (let j = 0; j < n; j++) {
      const v = (1 - cs) * ps[j]! + csFactor * invSqrtCyw[j]!;
      ps[j] = v;
      psNormSq += v * v;
    }
    const psNorm = Math.sqrt(psNormSq);

    // h_σ stalls the p_c update when ‖p_σ‖ is large (p. 28).
    const hSigma =
      psNorm / Math.sqrt(1 - (1 - cs) ** (2 * (this.gen + 1))) < (1.4 + 2 / (n + 1)) * p.chiN ? 1 : 0;
    const cc = p.cc;
    const ccFactor = hSigma * Math.sqrt(cc * (2 - cc) * p.muEff);
    for (let j = 0; j < n; j++) pc[j] = (1 - cc) * pc[j]! + ccFactor * yw[j]!;
    const deltaH = (1 - hSigma) * cc * (2 - cc);

    // Covariance (eq. 47): C ← (1 + c1 δ(h_σ) − c1 − cμ Σw) C + c1 p_c p_cᵀ + cμ Σ w°_i y_i y_iᵀ.
    const decay = 1 + p.c1 * deltaH - p.c1 - p.cmu * p.sumWeights;
    const c1 = p.c1;
    const cmu = p.cmu;
    if (!full) {
      for (let j = 0; j < n; j++) {
        const pcj = pc[j]!;
        const cj = decay * C[j]! + c1 * pcj * pcj + cmu * rankMu[j]!;
        C[j] = cj;
        D[j] = Math.sqrt(cj);
      }
    } else {
      for (let r = 0; r < n; r++) {
        const base = r * n;
        const pcr = c1 * pc[r]!;
        for (let s = r; s < n; s++) C[base + s] = decay * C[base + s]! + pcr * pc[s]!;
      }
      for (let i = 0; i < lambda; i++) {
        let w = weights[i]!;
        if (w === 0) continue;
        const row = rows[order[i]!]!;
        const y = stepRow(row);
        if (w < 0) {
          // eq. 46: negative weights are rescaled by n/‖C^{-1/2} y‖² so that C stays positive definite.
          let normSq: number;
          if (row < lambda) normSq = this.zNormSq[row]!;
          else {
            this.multiplyInvSqrtC(y, this.work2);
            normSq = 0;
            for (let j = 0; j < n; j++) normSq += this.work2[j]! ** 2;
          }
          w *= n / (normSq + 1e-300);
        }
        const coefficient = cmu * w;
        for (let r = 0; r < n; r++) {
          const yr = coefficient * y[r]!;
          if (yr === 0) continue;
          const base = r * n;
          for (let s = r; s < n; s++) C[base + s] = C[base + s]! + yr * y[s]!;
        }
      }
      for (let r = 0; r < n; r++) for (let s = r + 1; s < n; s++) C[s * n + r] = C[r * n + s]!;
    }

    // Step size (eq. 44), after the paths as in the tutorial.
    this.sigma = sigma * Math.exp((cs / p.dSigma) * (psNorm / p.chiN - 1));
    this.repairScale();

    // Histories for tolFun and stagnation (worst/median over finite values).
    let fMedian = fMin;
    if (this.stagnationWindow !== false) {
      const finite = Float64Array.from(
        Array.from(fitnesses as ArrayLike<number>, Number).filter(Number.isFinite),
      );
      fMedian = median(finite, 0, finite.length);
    }
    this.checkTermination(fMin, fMax, fMedian);
  }

  /**
   * Drift guard. Only σ²C matters for sampling, yet σ and C can drift apart without bound: on
   * Rosenbrock sep-CMA-ES grows σ towards 1e32 while C collapses towards underflow (the reference
   * implementation then stalls). The update equations are invariant under σ → aσ, C → C/a²,
   * p_c → p_c/a (p_σ and every ranking are unchanged), so when max C_ii leaves [1e-8, 1e8] we move
   * the scale from C into σ. The search distribution is unchanged (up to rounding) and the run
   * continues; `scaleRepairs` counts how often this happened.
   */
  private repairScale(): void {
    const n = this.dimension;
    const full = this.kind === 'full';
    const { C, pc, D } = this;
    let maxDiag = 0;
    for (let i = 0; i < n; i++) {
      const cii = full ? C[i * n + i]! : C[i]!;
      if (cii > maxDiag) maxDiag = cii;
    }
    if (maxDiag >= 1e-8 && maxDiag <= 1e8) return;
    if (!(maxDiag > 0) || !Number.isFinite(maxDiag)) return;
    const a = Math.sqrt(maxDiag);
    for (let i = 0; i < C.length; i++) C[i] = C[i]! / maxDiag;
    for (let i = 0; i < n; i++) {
      pc[i] = pc[i]! / a;
      // sep recomputes √C exactly as restore() does, so a resumed run matches bit for bit.
      D[i] = full ? D[i]! / a : Math.sqrt(C[i]!);
    }
    this.sigma *= a;
    this.scaleRepairCount++;
  }

  /** out = C^{-1/2} v = B diag(1/D) Bᵀ v using the current eigendecomposition. */
  private multiplyInvSqrtC(v: Float64Array, out: Float64Array): void {
    const n = this.dimension;
    const { B, D } = this;
    out.fill(0);
    for (let j = 0; j < n; j++) {
      const row = j * n;
      let t = 0;
      for (let i = 0; i < n; i++) t += B[row + i]! * v[i]!;
      t /= D[j]!;
      for (let i = 0; i < n; i++) out[i] = out[i]! + t * B[row + i]!;
    }
  }

  /** Stores y = (x − m)/σ of an injected candidate, clipped to Mahalanobis length √n + 2n/(n+2). */
  private injectStep(k: number, x: ArrayLike<number>): void {
    const n = this.dimension;
    if (!this.injected) this.injected = new Float64Array(this.populationSize * n);
    const y = this.injected.subarray(k * n, (k + 1) * n);
    for (let i = 0; i < n; i++) y[i] = (Number(x[i]) - this.m[i]!) / this.sigma;
    let normSq = 0;
    if (this.kind === 'full') {
      this.multiplyInvSqrtC(y, this.work2);
      for (let i = 0; i < n; i++) normSq += this.work2[i]! ** 2;
    } else {
      for (let i = 0; i < n; i++) normSq += (y[i]! / this.D[i]!) ** 2;
    }
    const limit = Math.sqrt(n) + (2 * n) / (n + 2);
    const norm = Math.sqrt(normSq);
    if (norm > limit) for (let i = 0; i < n; i++) y[i] = (y[i]! * limit) / norm;
  }

  private checkTermination(fMin: number, fMax: number, fMedian: number): void {
    if (this.termination !== null) return;
    const n = this.dimension;
    const g = this.gen;
    const finite = Number.isFinite(fMin);
    if (finite) {
      const h = this.funRange.length / 2;
      const slot = (g % h) * 2;
      this.funRange[slot] = fMin;
      this.funRange[slot + 1] = fMax;
      if (this.stagnationWindow !== false) {
        const s = (g % this.stagnationWindow) * 2;
        this.stagnationHistory[s] = fMin;
        this.stagnationHistory[s + 1] = fMedian;
      }
    }
    this.termination = this.evaluateTermination(n, g, finite);
  }

  private evaluateTermination(n: number, g: number, finite: boolean): TerminationReason | null {
    if (this.maxEvaluations !== null && this.evals >= this.maxEvaluations) return 'maxEvaluations';
    if (this.targetFitness !== null && this.bestFitness <= this.targetFitness) return 'targetFitness';
    if (this.nonFiniteStreak >= NON_FINITE_STREAK_LIMIT) return 'nonFiniteFitness';
    if (!finite) return null;
    const { C, D, B, m, pc, sigma } = this;
    const full = this.kind === 'full';

    const h = this.funRange.length / 2;
    if (g >= h) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < this.funRange.length; i++) {
        const v = this.funRange[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (hi - lo < this.tolFun) return 'tolFun';
    }

    let tolX = true;
    for (let i = 0; i < n; i++) {
      // sep keeps D = √C exactly, so skip the square roots there.
      const sd = full ? Math.sqrt(C[i * n + i]!) : D[i]!;
      if (sigma * sd >= this.tolX || sigma * Math.abs(pc[i]!) >= this.tolX) {
        tolX = false;
        break;
      }
    }
    if (tolX) return 'tolX';

    let maxD = 0;
    let minD = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      if (D[i]! > maxD) maxD = D[i]!;
      if (D[i]! < minD) minD = D[i]!;
    }
    if (sigma * maxD > this.tolUpX) return 'tolUpX';
    if (!(maxD * maxD <= this.tolConditionCov * minD * minD)) return 'conditionCov';

    if (full) {
      const axis = g % n;
      const scale = 0.1 * sigma * D[axis]!;
      let noEffect = true;
      for (let i = 0; i < n; i++) {
        if (m[i]! !== m[i]! + scale * B[axis * n + i]!) {
          noEffect = false;
          break;
        }
      }
      if (noEffect) return 'noEffectAxis';
    }
    for (let i = 0; i < n; i++) {
      const sd = full ? Math.sqrt(C[i * n + i]!) : D[i]!;
      if (m[i]! === m[i]! + 0.2 * sigma * sd) return 'noEffectCoord';
    }

    const window = this.stagnationWindow;
    if (window !== false && g >= window) {
      // Ring buffer of the last `window` generations; slot of generation t is t % window.
      const part = Math.max(1, Math.floor(window * 0.2));
      const oldBest = new Float64Array(part);
      const oldMedian = new Float64Array(part);
      const newBest = new Float64Array(part);
      const newMedian = new Float64Array(part);
      for (let i = 0; i < part; i++) {
        const oldSlot = ((g - window + 1 + i) % window) * 2;
        const newSlot = ((g - part + 1 + i) % window) * 2;
        oldBest[i] = this.stagnationHistory[oldSlot]!;
        oldMedian[i] = this.stagnationHistory[oldSlot + 1]!;
        newBest[i] = this.stagnationHistory[newSlot]!;
        newMedian[i] = this.stagnationHistory[newSlot + 1]!;
      }
      if (
        median(newBest, 0, part) >= median(oldBest, 0, part) &&
        median(newMedian, 0, part) >= median(oldMedian, 0, part)
      ) {
        return 'stagnation';
      }
    }
    return null;
  }

  state(): CmaesState {
    const full = this.kind === 'full';
    return {
      format: FORMAT,
      kind: this.kind,
      dimension: this.dimension,
      populationSize: this.populationSize,
      seed: this.seed,
      sigma0: this.sigma0,
      sigma: this.sigma,
      generation: this.gen,
      evaluations: this.evals,
      nonFiniteEvaluations: this.nonFinite,
      nonFiniteStreak: this.nonFiniteStreak,
      scaleRepairs: this.scaleRepairCount,
      rng: this.asked ? this.rngBeforeAsk : this.rng.getState(),
      mean: encodeFloat64(this.m),
      covariance: encodeFloat64(this.C),
      pathC: encodeFloat64(this.pc),
      pathSigma: encodeFloat64(this.ps),
      eigen: full
        ? {
            vectors: encodeFloat64(this.B),
            sqrtValues: encodeFloat64(this.D),
            generation: this.eigenGeneration,
          }
        : null,
      best: { x: encodeFloat64(this.bestX), fitness: encodeFloat64(Float64Array.of(this.bestFitness)) },
      history: { funRange: encodeFloat64(this.funRange), stagnation: encodeFloat64(this.stagnationHistory) },
      termination: this.termination,
      settings: {
        bounds:
          this.lower && this.upper
            ? { lower: encodeFloat64(this.lower), upper: encodeFloat64(this.upper) }
            : null,
        maxEvaluations: this.maxEvaluations,
        targetFitness: this.targetFitness,
        tolFun: this.tolFun,
        tolX: this.tolX,
        tolUpX: this.tolUpX,
        tolConditionCov: this.tolConditionCov,
        stagnation: this.stagnationWindow,
        eigenUpdateGap: this.p.eigenGap,
      },
    };
  }

  fromState(state: CmaesState): Cmaes {
    // Build a fresh optimiser (which validates everything) and adopt its fields wholesale.
    const fresh = fromState(state);
    Object.assign(this, fresh);
    return this;
  }

  private restore(state: CmaesState): void {
    const n = this.dimension;
    const full = this.kind === 'full';
    this.sigma = state.sigma;
    this.gen = state.generation;
    this.evals = state.evaluations;
    this.nonFinite = state.nonFiniteEvaluations;
    this.nonFiniteStreak = state.nonFiniteStreak;
    this.scaleRepairCount = state.scaleRepairs;
    this.rng.setState(state.rng);
    this.m.set(decodeFloat64(state.mean, n, 'state.mean'));
    this.C.set(decodeFloat64(state.covariance, full ? n * n : n, 'state.covariance'));
    this.pc.set(decodeFloat64(state.pathC, n, 'state.pathC'));
    this.ps.set(decodeFloat64(state.pathSigma, n, 'state.pathSigma'));
    if (full) {
      if (!state.eigen) invalid('state.eigen', 'a full CMA-ES state needs its eigendecomposition');
      this.B.set(decodeFloat64(state.eigen.vectors, n * n, 'state.eigen.vectors'));
      this.D.set(decodeFloat64(state.eigen.sqrtValues, n, 'state.eigen.sqrtValues'));
      this.eigenGeneration = state.eigen.generation;
    } else {
      for (let i = 0; i < n; i++) this.D[i] = Math.sqrt(this.C[i]!);
    }
    this.bestX.set(decodeFloat64(state.best.x, n, 'state.best.x'));
    this.bestFitness = decodeFloat64(state.best.fitness, 1, 'state.best.fitness')[0]!;
    this.funRange.set(decodeFloat64(state.history.funRange, this.funRange.length, 'state.history.funRange'));
    this.stagnationHistory.set(
      decodeFloat64(state.history.stagnation, this.stagnationHistory.length, 'state.history.stagnation'),
    );
    this.termination = state.termination;
  }
}

function sameValues(a: ArrayLike<number>, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * Creates a separable CMA-ES (Ros & Hansen 2008): diagonal covariance, O(n) time and memory per
 * sample — the choice for large n (TRINITY's 19,456-dimensional router head).
 *
 * Defaults: λ = 4 + ⌊3 ln n⌋, μ = ⌊λ/2⌋, log weights, x0 = 0. Minimises.
 * @example
 * ```ts
 * const es = createSepCmaes({ dimension: 10, x0: 3, sigma0: 2, seed: 1 });
 * while (!es.stop()) {
 *   const xs = es.ask();
 *   es.tell(xs, xs.map((x) => x.reduce((s, v) => s + v * v, 0)));
 * }
 * es.best.fitness; // < 1e-12
 * ```
 */
export function createSepCmaes(settings: CmaesSettings): Cmaes {
  return new CmaesImpl('sep', settings);
}

/**
 * Creates a full-covariance CMA-ES (Hansen 2016 tutorial: rank-one + rank-μ with active negative
 * weights, lazy eigendecomposition). O(n²) per sample; prefer it up to a few hundred dimensions.
 *
 * Defaults: λ = 4 + ⌊3 ln n⌋, μ = ⌊λ/2⌋, log weights, x0 = 0. Minimises.
 * @example
 * ```ts
 * const es = createCmaes({ dimension: 10, sigma0: 0.5, seed: 1, targetFitness: 1e-8 });
 * while (!es.stop()) {
 *   const xs = es.ask();
 *   es.tell(xs, xs.map(rosenbrock));
 * }
 * ```
 */
export function createCmaes(settings: CmaesSettings): Cmaes {
  return new CmaesImpl('full', settings);
}

/**
 * Restores an optimiser from {@link Cmaes.state} (e.g. after `JSON.parse`). The restored optimiser
 * continues bit-for-bit as the original would have: same candidates, same updates.
 *
 * @example
 * ```ts
 * const saved = JSON.stringify(es.state());
 * const resumed = fromState(JSON.parse(saved));
 * ```
 */
export function fromState(state: CmaesState): Cmaes {
  if (typeof state !== 'object' || state === null || state.format !== FORMAT) {
    invalid('state', `not an ${FORMAT} state`);
  }
  if (state.kind !== 'sep' && state.kind !== 'full')
    invalid('state.kind', `unknown kind ${String(state.kind)}`);
  for (const key of [
    'generation',
    'evaluations',
    'nonFiniteEvaluations',
    'nonFiniteStreak',
    'scaleRepairs',
  ] as const) {
    if (!Number.isSafeInteger(state[key]) || state[key] < 0) {
      invalid(`state.${key}`, `state.${key} must be an integer ≥ 0`);
    }
  }
  if (!(state.sigma > 0) || !Number.isFinite(state.sigma))
    invalid('state.sigma', 'state.sigma must be finite and > 0');
  if (typeof state.settings !== 'object' || state.settings === null)
    invalid('state.settings', 'missing settings');
  const s = state.settings;
  const n = state.dimension;
  const settings: CmaesSettings = {
    dimension: n,
    sigma0: state.sigma0,
    populationSize: state.populationSize,
    seed: state.seed,
    tolFun: s.tolFun,
    tolX: s.tolX,
    tolUpX: s.tolUpX,
    tolConditionCov: s.tolConditionCov,
    stagnation: s.stagnation,
    eigenUpdateGap: s.eigenUpdateGap,
  };
  if (s.bounds) {
    settings.bounds = {
      lower: decodeFloat64(s.bounds.lower, n, 'state.settings.bounds.lower'),
      upper: decodeFloat64(s.bounds.upper, n, 'state.settings.bounds.upper'),
    };
  }
  if (s.maxEvaluations !== null) settings.maxEvaluations = s.maxEvaluations;
  if (s.targetFitness !== null) settings.targetFitness = s.targetFitness;
  return new CmaesImpl(state.kind, settings, state);
}
