/**
 * Validation shared by the supervised trainers (value heads, kNN): `features` (one vector per prompt) and
 * `outcomes[prompt][agent]` must agree in count and shape, and every outcome must be finite (and in [0, 1]
 * when `unitInterval`; NaN — not recorded — is also accepted when `missing`). Returns the outcomes as one
 * row-major `Float64Array`.
 */
import { InvalidArgumentError, ShapeMismatchError } from '@openfugu/schema';
import { type FeatureVector, featureLength } from './sparse.js';

/** Checks a training table; throws typed errors naming the first bad row. */
export function checkTrainingTable(
  features: readonly FeatureVector[],
  outcomes: readonly (readonly number[])[],
  options: { agentCount?: number; unitInterval?: boolean; missing?: boolean } = {},
): { n: number; d: number; k: number; flat: Float64Array } {
  const n = features.length;
  if (n === 0) throw new InvalidArgumentError({ argument: 'features', message: 'no training prompts' });
  if (outcomes.length !== n) {
    throw new ShapeMismatchError({
      message: `outcomes has ${outcomes.length} rows but features has ${n}`,
      expected: `${n}`,
      actual: `${outcomes.length}`,
    });
  }
  const d = featureLength(features[0]!);
  const k = options.agentCount ?? outcomes[0]!.length;
  if (d < 1 || k < 1) {
    throw new InvalidArgumentError({
      argument: 'features',
      message: 'features and outcomes must be non-empty',
    });
  }
  const flat = new Float64Array(n * k);
  for (let p = 0; p < n; p++) {
    const length = featureLength(features[p]!);
    if (length !== d || outcomes[p]!.length !== k) {
      throw new ShapeMismatchError({
        message: `prompt ${p}: expected ${d} features and ${k} outcomes, got ${length} and ${outcomes[p]!.length}`,
        expected: `${d} / ${k}`,
        actual: `${length} / ${outcomes[p]!.length}`,
      });
    }
    for (let a = 0; a < k; a++) {
      const v = outcomes[p]![a]!;
      if (options.missing && Number.isNaN(v)) {
        flat[p * k + a] = v;
        continue;
      }
      if (!Number.isFinite(v) || (options.unitInterval && (v < 0 || v > 1))) {
        throw new InvalidArgumentError({
          argument: 'outcomes',
          message: `outcomes[${p}][${a}] = ${v} is not ${options.unitInterval ? 'in [0, 1]' : 'finite'}`,
        });
      }
      flat[p * k + a] = v;
    }
  }
  return { n, d, k, flat };
}
