/**
 * `evaluateRouting`: does a trained router beat the best single model on held-out prompts?
 * Pure orchestration over injected pieces: an embedding function (a trinity backbone), a router trainer
 * (trinity's sep-CMA-ES head training or grpo's softmax-linear trainer) and a `Random` for splits and
 * bootstrap. The CLI wires the real ones.
 */
import { InvalidArgumentError, type Random } from '@openfugu/schema';
import { concatSparse, isSparseVector, type SparseVector, toSparse } from '@openfugu/trinity';
import { knnUtilities } from './knn.js';
import {
  aiq,
  apgr,
  argmaxChoices,
  bestSingle,
  bootstrapInterval,
  type CurvePoint,
  callsToPerformance,
  type Interval,
  mean,
  modelMeans,
  oracleValues,
  randomValues,
  routedValues,
  strongShareCurve,
} from './metrics.js';
import { type OperatingPoint, operatingPoints } from './operating-points.js';
import { overlappingRows, splitByPrompt } from './split.js';
import {
  dropIncomplete,
  type OutcomePrompt,
  type OutcomeTable,
  outcomeAt,
  selectModels,
  selectPrompts,
} from './table.js';

/**
 * One prompt's features: dense, or the non-zeros of a wide backbone (`concat-sparse`), which the ridge value
 * heads and kNN take (`checkDense` names a trainer that does not).
 */
export type Features = Float32Array | SparseVector;

/** What a router trainer receives: training features and outcomes (prompts × models, row-major). */
export interface RouterTrainingInput {
  features: readonly Features[];
  outcomes: Float64Array;
  models: readonly string[];
  /** Optional per-model cost of one call. */
  modelCosts?: Float64Array;
  seed: number;
}

/** A trained router: prompts × models utilities (higher = preferred) for new features. */
export interface TrainedRouter {
  utilities(features: readonly Features[]): Float64Array;
  /**
   * Out-of-fold utilities of the training prompts (prompts × models), when the trainer has them (the
   * supervised value heads); the report then calibrates the knob's operating points on them.
   */
  trainUtilities?: Float64Array;
  /** Training history, reported as-is in the JSON output. */
  history?: unknown;
}

/** Trains a router on recorded outcomes. */
export interface RouterTrainer {
  readonly name: string;
  train(input: RouterTrainingInput): Promise<TrainedRouter>;
}

/** Settings of `evaluateRouting`. */
export interface EvaluateRoutingOptions {
  train: OutcomeTable;
  /** A separate test table; otherwise `split` divides `train` by prompt. */
  test?: OutcomeTable;
  /** Fraction of prompt groups used for training when `test` is absent. Default 0.7. */
  split?: number;
  /** Models of the pool (default: every model of the table). */
  models?: readonly string[];
  embed: (texts: readonly string[]) => Promise<Features[]>;
  trainer: RouterTrainer;
  seed: number;
  random: Random;
  /** Bootstrap resamples (default 1,000). */
  resamples?: number;
  /** k of the kNN baseline (default 20). */
  knnK?: number;
  /** Names for the report. */
  backboneName?: string;
  /**
   * Request metadata as features: a vector per prompt appended to its text features (e.g. the hashed
   * subject, `categoryFeatures` of @openfugu/trinity). Test prompts get theirs too — metadata is known at
   * request time.
   */
  metadataFeatures?: (prompt: OutcomePrompt) => Float32Array;
}

/** Mean with a 95% bootstrap interval. */
export interface ScoredMean {
  mean: number;
  ci95: [number, number];
}

