/**
 * Group-relative advantages.
 *
 * - "group": Â_i = (r_i − mean(r_group)) / (std(r_group) + ε) — DeepSeekMath (arXiv 2402.03300) §4.1.2,
 *   outcome supervision: "normalized reward r̃_i = (r_i − mean(r)) / std(r)", Eq. 3 with Â_{i,t} = r̃_i;
 *   the ε = 1e-4 guard is TRL's (`GRPOTrainer._generate_and_score_completions`, `scale_rewards="group"`).
 * - "batch": Â_i = (r_i − mean(r_group)) / (std(r_batch) + ε) — TRL `scale_rewards="batch"` (group mean
 *   subtracted, batch std divides; the "Tricks or Traps? Part I" recipe).
 * - "mean": Â_i = r_i − mean(r_group) — Dr. GRPO (arXiv 2503.20783, §3.2): no std division. TRL calls
 *   this `scale_rewards="none"`.
 * - "none": Â_i = r_i — raw rewards, no baseline (REINFORCE); for callers that centre rewards themselves.
 *
 * Standard deviations are the unbiased *sample* std (divide by n − 1) by default, because TRL uses
 * `torch.std`, which applies Bessel's correction. A group of one has std 0 (TRL ≥ 0.24 does the same
 * instead of returning NaN). `std: 'population'` divides by n.
 *
 * Zero-variance groups (all rewards equal) carry no learning signal under "group"/"batch"/"mean";
 * DAPO (arXiv 2503.14476) §3.2 "Dynamic Sampling" (the constraint 0 < |{o_i correct}| < G) drops them.
 * With `dropZeroVariance: true` their samples get `kept[i] = 0` and advantage 0, and the fraction of
 * dropped groups is reported. A group counts as zero-variance when its std ≤ `zeroVarianceTolerance`
 * (default 1e-8, the absolute tolerance of TRL's `torch.isclose(std, 0)`).
 */

import { InvalidArgumentError } from '@openfugu/schema';

/** How advantages are normalised. See the module comment for the formula of each. */
export type AdvantageScaling = 'group' | 'batch' | 'mean' | 'none';

/** Settings of {@link computeGroupAdvantages}. Give exactly one of `groupSize` and `groupIds`. */
export interface GroupAdvantageOptions {
  /** Contiguous groups of this many samples (TRL layout: G completions of prompt 0, then of prompt 1, ...). */
  groupSize?: number;
  /** Group id of each sample (e.g. prompt id); samples of a group need not be adjacent. */
  groupIds?: ArrayLike<number | string>;
  /** Normalisation. Default `'group'`. */
  scale?: AdvantageScaling;
  /** Added to the std before dividing. Default `1e-4` (TRL). */
  epsilon?: number;
  /** `'sample'` (n − 1, like `torch.std` and TRL) or `'population'` (n). Default `'sample'`. */
  std?: 'sample' | 'population';
  /** Drop groups whose rewards are all equal (DAPO dynamic sampling). Default `false`. */
  dropZeroVariance?: boolean;
  /** A group whose std is at most this is zero-variance. Default `1e-8`. */
  zeroVarianceTolerance?: number;
}

/** One group's reward summary (JSON-friendly). */
export interface GroupSummary {
  /** The group id (`groupIds` value, or the group's ordinal with `groupSize`). */
  id: number | string;
  /** Number of samples in the group. */
  size: number;
  /** Mean reward of the group. */
  mean: number;
  /** Std of the group's rewards (sample or population, as configured). */
  std: number;
  /** Whether the group's rewards were all equal. */
  zeroVariance: boolean;
  /** Whether the group was dropped (zero variance and `dropZeroVariance`). */
  dropped: boolean;
}

/** Batch-level statistics of an advantage computation (plain numbers; safe to `JSON.stringify`). */
export interface AdvantageStats {
  /** Number of samples. */
  samples: number;
  /** Number of groups. */
  groups: number;
  /** Mean reward over all samples. */
  rewardMean: number;
  /** Std of all rewards (same estimator as the groups'). */
  rewardStd: number;
  /** Mean over groups of the group std (TRL logs this as `reward_std`). */
  groupStdMean: number;
  /**
   * Fraction of groups with zero variance, whether dropped or not (TRL's `frac_reward_zero_std` with
   * group scaling; TRL's "batch" mode tests the batch std instead, which says little).
   */
  zeroVarianceFraction: number;
  /** Fraction of groups dropped (0 unless `dropZeroVariance`). */
  droppedFraction: number;
  /** Number of samples kept. */
  keptSamples: number;
  /** Mean and std of the advantages of kept samples. */
  advantageMean: number;
  advantageStd: number;
}

