/**
 * The TRINITY router head: a bias-free linear map from a backbone feature vector to agent logits and
 * (optionally) three role logits — rows `[agent_0 … agent_{n-1}, Worker, Thinker, Verifier]`, row-major,
 * each row `dimension` long (DESIGN.md: 7 agents + 3 roles × 1024 in the paper).
 */
import { InvalidArgumentError, type Random, ShapeMismatchError } from '@openfugu/schema';
import { type FeatureVector, featureLength, isSparseVector } from './sparse.js';

/** Number of role rows when a head has roles (Worker, Thinker, Verifier). */
export const ROLE_COUNT = 3;
/** Number of SVF offset vectors in a published TRINITY parameter vector (9 weight matrices). */
export const SVF_MATRIX_COUNT = 9;

/** A bias-free linear router head. */
export interface RouterHead {
  /** Number of agent rows. */
  readonly agentCount: number;
  /** 3 when the head has role rows (Worker, Thinker, Verifier), else 0. */
  readonly roleCount: 0 | 3;
  /** Length of each row (= the backbone's dimension). */
  readonly dimension: number;
  /** `(agentCount + roleCount) × dimension` weights, row-major, agent rows first. */
  readonly weights: Float64Array;
  /**
   * SVF offsets (`9 × dimension`, row-major) when the head was read from a full published parameter
   * vector. Kept and exposed but only meaningful for a backbone with the corresponding weight matrices
   * (the ONNX decoder); the hashing and GloVe backbones have no weight matrices to apply them to.
   */
  readonly svfOffsets?: Float64Array;
  /** Agent ids in row order, when known (saved with the head). */
  readonly agents?: readonly string[];
  /** Id of the backbone the head was trained with, when known. */
  readonly backboneId?: string;
  /**
   * Per-agent bias added to the agent logits (supervised value heads, `trainValueHead`). Absent on
   * TRINITY's bias-free heads. Stored in `.safetensors` (`agent_bias`) and JSON; `.npy` cannot hold it.
   */
  readonly agentBias?: Float64Array;
  /**
   * What the agent logits mean: `'identity'` — predicted quality (ridge value head); `'logistic'` —
   * log-odds of success (logistic value head; quality = sigmoid(logit)). Absent: plain routing logits.
   */
  readonly valueLink?: 'identity' | 'logistic';
}

/** Settings of {@link createRouterHead}. */
export interface RouterHeadSettings {
  agentCount: number;
  dimension: number;
  /** Include the three role rows. Default true. */
  roles?: boolean;
  /** Initial weights (`rows × dimension`, row-major); default all zeros, or random when `random` is given. */
  weights?: ArrayLike<number>;
  /** Draw initial weights from N(0, scale²) with this generator (Box–Muller). */
  random?: Random;
  /** Standard deviation of random initial weights. Default 0.01. */
  scale?: number;
  svfOffsets?: ArrayLike<number>;
  agents?: readonly string[];
  backboneId?: string;
  /** Per-agent bias (`agentCount` values). */
  agentBias?: ArrayLike<number>;
  valueLink?: 'identity' | 'logistic';
}

/**
 * Creates a router head (zeros by default).
 *
 * @example
 * ```ts
 * const head = createRouterHead({ agentCount: 5, dimension: 1024 }); // 8 × 1024 zeros
 * ```
 */
export function createRouterHead(settings: RouterHeadSettings): RouterHead {
  const { agentCount, dimension } = settings;
  if (!Number.isInteger(agentCount) || agentCount < 1) {
    throw new InvalidArgumentError({
      argument: 'agentCount',
      message: `agentCount must be a positive integer, got ${agentCount}`,
    });
  }
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new InvalidArgumentError({
      argument: 'dimension',
      message: `dimension must be a positive integer, got ${dimension}`,
    });
  }
  const roleCount: 0 | 3 = settings.roles === false ? 0 : ROLE_COUNT;
  const size = (agentCount + roleCount) * dimension;
  const weights = new Float64Array(size);
  if (settings.weights !== undefined) {
    if (settings.weights.length !== size) {
      throw new ShapeMismatchError({
        message: `head weights must have ${agentCount + roleCount} × ${dimension} = ${size} values, got ${settings.weights.length}`,
        expected: `[${agentCount + roleCount}, ${dimension}]`,
        actual: `${settings.weights.length} values`,
      });
    }
    for (let i = 0; i < size; i++) weights[i] = Number(settings.weights[i]);
  } else if (settings.random !== undefined) {
    const scale = settings.scale ?? 0.01;
    for (let i = 0; i < size; i++) weights[i] = scale * gaussian(settings.random);
  }
  if (settings.agents !== undefined && settings.agents.length !== agentCount) {
    throw new ShapeMismatchError({
      message: `agents lists ${settings.agents.length} ids but the head has ${agentCount} agent rows`,
      expected: `${agentCount} agent ids`,
      actual: `${settings.agents.length}`,
    });
  }
  let svfOffsets: Float64Array | undefined;
  if (settings.svfOffsets !== undefined) {
    if (settings.svfOffsets.length !== SVF_MATRIX_COUNT * dimension) {
      throw new ShapeMismatchError({
        message: `svfOffsets must have ${SVF_MATRIX_COUNT} × ${dimension} values, got ${settings.svfOffsets.length}`,
        expected: `[${SVF_MATRIX_COUNT}, ${dimension}]`,
        actual: `${settings.svfOffsets.length} values`,
      });
    }
    svfOffsets = Float64Array.from(settings.svfOffsets, Number);
  }
  let agentBias: Float64Array | undefined;
  if (settings.agentBias !== undefined) {
    if (settings.agentBias.length !== agentCount) {
      throw new ShapeMismatchError({
        message: `agentBias must have ${agentCount} values, got ${settings.agentBias.length}`,
        expected: `${agentCount}`,
        actual: `${settings.agentBias.length}`,
      });
    }
    agentBias = Float64Array.from(settings.agentBias, Number);
  }
  return {
    agentCount,
    roleCount,
    dimension,
    weights,
    ...(svfOffsets === undefined ? {} : { svfOffsets }),
    ...(settings.agents === undefined ? {} : { agents: [...settings.agents] }),
    ...(settings.backboneId === undefined ? {} : { backboneId: settings.backboneId }),
    ...(agentBias === undefined ? {} : { agentBias }),
    ...(settings.valueLink === undefined ? {} : { valueLink: settings.valueLink }),
  };
}