/** The JSON summary of one routing evaluation (snake_case: it is a file format). */
export interface RoutingReport {
  dataset: string;
  models: string[];
  backbone: string;
  trainer: string;
  seed: number;
  split: number | null;
  n_train: number;
  n_test: number;
  dropped: { incomplete_train: number; incomplete_test: number; train_overlapping_test: number };
  router: ScoredMean & { choice_share: Record<string, number> };
  best_single: ScoredMean & { model: string; best_on_train: string };
  oracle: ScoredMean;
  random: ScoredMean;
  knn: ScoredMean & { k: number };
  per_model: Record<string, number>;
  router_minus_best_single: ScoredMean;
  strong_model: string;
  weak_model: string;
  weak_mean: number;
  strong_mean: number;
  /** null in the JSON when undefined (the test set reverses strong and weak). */
  apgr: number;
  knn_apgr: number;
  cpt50: number | null;
  cpt80: number | null;
  cpt95: number | null;
  /** Share of strong calls (or mean cost) at which the router's curve first matches the strong model. */
  cost_at_equal_quality: number | null;
  /** At the argmax router's own share of strong calls: its quality vs a random mix of the same cost. */
  quality_at_equal_cost: { strong_share: number; router: number; random_mix: number };
  /** The knob's operating points, calibrated on the training prompts' out-of-fold utilities. */
  operating_points: OperatingPoint[];
  aiq: number;
  aiq_axis: 'strong_share' | 'cost';
  curve: { strong_share: number; quality: number; cost?: number }[];
  knn_curve: { strong_share: number; quality: number }[];
  subsets: {
    subset: string;
    n: number;
    router: number;
    best_single: number;
    oracle: number;
    strong_share: number;
  }[];
  training: unknown;
  timings_ms: { embed: number; train: number; evaluate: number };
}

const scored = (interval: Interval): ScoredMean => ({
  mean: interval.mean,
  ci95: [interval.low, interval.high],
});