/** Result of {@link computeGroupAdvantages}. */
export interface GroupAdvantages {
  /** One advantage per sample; 0 for dropped samples. */
  advantages: Float64Array;
  /** 1 for kept samples, 0 for samples of dropped groups. Use it as the loss mask. */
  kept: Uint8Array;
  /** Group index (0-based, in order of first appearance) of each sample. */
  groupIndex: Int32Array;
  /** One summary per group, in order of first appearance. */
  groups: GroupSummary[];
  /** Batch-level statistics. */
  stats: AdvantageStats;
}

/**
 * Computes group-relative advantages for a batch of rewards.
 *
 * Defaults: `scale: 'group'`, `epsilon: 1e-4`, sample std, no dropping — i.e. TRL's GRPOTrainer.
 *
 * @example
 * ```ts
 * const { advantages, stats } = computeGroupAdvantages([1, 0, 0.5, 0.5], { groupSize: 2 });
 * // advantages ≈ [0.70700, -0.70700, 0, 0]; stats.zeroVarianceFraction === 0.5
 * ```
 */
export function computeGroupAdvantages(
  rewards: ArrayLike<number>,
  options: GroupAdvantageOptions,
): GroupAdvantages {
  const n = rewards.length;
  const scale = options.scale ?? 'group';
  const epsilon = options.epsilon ?? 1e-4;
  const population = (options.std ?? 'sample') === 'population';
  const drop = options.dropZeroVariance ?? false;
  const tolerance = options.zeroVarianceTolerance ?? 1e-8;
  if (scale !== 'group' && scale !== 'batch' && scale !== 'mean' && scale !== 'none') {
    throw new InvalidArgumentError({ argument: 'scale', message: `Unknown advantage scaling "${scale}".` });
  }
  if (!(epsilon >= 0)) {
    throw new InvalidArgumentError({ argument: 'epsilon', message: 'epsilon must be a number ≥ 0.' });
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(rewards[i])) {
      throw new InvalidArgumentError({
        argument: `rewards[${i}]`,
        message: `Reward ${i} is ${rewards[i]}; rewards must be finite numbers.`,
      });
    }
  }

  const { groupIndex, ids } = assignGroups(n, options);
  const groupCount = ids.length;
  const sizes = new Float64Array(groupCount);
  const sums = new Float64Array(groupCount);
  for (let i = 0; i < n; i++) {
    const g = groupIndex[i]!;
    sizes[g]! += 1;
    sums[g]! += rewards[i]!;
  }
  const means = new Float64Array(groupCount);
  for (let g = 0; g < groupCount; g++) means[g] = sums[g]! / sizes[g]!;
  const squares = new Float64Array(groupCount);
  for (let i = 0; i < n; i++) {
    const g = groupIndex[i]!;
    const d = rewards[i]! - means[g]!;
    squares[g]! += d * d;
  }
  const stds = new Float64Array(groupCount);
  for (let g = 0; g < groupCount; g++) stds[g] = spread(squares[g]!, sizes[g]!, population);

  const groups: GroupSummary[] = [];
  let zeroVarianceGroups = 0;
  let droppedGroups = 0;
  let groupStdSum = 0;
  for (let g = 0; g < groupCount; g++) {
    const zeroVariance = stds[g]! <= tolerance;
    const dropped = drop && zeroVariance;
    if (zeroVariance) zeroVarianceGroups++;
    if (dropped) droppedGroups++;
    groupStdSum += stds[g]!;
    groups.push({
      id: ids[g]!,
      size: sizes[g]!,
      mean: means[g]!,
      std: stds[g]!,
      zeroVariance,
      dropped,
    });
  }

  const kept = new Uint8Array(n);
  let keptSamples = 0;
  for (let i = 0; i < n; i++) {
    if (!groups[groupIndex[i]!]!.dropped) {
      kept[i] = 1;
      keptSamples++;
    }
  }

  // "batch" divides by the std of the rewards that enter the loss, i.e. of the kept samples.
  let batchStd = 0;
  if (scale === 'batch') {
    let sum = 0;
    for (let i = 0; i < n; i++) if (kept[i]) sum += rewards[i]!;
    const mean = keptSamples > 0 ? sum / keptSamples : 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      if (kept[i]) {
        const d = rewards[i]! - mean;
        ss += d * d;
      }
    }
    batchStd = spread(ss, keptSamples, population);
  }

  const advantages = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!kept[i]) continue;
    const g = groupIndex[i]!;
    const r = rewards[i]!;
    switch (scale) {
      case 'group':
        advantages[i] = (r - means[g]!) / (stds[g]! + epsilon);
        break;
      case 'batch':
        advantages[i] = (r - means[g]!) / (batchStd + epsilon);
        break;
      case 'mean':
        advantages[i] = r - means[g]!;
        break;
      case 'none':
        advantages[i] = r;
        break;
    }
  }

  let rewardSum = 0;
  for (let i = 0; i < n; i++) rewardSum += rewards[i]!;
  const rewardMean = n > 0 ? rewardSum / n : 0;
  let rewardSs = 0;
  for (let i = 0; i < n; i++) rewardSs += (rewards[i]! - rewardMean) ** 2;
  let advantageSum = 0;
  for (let i = 0; i < n; i++) if (kept[i]) advantageSum += advantages[i]!;
  const advantageMean = keptSamples > 0 ? advantageSum / keptSamples : 0;
  let advantageSs = 0;
  for (let i = 0; i < n; i++) if (kept[i]) advantageSs += (advantages[i]! - advantageMean) ** 2;

  return {
    advantages,
    kept,
    groupIndex,
    groups,
    stats: {
      samples: n,
      groups: groupCount,
      rewardMean,
      rewardStd: spread(rewardSs, n, population),
      groupStdMean: groupCount > 0 ? groupStdSum / groupCount : 0,
      zeroVarianceFraction: groupCount > 0 ? zeroVarianceGroups / groupCount : 0,
      droppedFraction: groupCount > 0 ? droppedGroups / groupCount : 0,
      keptSamples,
      advantageMean,
      advantageStd: spread(advantageSs, keptSamples, population),
    },
  };
}

