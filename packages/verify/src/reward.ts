/**
 * Reward plumbing: every reward is a plain `(completion, reference) => number` (what JS RL code calls)
 * that also carries `.details()` and `.batch()`. The wrapper makes each reward total: a throw, `NaN` or
 * an out-of-range value becomes a bounded, finite number, and the details say why.
 */
import { InvalidArgumentError } from '@openfugu/schema';

/** A reward value with the details that produced it. */
export interface RewardResult<D> {
  /** Finite, within the reward's bounds. */
  reward: number;
  details: D;
}

/** Details added by the totality wrapper when the computation failed. */
export interface RewardFailure {
  /** Message of the error caught, or why the value was replaced. */
  error?: string;
}

/** A reward function with a details form and a batch form. */
export interface Reward<R, D> {
  /** The reward of one completion: finite, in `[bounds.min, bounds.max]`, never throws. */
  (completion: string, reference: R): number;
  /** Name used in composed details. */
  readonly rewardName: string;
  /** Lowest and highest value it returns. */
  readonly bounds: { readonly min: number; readonly max: number };
  /** The reward and the details behind it. */
  details(completion: string, reference: R): RewardResult<D & RewardFailure>;
  /** Rewards of many completions; `references[i]` goes with `completions[i]`. */
  batch(
    completions: readonly string[],
    references: readonly R[],
  ): { rewards: number[]; details: Array<D & RewardFailure> };
}

/**
 * Wraps a computation into a total {@link Reward}: exceptions and non-finite values give `bounds.min`,
 * values are clamped to the bounds.
 *
 * @example
 * ```ts
 * const lengthPenalty = defineReward('length', { min: 0, max: 1 }, (completion) => ({
 *   reward: Math.max(0, 1 - completion.length / 4096),
 *   details: { length: completion.length },
 * }));
 * ```
 */
export function defineReward<R, D extends object>(
  name: string,
  bounds: { min: number; max: number },
  compute: (completion: string, reference: R) => RewardResult<D>,
): Reward<R, Partial<D>> {
  const details = (completion: string, reference: R): RewardResult<Partial<D> & RewardFailure> => {
    try {
      const result = compute(
        typeof completion === 'string' ? completion : String(completion ?? ''),
        reference,
      );
      const value = result.reward;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return {
          reward: bounds.min,
          details: { ...result.details, error: `non-finite reward ${String(value)}` },
        };
      }
      return { reward: Math.min(bounds.max, Math.max(bounds.min, value)), details: result.details };
    } catch (error) {
      return {
        reward: bounds.min,
        details: { error: error instanceof Error ? error.message : String(error) } as Partial<D> &
          RewardFailure,
      };
    }
  };
  const reward = ((completion: string, reference: R): number =>
    details(completion, reference).reward) as Reward<R, Partial<D>>;
  Object.defineProperty(reward, 'name', { value: name });
  return Object.assign(reward, {
    rewardName: name,
    bounds: { min: bounds.min, max: bounds.max },
    details,
    batch(completions: readonly string[], references: readonly R[]) {
      if (
        !Array.isArray(completions) ||
        !Array.isArray(references) ||
        completions.length !== references.length
      ) {
        throw new InvalidArgumentError({
          argument: 'references',
          message: `batch needs as many references as completions (${String(completions?.length)} vs ${String(references?.length)})`,
        });
      }
      const rewards: number[] = [];
      const all: Array<Partial<D> & RewardFailure> = [];
      for (let i = 0; i < completions.length; i++) {
        const result = details(completions[i]!, references[i]!);
        rewards.push(result.reward);
        all.push(result.details);
      }
      return { rewards, details: all };
    },
  });
}

/** One weighted part of a composed reward. */
export interface RewardComponent<R> {
  /** A {@link Reward} or any `(completion, reference) => number`. */
  readonly fn: Reward<R, object> | ((completion: string, reference: R) => number);
  readonly weight: number;
  /** Name in the details (default: the reward's name). */
  readonly name?: string;
}

/** Details of a composed reward: each part's value, weight and own details. */
export interface ComposedDetails {
  parts: Array<{ name: string; weight: number; reward: number; details?: unknown }>;
}

/**
 * Weighted sum of rewards, itself a total {@link Reward}. Plain functions are made total too (a throw or
 * a non-finite value counts as 0 for that part) and are taken to return values in [0, 1] (clamped).
 *
 * @example
 * ```ts
 * const reward = composeRewards([{ fn: formatReward, weight: 0.2 }, { fn: actionReward, weight: 0.8 }]);
 * reward(completion, reference); // in [0, 1]
 * ```
 */
export function composeRewards<R>(
  components: ReadonlyArray<RewardComponent<R>>,
): Reward<R, Partial<ComposedDetails>> {
  for (const component of components) {
    if (!Number.isFinite(component.weight)) {
      throw new InvalidArgumentError({ argument: 'weight', message: 'every weight must be a finite number' });
    }
  }
  const partBounds = components.map((component) => {
    const bounds = 'bounds' in component.fn ? component.fn.bounds : { min: 0, max: 1 };
    const a = component.weight * bounds.min;
    const b = component.weight * bounds.max;
    return { min: Math.min(a, b), max: Math.max(a, b) };
  });
  const bounds = {
    min: partBounds.reduce((sum, part) => sum + part.min, 0),
    max: partBounds.reduce((sum, part) => sum + part.max, 0),
  };
  const names = components.map((component, index) => component.name ?? (component.fn.name || `part${index}`));
  return defineReward<R, ComposedDetails>('composed', bounds, (completion, reference) => {
    let total = 0;
    const parts: ComposedDetails['parts'] = [];
    components.forEach((component, index) => {
      const fn = component.fn;
      let value = 0;
      let details: unknown;
      if ('details' in fn && typeof fn.details === 'function') {
        const result = fn.details(completion, reference);
        value = result.reward;
        details = result.details;
      } else {
        try {
          value = fn(completion, reference);
        } catch (error) {
          details = { error: error instanceof Error ? error.message : String(error) };
        }
        if (typeof value !== 'number' || !Number.isFinite(value)) value = 0;
        value = Math.min(1, Math.max(0, value)); // plain functions are taken to be rewards in [0, 1]
      }
      total += component.weight * value;
      parts.push({
        name: names[index]!,
        weight: component.weight,
        reward: value,
        ...(details === undefined ? {} : { details }),
      });
    });
    return { reward: total, details: { parts } };
  });
}