/** Runs one routing evaluation and returns the report. Throws `InvalidArgumentError` on empty splits. */
export async function evaluateRouting(
  options: EvaluateRoutingOptions,
  clock: () => number = () => 0,
): Promise<RoutingReport> {
  const models = options.models ?? options.train.models;
  let train = selectModels(options.train, models);
  let test: OutcomeTable;
  let overlapping = 0;
  const splitFraction = options.test ? null : (options.split ?? 0.7);
  if (options.test) {
    test = selectModels(options.test, models);
    const overlap = overlappingRows(train, test);
    overlapping = overlap.length;
    if (overlapping > 0) {
      const drop = new Set(overlap);
      train = selectPrompts(
        train,
        train.prompts.flatMap((_, row) => (drop.has(row) ? [] : [row])),
      );
    }
  } else {
    const { train: trainRows, test: testRows } = splitByPrompt(train, splitFraction!, options.random);
    test = selectPrompts(train, testRows);
    train = selectPrompts(train, trainRows);
  }
  const cleanTrain = dropIncomplete(train);
  const cleanTest = dropIncomplete(test);
  train = cleanTrain.table;
  test = cleanTest.table;
  if (train.prompts.length === 0)
    throw new InvalidArgumentError({ argument: 'train', message: 'the training split is empty' });
  if (test.prompts.length === 0)
    throw new InvalidArgumentError({ argument: 'test', message: 'the test split is empty' });

  const t0 = clock();
  let trainFeatures = await options.embed(train.prompts.map((p) => p.text));
  let testFeatures = await options.embed(test.prompts.map((p) => p.text));
  const metadata = options.metadataFeatures;
  if (metadata) {
    const append = (table: OutcomeTable, features: Features[]): Features[] =>
      features.map((x, p) => {
        const extra = metadata(table.prompts[p]!);
        if (isSparseVector(x)) return concatSparse([x, toSparse(extra)]);
        const out = new Float32Array(x.length + extra.length);
        out.set(x);
        out.set(extra, x.length);
        return out;
      });
    trainFeatures = append(train, trainFeatures);
    testFeatures = append(test, testFeatures);
  }
  const t1 = clock();
  const trainingInput: RouterTrainingInput = {
    features: trainFeatures,
    outcomes: train.outcomes,
    models: train.models,
    seed: options.seed,
  };
  if (train.modelCosts) trainingInput.modelCosts = train.modelCosts;
  const router = await options.trainer.train(trainingInput);
  const t2 = clock();

  const k = models.length;
  const utilities = router.utilities(testFeatures);
  const choices = argmaxChoices(utilities, k);
  const routerValues = routedValues(test, choices);
  const knnK = options.knnK ?? 20;
  const knn = knnUtilities(train, trainFeatures, testFeatures, knnK);
  const knnValues = routedValues(test, argmaxChoices(knn, k));
  const testMeans = modelMeans(test);
  const best = bestSingle(test);
  const bestOnTrain = bestSingle(train);
  const bestValues = Float64Array.from(test.prompts, (_, p) => outcomeAt(test, p, best.index));
  const resamples = { resamples: options.resamples ?? 1000 };
  const bootstrap = (values: ArrayLike<number>): ScoredMean =>
    scored(bootstrapInterval(values, options.random, resamples));

  // Strong = the best model on the training prompts, weak = the best other model on the training prompts
  // (a router cannot know the test set); both are then scored on the test prompts. When the test set
  // reverses them (possible in multi-model pools), APGR and CPT are undefined and reported as null.
  const strong = bestOnTrain.index;
  const trainMeans = modelMeans(train);
  let weak = strong === 0 ? 1 : 0;
  for (let m = 0; m < k; m++) if (m !== strong && trainMeans[m]! > trainMeans[weak]!) weak = m;
  const costOf = costFunction(test);
  const curveOptions = costOf ? { costs: costOf } : {};
  const curve = k > 1 ? strongShareCurve(test, utilities, strong, curveOptions) : [];
  const knnCurve = k > 1 ? strongShareCurve(test, knn, strong) : [];
  const weakMean = k > 1 ? testMeans[weak]! : testMeans[0]!;
  const strongMean = testMeans[strong]!;
  const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
  const aiqAxis = costOf ? 'cost' : 'strong_share';
  const share: Record<string, number> = {};
  models.forEach((model, m) => {
    share[model] = choices.filter((c) => c === m).length / choices.length;
  });
  const perModel: Record<string, number> = {};
  models.forEach((model, m) => {
    perModel[model] = testMeans[m]!;
  });
  const subsets = subsetBreakdown(test, routerValues, best.index, choices, strong);
  const routerShare = choices.filter((c) => c === strong).length / Math.max(1, choices.length);
  const knob =
    router.trainUtilities && k > 1
      ? operatingPoints({
          train,
          trainUtilities: router.trainUtilities,
          test,
          testUtilities: utilities,
          strong,
          weak,
          trainMeans,
          testMeans,
        })
      : [];
  const t3 = clock();
  return {
    dataset: options.train.name,
    models: [...models],
    backbone: options.backboneName ?? 'custom',
    trainer: options.trainer.name,
    seed: options.seed,
    split: splitFraction,
    n_train: train.prompts.length,
    n_test: test.prompts.length,
    dropped: {
      incomplete_train: cleanTrain.dropped,
      incomplete_test: cleanTest.dropped,
      train_overlapping_test: overlapping,
    },
    router: { ...bootstrap(routerValues), choice_share: share },
    best_single: { ...bootstrap(bestValues), model: best.model, best_on_train: bestOnTrain.model },
    oracle: bootstrap(oracleValues(test)),
    random: bootstrap(randomValues(test)),
    knn: { ...bootstrap(knnValues), k: knnK },
    per_model: perModel,
    router_minus_best_single: bootstrap(routerValues.map((v, p) => v - bestValues[p]!)),
    strong_model: models[strong]!,
    weak_model: models[weak] ?? models[strong]!,
    weak_mean: weakMean,
    strong_mean: strongMean,
    apgr: apgr(curve, weakMean, strongMean),
    knn_apgr: apgr(knnCurve, weakMean, strongMean),
    cpt50: finiteOrNull(callsToPerformance(curve, weakMean, strongMean, 0.5)),
    cpt80: finiteOrNull(callsToPerformance(curve, weakMean, strongMean, 0.8)),
    cpt95: finiteOrNull(callsToPerformance(curve, weakMean, strongMean, 0.95)),
    cost_at_equal_quality: finiteOrNull(
      costOf ? costAtQuality(curve, strongMean) : callsToPerformance(curve, weakMean, strongMean, 1),
    ),
    quality_at_equal_cost: {
      strong_share: routerShare,
      router: qualityAtShare(curve, routerShare),
      random_mix: weakMean + routerShare * (strongMean - weakMean),
    },
    operating_points: knob,
    aiq: aiq(curve.map((p) => ({ x: costOf ? p.cost! : p.strongShare, y: p.quality }))),
    aiq_axis: aiqAxis,
    curve: curve.map(toJsonPoint),
    knn_curve: knnCurve.map((p) => ({ strong_share: p.strongShare, quality: p.quality })),
    subsets,
    training: router.history ?? null,
    timings_ms: { embed: t1 - t0, train: t2 - t1, evaluate: t3 - t2 },
  };
}

