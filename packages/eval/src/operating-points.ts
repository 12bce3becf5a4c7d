/**
 * The cost–quality knob's operating points, chosen on the training prompts and checked on the test
 * prompts (pure). A router with out-of-fold utilities on its training prompts gets, for each target:
 *
 * - `pgr` targets (50 / 80 / 95 % of the weak→strong gap, as in CPT(x%)): the share of strong calls at
 *   which the *training* curve (out-of-fold utilities) first recovers x % of the gap; then
 * - `share` targets (25 / 50 / 75 % of traffic to the strong model, RouteLLM's "at most X %" form);
 *
 * each becomes a margin threshold with trinity's `calibrateStrongShare` on the training margins, and is
 * applied to the test prompts with `routeByThreshold`. Reported: the share chosen on train, the share and
 * quality it lands on on test, and the recovered fraction of the gap on test.
 */
import { calibrateStrongShare, routeByThreshold, strongMargin } from '@openfugu/trinity';
import { callsToPerformance, mean, strongShareCurve } from './metrics.js';
import { type OutcomeTable, outcomeAt } from './table.js';

/** One operating point of the knob. */
export interface OperatingPoint {
  kind: 'pgr' | 'share';
  /** The target: fraction of the gap (pgr) or share of strong calls (share). */
  target: number;
  /** Margin threshold chosen on train (null: ±∞). */
  threshold: number | null;
  /** Share of strong calls chosen on the training prompts. */
  train_share: number;
  /** Share of strong calls on the test prompts with that threshold. */
  test_share: number;
  /** Mean outcome on the test prompts. */
  test_quality: number;
  /** (test quality − weak) / (strong − weak) on the test prompts (null when strong ≤ weak there). */
  test_pgr: number | null;
}

/**
 * Operating points for the standard targets; empty when the training curve is undefined. `weak` is the
 * best other model on the training prompts; `trainMeans` / `testMeans` are each model's mean outcome
 * (`modelMeans`), which the caller has already computed.
 */
export function operatingPoints(settings: {
  train: OutcomeTable;
  trainUtilities: Float64Array;
  test: OutcomeTable;
  testUtilities: Float64Array;
  strong: number;
  weak: number;
  trainMeans: readonly number[];
  testMeans: readonly number[];
}): OperatingPoint[] {
  const { train, test, strong, trainMeans, testMeans } = settings;
  const k = train.models.length;
  const marginsOf = (utilities: Float64Array, n: number) =>
    Float64Array.from({ length: n }, (_, p) => strongMargin(utilities.subarray(p * k, (p + 1) * k), strong));
  const trainMargins = marginsOf(settings.trainUtilities, train.prompts.length);
  const trainWeak = trainMeans[settings.weak]!;
  const trainCurve = strongShareCurve(train, settings.trainUtilities, strong, { points: 201 });
  const testWeak = testMeans[settings.weak]!;
  const testStrong = testMeans[strong]!;
  const targets: { kind: 'pgr' | 'share'; target: number; share: number }[] = [];
  for (const target of [0.5, 0.8, 0.95]) {
    const share = callsToPerformance(trainCurve, trainWeak, trainMeans[strong]!, target);
    if (Number.isFinite(share)) targets.push({ kind: 'pgr', target, share });
  }
  for (const target of [0.25, 0.5, 0.75]) targets.push({ kind: 'share', target, share: target });
  const n = test.prompts.length;
  return targets.map(({ kind, target, share }) => {
    const threshold = calibrateStrongShare(trainMargins, share);
    const values = new Float64Array(n);
    let sent = 0;
    for (let p = 0; p < n; p++) {
      const choice = routeByThreshold(settings.testUtilities.subarray(p * k, (p + 1) * k), strong, threshold);
      if (choice === strong) sent++;
      values[p] = outcomeAt(test, p, choice);
    }
    const quality = mean(values);
    return {
      kind,
      target,
      threshold: Number.isFinite(threshold) ? threshold : null,
      train_share: share,
      test_share: n === 0 ? 0 : sent / n,
      test_quality: quality,
      test_pgr: testStrong > testWeak ? (quality - testWeak) / (testStrong - testWeak) : null,
    };
  });
}