/** A standard normal draw (Box–Muller) from a uniform generator. */
export function gaussian(random: Random): number {
  let u = random();
  while (u <= Number.MIN_VALUE) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * Computes all head logits for one feature vector (dense, or a {@link SparseVector} — then only its
 * non-zeros are read, with the same sums as the dense loop): agent logits then role logits.
 *
 * @example
 * ```ts
 * const { agentLogits, roleLogits } = headLogits(head, features);
 * ```
 */
export function headLogits(
  head: RouterHead,
  vector: FeatureVector,
): { agentLogits: Float64Array; roleLogits: Float64Array } {
  const d = head.dimension;
  const length = featureLength(vector);
  if (length !== d) {
    throw new ShapeMismatchError({
      message: `feature vector has ${length} values but the head expects ${d}`,
      expected: `${d}`,
      actual: `${length}`,
    });
  }
  const w = head.weights;
  const rows = head.agentCount + head.roleCount;
  const agentCount = head.agentCount;
  const agentLogits = new Float64Array(agentCount);
  const roleLogits = new Float64Array(head.roleCount);
  const put = (row: number, value: number): void => {
    if (row < agentCount) agentLogits[row] = value;
    else roleLogits[row - agentCount] = value;
  };
  const bias = head.agentBias;
  if (isSparseVector(vector)) {
    const { indices, values } = vector;
    for (let r = 0; r < rows; r++) {
      const offset = r * d;
      let sum = 0;
      for (let j = 0; j < indices.length; j++) sum += w[offset + indices[j]!]! * values[j]!;
      put(r, sum);
    }
    if (bias !== undefined) for (let a = 0; a < agentCount; a++) agentLogits[a]! += bias[a]!;
    return { agentLogits, roleLogits };
  }
  const features = vector;
  // Five rows per pass over the features (each feature is read once per five rows, five independent sums
  // keep the FPU busy), then pairs, then single rows; every row is still summed in index order, so the
  // logits are exactly those of the plain row-by-row loop.
  let r = 0;
  for (; r + 5 <= rows; r += 5) {
    const o0 = r * d;
    const o1 = o0 + d;
    const o2 = o1 + d;
    const o3 = o2 + d;
    const o4 = o3 + d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    for (let i = 0; i < d; i++) {
      const x = features[i]!;
      s0 += w[o0 + i]! * x;
      s1 += w[o1 + i]! * x;
      s2 += w[o2 + i]! * x;
      s3 += w[o3 + i]! * x;
      s4 += w[o4 + i]! * x;
    }
    put(r, s0);
    put(r + 1, s1);
    put(r + 2, s2);
    put(r + 3, s3);
    put(r + 4, s4);
  }
  for (; r + 2 <= rows; r += 2) {
    const o0 = r * d;
    const o1 = o0 + d;
    let s0 = 0;
    let s1 = 0;
    for (let i = 0; i < d; i++) {
      const x = features[i]!;
      s0 += w[o0 + i]! * x;
      s1 += w[o1 + i]! * x;
    }
    put(r, s0);
    put(r + 1, s1);
  }
  for (; r < rows; r++) {
    const offset = r * d;
    let sum = 0;
    for (let i = 0; i < d; i++) sum += w[offset + i]! * features[i]!;
    put(r, sum);
  }
  if (bias !== undefined) for (let a = 0; a < agentCount; a++) agentLogits[a]! += bias[a]!;
  return { agentLogits, roleLogits };
}