/** The features as dense vectors; a typed error naming `trainer` when any is sparse. */
export function checkDense(features: readonly Features[], trainer: string): readonly Float32Array[] {
  if (features.some(isSparseVector)) {
    throw new InvalidArgumentError({
      argument: 'trainer',
      message: `trainer ${trainer} needs dense features; sparse backbones (concat-sparse) train the ridge value heads and kNN only`,
    });
  }
  return features as readonly Float32Array[];
}

function toJsonPoint(point: CurvePoint): { strong_share: number; quality: number; cost?: number } {
  const out: { strong_share: number; quality: number; cost?: number } = {
    strong_share: point.strongShare,
    quality: point.quality,
  };
  if (point.cost !== undefined) out.cost = point.cost;
  return out;
}

function costFunction(table: OutcomeTable): ((p: number, m: number) => number) | undefined {
  const k = table.models.length;
  if (table.callCosts) {
    const callCosts = table.callCosts;
    return (p, m) => callCosts[p * k + m]!;
  }
  if (table.modelCosts) {
    const modelCosts = table.modelCosts;
    return (_p, m) => modelCosts[m]!;
  }
  return undefined;
}

/** Quality of a strong-share curve at `share` (linear interpolation). */
function qualityAtShare(curve: readonly CurvePoint[], share: number): number {
  if (curve.length === 0) return Number.NaN;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1]!;
    const b = curve[i]!;
    if (share <= b.strongShare) {
      const t =
        b.strongShare === a.strongShare ? 1 : (share - a.strongShare) / (b.strongShare - a.strongShare);
      return a.quality + t * (b.quality - a.quality);
    }
  }
  return curve.at(-1)!.quality;
}

/** Lowest mean cost on the curve whose quality reaches `quality` (NaN when never). */
function costAtQuality(curve: readonly CurvePoint[], quality: number): number {
  let best = Number.NaN;
  for (const p of curve) if (p.quality >= quality && !(p.cost! >= best)) best = p.cost!;
  return best;
}

function subsetBreakdown(
  test: OutcomeTable,
  routerValues: Float64Array,
  bestIndex: number,
  choices: Int32Array,
  strong: number,
): RoutingReport['subsets'] {
  const rows = new Map<string, number[]>();
  test.prompts.forEach((prompt, p) => {
    if (prompt.subset === undefined) return;
    const list = rows.get(prompt.subset);
    if (list) list.push(p);
    else rows.set(prompt.subset, [p]);
  });
  const oracle = oracleValues(test);
  return [...rows.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([subset, list]) => ({
      subset,
      n: list.length,
      router: mean(list.map((p) => routerValues[p]!)),
      best_single: mean(list.map((p) => outcomeAt(test, p, bestIndex))),
      oracle: mean(list.map((p) => oracle[p]!)),
      strong_share: list.filter((p) => choices[p] === strong).length / list.length,
    }));
}
