/**
 * Routing metrics on recorded outcomes (pure).
 *
 * - best single / oracle / random as in RouteLLM and RouterBench;
 * - the strong-share curve (RouteLLM): route a prompt to the strong model when the router's margin for it
 *   is above a threshold, sweep the threshold from "never" to "always", quality vs share of strong calls;
 * - APGR (RouteLLM `evaluate.py`): (AUC − weak·span) / (strong·span − weak·span) with trapezoidal AUC over
 *   the curve; a random router scores ≈ 0.5, the optimal one ≥ 1 when routing can beat the strong model;
 * - CPT(x%) (RouteLLM): share of strong calls needed to recover x% of the weak→strong gap (linear
 *   interpolation at the first crossing along the curve);
 * - AIQ (RouterBench, Hu et al. 2024): area under the non-decreasing convex hull of the cost–quality
 *   points, divided by the cost span;
 * - percentile bootstrap intervals with an injected `Random`.
 */
import type { Random } from '@openfugu/schema';
import { type OutcomeTable, outcomeAt } from './table.js';

/** Mean outcome of each model over the prompts where it has one. */
export function modelMeans(table: OutcomeTable): number[] {
  return table.models.map((_, m) => {
    let sum = 0;
    let count = 0;
    for (let p = 0; p < table.prompts.length; p++) {
      const v = outcomeAt(table, p, m);
      if (!Number.isNaN(v)) {
        sum += v;
        count++;
      }
    }
    return count === 0 ? Number.NaN : sum / count;
  });
}

/** The model with the highest mean (ties: the first). */
export function bestSingle(table: OutcomeTable): { model: string; index: number; mean: number } {
  const means = modelMeans(table);
  let index = 0;
  for (let m = 1; m < means.length; m++) if (means[m]! > means[index]!) index = m;
  return { model: table.models[index]!, index, mean: means[index]! };
}

/** Per-prompt outcome of the best model on that prompt (the oracle router). */
export function oracleValues(table: OutcomeTable): Float64Array {
  return Float64Array.from(table.prompts, (_, p) => {
    let best = Number.NEGATIVE_INFINITY;
    for (let m = 0; m < table.models.length; m++) {
      const v = outcomeAt(table, p, m);
      if (v > best) best = v;
    }
    return best;
  });
}

/** Per-prompt expected outcome of a uniformly random choice among the models (the random router). */
export function randomValues(table: OutcomeTable): Float64Array {
  return Float64Array.from(table.prompts, (_, p) => {
    let sum = 0;
    let count = 0;
    for (let m = 0; m < table.models.length; m++) {
      const v = outcomeAt(table, p, m);
      if (!Number.isNaN(v)) {
        sum += v;
        count++;
      }
    }
    return count === 0 ? Number.NaN : sum / count;
  });
}

/** Per-prompt outcome of the model chosen for each prompt. */
export function routedValues(table: OutcomeTable, choices: ArrayLike<number>): Float64Array {
  return Float64Array.from(table.prompts, (_, p) => outcomeAt(table, p, choices[p]!));
}

/** Mean of the finite values. */
export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) {
      sum += v;
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}

/** Row-wise argmax of a prompts × models utility matrix. */
export function argmaxChoices(utilities: Float64Array, models: number): Int32Array {
  const prompts = utilities.length / models;
  const choices = new Int32Array(prompts);
  for (let p = 0; p < prompts; p++) {
    let best = 0;
    for (let m = 1; m < models; m++) if (utilities[p * models + m]! > utilities[p * models + best]!) best = m;
    choices[p] = best;
  }
  return choices;
}

/** A 95% (or other) percentile bootstrap interval of the mean. */
export interface Interval {
  mean: number;
  low: number;
  high: number;
}

/**
 * Percentile bootstrap interval of the mean of `values` (paired: pass differences to compare two routers).
 * Defaults: 1,000 resamples, 95%.
 */
export function bootstrapInterval(
  values: ArrayLike<number>,
  random: Random,
  options: { resamples?: number; level?: number } = {},
): Interval {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const n = values.length;
  const point = mean(values);
  if (n === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN };
  const stats = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    stats[b] = sum / n;
  }
  stats.sort();
  // Symmetric percentile ranks: as many resample means below `low` as above `high` (50 each for 2,000 at 95%).
  const tail = Math.floor(((1 - level) / 2) * resamples);
  const clamp = (i: number): number => Math.min(resamples - 1, Math.max(0, i));
  return { mean: point, low: stats[clamp(tail)]!, high: stats[clamp(resamples - 1 - tail)]! };
}

/** One point of a quality curve. */
export interface CurvePoint {
  /** Share of prompts sent to the strong model, in [0, 1]. */
  strongShare: number;
  /** Mean outcome. */
  quality: number;
  /** Mean cost per prompt, when the table has costs. */
  cost?: number;
}

/**
 * The exact strong-share curve of a router: prompts sorted by the router's margin for the strong model
 * (`utility[strong] − max utility[others]`); the k highest go to the strong model, the rest to the router's
 * best other choice. Returns `points` evenly spaced in strong share (plus both ends).
 */