/** Std from a sum of squared deviations; 0 for fewer than two samples (sample) or none (population). */
function spread(sumOfSquares: number, count: number, population: boolean): number {
  const dof = population ? count : count - 1;
  return dof > 0 ? Math.sqrt(sumOfSquares / dof) : 0;
}

function assignGroups(
  n: number,
  options: GroupAdvantageOptions,
): { groupIndex: Int32Array; ids: (number | string)[] } {
  const groupIndex = new Int32Array(n);
  const ids: (number | string)[] = [];
  const { groupSize, groupIds } = options;
  if ((groupSize === undefined) === (groupIds === undefined)) {
    throw new InvalidArgumentError({
      argument: 'groupSize',
      message: 'Give exactly one of groupSize (contiguous groups) and groupIds.',
    });
  }
  if (groupSize !== undefined) {
    if (!Number.isInteger(groupSize) || groupSize < 1) {
      throw new InvalidArgumentError({ argument: 'groupSize', message: 'groupSize must be an integer ≥ 1.' });
    }
    if (n % groupSize !== 0) {
      throw new InvalidArgumentError({
        argument: 'groupSize',
        message: `The number of rewards (${n}) is not a multiple of groupSize (${groupSize}).`,
      });
    }
    for (let i = 0; i < n; i++) groupIndex[i] = Math.floor(i / groupSize);
    for (let g = 0; g < n / groupSize; g++) ids.push(g);
    return { groupIndex, ids };
  }
  const seen = new Map<number | string, number>();
  const given = groupIds!;
  if (given.length !== n) {
    throw new InvalidArgumentError({
      argument: 'groupIds',
      message: `groupIds has ${given.length} entries for ${n} rewards.`,
    });
  }
  for (let i = 0; i < n; i++) {
    const id = given[i]!;
    let g = seen.get(id);
    if (g === undefined) {
      g = ids.length;
      seen.set(id, g);
      ids.push(id);
    }
    groupIndex[i] = g;
  }
  return { groupIndex, ids };
}