export function strongShareCurve(
  table: OutcomeTable,
  utilities: Float64Array,
  strong: number,
  options: { points?: number; costs?: (p: number, m: number) => number } = {},
): CurvePoint[] {
  const models = table.models.length;
  const n = table.prompts.length;
  const fallback = new Int32Array(n);
  const margin = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    let best = -1;
    for (let m = 0; m < models; m++) {
      if (m === strong) continue;
      if (best < 0 || utilities[p * models + m]! > utilities[p * models + best]!) best = m;
    }
    fallback[p] = best < 0 ? strong : best;
    margin[p] =
      best < 0 ? Number.POSITIVE_INFINITY : utilities[p * models + strong]! - utilities[p * models + best]!;
  }
  // Stable order: by margin descending, ties by index, so the curve is deterministic.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => margin[b]! - margin[a]! || a - b);
  const costOf = options.costs;
  let quality = 0;
  let cost = 0;
  for (let p = 0; p < n; p++) {
    quality += outcomeAt(table, p, fallback[p]!);
    if (costOf) cost += costOf(p, fallback[p]!);
  }
  const wanted = Math.max(2, options.points ?? 101);
  const marks = new Set<number>();
  for (let i = 0; i < wanted; i++) marks.add(Math.round((i * n) / (wanted - 1)));
  const points: CurvePoint[] = [];
  const push = (k: number): void => {
    const point: CurvePoint = {
      strongShare: n === 0 ? 0 : k / n,
      quality: n === 0 ? Number.NaN : quality / n,
    };
    if (costOf) point.cost = cost / n;
    points.push(point);
  };
  if (marks.has(0)) push(0);
  for (let k = 1; k <= n; k++) {
    const p = order[k - 1]!;
    quality += outcomeAt(table, p, strong) - outcomeAt(table, p, fallback[p]!);
    if (costOf) cost += costOf(p, strong) - costOf(p, fallback[p]!);
    if (marks.has(k)) push(k);
  }
  return points;
}

function trapezoid(xs: readonly number[], ys: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < xs.length; i++) area += ((xs[i]! - xs[i - 1]!) * (ys[i]! + ys[i - 1]!)) / 2;
  return area;
}

/**
 * RouteLLM's APGR of a strong-share curve, given the weak and strong models' mean outcomes.
 * NaN when `strong ≤ weak` (no gap to recover: the ratio is undefined).
 */
export function apgr(curve: readonly CurvePoint[], weak: number, strong: number): number {
  if (!(strong > weak)) return Number.NaN;
  const sorted = [...curve].sort((a, b) => a.strongShare - b.strongShare);
  const xs = sorted.map((p) => p.strongShare);
  const span = xs.length === 0 ? 0 : xs[xs.length - 1]! - xs[0]!;
  const auc = trapezoid(
    xs,
    sorted.map((p) => p.quality),
  );
  const denominator = strong * span - weak * span;
  return denominator === 0 ? Number.NaN : (auc - weak * span) / denominator;
}

/**
 * CPT(fraction): the smallest strong share at which the curve reaches weak + fraction·(strong − weak),
 * linearly interpolated; NaN when never reached or when `strong ≤ weak`.
 */
export function callsToPerformance(
  curve: readonly CurvePoint[],
  weak: number,
  strong: number,
  fraction: number,
): number {
  if (!(strong > weak)) return Number.NaN;
  const target = weak + fraction * (strong - weak);
  const sorted = [...curve].sort((a, b) => a.strongShare - b.strongShare);
  for (let i = 0; i < sorted.length; i++) {
    const point = sorted[i]!;
    if (point.quality >= target) {
      if (i === 0) return point.strongShare;
      const previous = sorted[i - 1]!;
      const t = (target - previous.quality) / (point.quality - previous.quality);
      return previous.strongShare + t * (point.strongShare - previous.strongShare);
    }
  }
  return Number.NaN;
}

/**
 * RouterBench's AIQ: area under the non-decreasing convex hull of (cost, quality) points, normalised by
 * the cost span. With a single distinct cost, the best quality at that cost.
 */
export function aiq(points: readonly { x: number; y: number }[]): number {
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (finite.length === 0) return Number.NaN;
  const sorted = [...finite].sort((a, b) => a.x - b.x || b.y - a.y);
  // Non-decreasing: a point is dominated when a cheaper point has higher quality.
  const frontier: { x: number; y: number }[] = [];
  for (const point of sorted) {
    const last = frontier[frontier.length - 1];
    if (last && point.y <= last.y) continue;
    if (last && point.x === last.x) frontier.pop();
    frontier.push(point);
  }
  // Upper convex hull of the frontier (monotone chain).
  const hull: { x: number; y: number }[] = [];
  for (const point of frontier) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2]!;
      const b = hull[hull.length - 1]!;
      const cross = (b.x - a.x) * (point.y - a.y) - (b.y - a.y) * (point.x - a.x);
      if (cross >= 0) hull.pop();
      else break;
    }
    hull.push(point);
  }
  const xMin = sorted[0]!.x;
  const xMax = sorted[sorted.length - 1]!.x;
  if (xMax === xMin) return hull[hull.length - 1]!.y;
  // The hull starts at the cheapest point; beyond its last point, quality stays flat.
  const xs = hull.map((p) => p.x);
  const ys = hull.map((p) => p.y);
  xs.push(xMax);
  ys.push(ys[ys.length - 1]!);
  return trapezoid(xs, ys) / (xMax - xMin);
}
