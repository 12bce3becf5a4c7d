/**
 * k-nearest-neighbour routing as a first-class router (RouteLLM's similarity-weighted family): a prompt's
 * predicted quality for each agent is the mean recorded outcome of that agent on the k training prompts
 * whose feature vectors are most cosine-similar (optionally weighted by the similarity). Works on any
 * backbone; k is chosen by cross-validation on the training prompts (leave-one-out on a seeded subset of
 * queries, neighbours drawn from all other training prompts). Pure: the subset comes from an injected
 * `random`.
 *
 * Cosine similarity is `x·y / (‖x‖ ‖y‖)` on the stored vectors (a zero vector has similarity 0 to all). The
 * training vectors are stored as their non-zeros (compressed rows) and a query is spread into a dense
 * scratch, so each dot product runs over a training row's non-zeros only — the same non-zero terms, in the
 * same order, as the dense loop — and dense and sparse vectors (`SparseVector`, e.g. the wide backbone's
 * `embedSparseSync`) are both accepted. This is also the kNN baseline of `@openfugu/eval`'s routing reports
 * (`knnUtilities`).
 */
import {
  type Backbone,
  type ChatMessage,
  InvalidArgumentError,
  NoAvailableWorkerError,
  type Random,
  type RoutingDecision,
  ShapeMismatchError,
} from '@openfugu/schema';
import { embedForHead, isSyncBackbone } from './backbones/types.js';
import { renderMessages } from './render.js';
import { type AgentMask, maskedSoftmax, resolveMask } from './router.js';
import { type FeatureVector, featureLength, isSparseVector } from './sparse.js';
import { checkTrainingTable } from './training-table.js';

/** A fitted kNN index: unit-normalised training vectors and their outcomes. */
export interface KnnIndex {
  readonly agents: readonly string[];
  readonly dimension: number;
  readonly k: number;
  readonly weighting: 'uniform' | 'similarity';
  /** Number of training prompts. */
  readonly size: number;
  /** Predicted quality of every agent for one feature vector (dense or sparse). */
  predict(features: FeatureVector): Float64Array;
}

/** Settings of {@link trainKnnRouter}. */
export interface TrainKnnSettings {
  features: readonly FeatureVector[];
  /** `outcomes[prompt][agent]` (finite). */
  outcomes: readonly (readonly number[])[];
  agents: readonly string[];
  /** Candidate k values (default 5, 10, 20, 40, 80, 160; those above n − 1 are dropped). */
  ks?: readonly number[];
  weighting?: 'uniform' | 'similarity';
  /**
   * Cross-validation criterion: `'mse'` (default) — squared error of the predicted qualities;
   * `'reward'` — mean outcome of the argmax agent.
   */
  criterion?: 'mse' | 'reward';
  /** Leave-one-out queries used for the choice of k (default 1,000; all prompts when fewer). */
  cvQueries?: number;
  /** Draws the query subset. */
  random: Random;
}

/** Result of {@link trainKnnRouter}. */
export interface TrainKnnResult {
  index: KnnIndex;
  /** Cross-validation loss per k (lower is better; the negated reward for `criterion: 'reward'`). */
  cv: { k: number; loss: number }[];
}

/**
 * Builds a kNN index with a fixed k. An outcome may be NaN (not recorded): it is left out of that agent's
 * mean, and an agent with no recorded outcome among the neighbours predicts 0.
 *
 * @example
 * ```ts
 * const index = createKnnIndex({ features, outcomes, agents: ['gpt4', 'mixtral'], k: 20 });
 * index.predict(backbone.embedSync('user: What is 17 * 23?')); // mean outcome of each agent on 20 neighbours
 * ```
 */
export function createKnnIndex(settings: {
  features: readonly FeatureVector[];
  outcomes: readonly (readonly number[])[];
  agents: readonly string[];
  k: number;
  weighting?: 'uniform' | 'similarity';
}): KnnIndex {
  const data = prepare(settings.features, settings.outcomes, settings.agents, true);
  return indexOver(data, settings.agents, settings.k, settings.weighting ?? 'uniform');
}

function indexOver(
  data: KnnData,
  agents: readonly string[],
  k: number,
  weighting: 'uniform' | 'similarity',
): KnnIndex {
  if (!Number.isInteger(k) || k < 1) {
    throw new InvalidArgumentError({ argument: 'k', message: `k must be a positive integer, got ${k}` });
  }
  const kk = Math.min(k, data.n);
  const scores = new Float64Array(data.n);
  const top = new Int32Array(kk);
  return {
    agents: [...agents],
    dimension: data.d,
    k,
    weighting,
    size: data.n,
    predict(features) {
      const length = featureLength(features);
      if (length !== data.d) {
        throw new ShapeMismatchError({
          message: `feature vector has ${length} values, the index ${data.d}`,
          expected: `${data.d}`,
          actual: `${length}`,
        });
      }
      similarities(data, features, scores, -1);
      const filled = topKIndices(scores, kk, top);
      const out = new Float64Array(data.agentCount);
      neighbourMeans(data, top, filled, scores, weighting, out);
      return out;
    },
  };
}

/**
 * Chooses k by leave-one-out cross-validation on a seeded subset of the training prompts, then returns the
 * index over all of them.
 *
 * @example
 * ```ts
 * const { index } = trainKnnRouter({ features, outcomes, agents, random: createRng(1) });
 * const router = createKnnRouter({ backbone, index });
 * ```
 */
export function trainKnnRouter(settings: TrainKnnSettings): TrainKnnResult {
  const data = prepare(settings.features, settings.outcomes, settings.agents, false);
  const n = data.n;
  if (n < 2) throw new InvalidArgumentError({ argument: 'features', message: 'need at least 2 prompts' });
  const ks = [...(settings.ks ?? [5, 10, 20, 40, 80, 160])].filter((k) => k <= n - 1).sort((a, b) => a - b);
  if (ks.length === 0) ks.push(1);
  if (ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new InvalidArgumentError({ argument: 'ks', message: 'ks must be positive integers' });
  }
  const weighting = settings.weighting ?? 'uniform';
  const criterion = settings.criterion ?? 'mse';
  const queryCount = Math.min(n, settings.cvQueries ?? 1000);
  // A seeded partial Fisher–Yates shuffle picks the queries.
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < queryCount; i++) {
    const j = i + Math.min(n - 1 - i, Math.floor(settings.random() * (n - i)));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const kMax = ks.at(-1)!;
  const scores = new Float64Array(n);
  const top = new Int32Array(kMax);
  const losses = new Float64Array(ks.length);
  const prediction = new Float64Array(data.agentCount);
  const m = data.agentCount;
  for (let q = 0; q < queryCount; q++) {
    const p = order[q]!;
    similarities(data, trainingRow(data, p), scores, p);
    const filled = topKIndices(scores, kMax, top);
    ks.forEach((k, ki) => {
      neighbourMeans(data, top, Math.min(k, filled), scores, weighting, prediction);
      if (criterion === 'mse') {
        let s = 0;
        for (let a = 0; a < m; a++) s += (prediction[a]! - data.outcomes[p * m + a]!) ** 2;
        losses[ki]! += s / m;
      } else {
        let best = 0;
        for (let a = 1; a < m; a++) if (prediction[a]! > prediction[best]!) best = a;
        losses[ki]! -= data.outcomes[p * m + best]!;
      }
    });
  }
  const cv = ks.map((k, ki) => ({ k, loss: losses[ki]! / queryCount }));
  let best = 0;
  for (let i = 1; i < cv.length; i++) if (cv[i]!.loss < cv[best]!.loss) best = i;
  return { index: indexOver(data, settings.agents, cv[best]!.k, weighting), cv };
}

/** A kNN router bound to a backbone (the one its index was built with). */
export interface KnnRouter {
  readonly backbone: Backbone;
  readonly index: KnnIndex;
  readonly agents: readonly string[];
  route(messages: readonly ChatMessage[] | string, options?: { mask?: AgentMask }): Promise<RoutingDecision>;
  routeSync(messages: readonly ChatMessage[] | string, options?: { mask?: AgentMask }): RoutingDecision;
  routeFeatures(features: FeatureVector, options?: { mask?: AgentMask }): RoutingDecision;
}

/**
 * Routes with a kNN index: argmax of the predicted qualities among the unmasked agents (ties → lowest
 * index); `agentLogits` are the predicted qualities, `agentProbabilities` their masked softmax.
 */
export function createKnnRouter(settings: { backbone: Backbone; index: KnnIndex }): KnnRouter {
  const { backbone, index } = settings;
  if (backbone.dimension !== index.dimension) {
    throw new ShapeMismatchError({
      message: `backbone ${backbone.id} has dimension ${backbone.dimension} but the index ${index.dimension}`,
      expected: `${index.dimension}`,
      actual: `${backbone.dimension}`,
    });
  }
  const routeFeatures = (features: FeatureVector, options: { mask?: AgentMask } = {}) =>
    decisionFromScores(index.agents, index.predict(features), options.mask);
  return {
    backbone,
    index,
    agents: index.agents,
    async route(messages, options) {
      const [features] = await backbone.embed([renderMessages(messages)]);
      return routeFeatures(features!, options);
    },
    routeSync(messages, options) {
      if (!isSyncBackbone(backbone)) {
        throw new InvalidArgumentError({
          argument: 'backbone',
          message: `backbone ${backbone.id} has no embedSync`,
        });
      }
      return routeFeatures(embedForHead(backbone, renderMessages(messages)), options);
    },
    routeFeatures,
  };
}

/**
 * A worker-role routing decision from per-agent scores (higher = better): argmax among the unmasked agents
 * (ties → lowest index), probabilities = masked softmax of the scores. Throws `NoAvailableWorkerError` when
 * the mask leaves no agent and `InvalidArgumentError` on a non-finite score.
 */
export function decisionFromScores(
  agents: readonly string[],
  scores: ArrayLike<number>,
  mask?: AgentMask,
): RoutingDecision {
  const available = resolveMask(mask, agents);
  let best = -1;
  for (let a = 0; a < agents.length; a++) {
    if (!Number.isFinite(scores[a]!)) {
      throw new InvalidArgumentError({
        argument: 'scores',
        message: `score of agent ${agents[a]} is not finite`,
      });
    }
    if (available[a] && (best < 0 || scores[a]! > scores[best]!)) best = a;
  }
  if (best < 0) {
    throw new NoAvailableWorkerError({
      message: `no agent available: the mask excludes all ${agents.length} agents`,
    });
  }
  return {
    agentIndex: best,
    agent: agents[best]!,
    role: 'worker',
    agentLogits: Array.from(scores),
    agentProbabilities: maskedSoftmax(scores, available),
  };
}

interface KnnData {
  n: number;
  d: number;
  agentCount: number;
  /** Training vectors as their non-zeros: row `p` is `cols` / `vals` over `[start[p], start[p + 1])`, in order. */
  start: Int32Array;
  cols: Int32Array;
  /** Float32 when every vector is a Float32Array or sparse (the same values, half the memory). */
  vals: Float32Array | Float64Array;
  /** Euclidean norm of each training vector (1 for a zero vector). */
  norms: Float64Array;
  /** n × agents outcomes (NaN: not recorded). */
  outcomes: Float64Array;
  /** Scratch: the query spread out densely (all zeros between queries). */
  query: Float64Array;
}

function prepare(
  features: readonly FeatureVector[],
  outcomes: readonly (readonly number[])[],
  agents: readonly string[],
  missing: boolean,
): KnnData {
  const { n, d, k: m, flat } = checkTrainingTable(features, outcomes, { agentCount: agents.length, missing });
  const start = new Int32Array(n + 1);
  for (let p = 0; p < n; p++) {
    const row = features[p]!;
    let nnz = 0;
    if (isSparseVector(row)) nnz = row.indices.length;
    else for (let i = 0; i < d; i++) if (row[i] !== 0) nnz++;
    start[p + 1] = start[p]! + nnz;
  }
  const cols = new Int32Array(start[n]!);
  const vals = features.every((f) => f instanceof Float32Array || isSparseVector(f))
    ? new Float32Array(start[n]!)
    : new Float64Array(start[n]!);
  const norms = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const row = features[p]!;
    let j = start[p]!;
    if (isSparseVector(row)) {
      cols.set(row.indices, j);
      vals.set(row.values, j);
    } else {
      for (let i = 0; i < d; i++) {
        if (row[i] === 0) continue;
        cols[j] = i;
        vals[j++] = row[i]!;
      }
    }
    let sum = 0;
    for (let t = start[p]!; t < start[p + 1]!; t++) sum += vals[t]! * vals[t]!;
    norms[p] = Math.sqrt(sum) || 1;
  }
  return { n, d, agentCount: m, start, cols, vals, norms, outcomes: flat, query: new Float64Array(d) };
}

/** Training row `p` as a query (its non-zeros). */
function trainingRow(data: KnnData, p: number): { indices: Int32Array; values: ArrayLike<number> } {
  return {
    indices: data.cols.subarray(data.start[p]!, data.start[p + 1]!),
    values: data.vals.subarray(data.start[p]!, data.start[p + 1]!),
  };
}

/**
 * Cosine similarities of `query` (dense, or its non-zeros) to every training vector; `exclude` gets −∞
 * (leave-one-out). The query is spread into the dense scratch, each dot product runs over a training row's
 * non-zeros (the skipped terms are zeros), and the scratch is emptied again.
 */
function similarities(
  data: KnnData,
  query: ArrayLike<number> | { indices: Int32Array; values: ArrayLike<number> },
  out: Float64Array,
  exclude: number,
): void {
  const { n, start, cols, vals, norms } = data;
  const q = data.query;
  let sum = 0;
  const sparse = !('length' in query) || isSparseVector(query);
  if (sparse) {
    const { indices, values } = query as { indices: Int32Array; values: ArrayLike<number> };
    for (let t = 0; t < indices.length; t++) {
      q[indices[t]!] = values[t]!;
      sum += values[t]! * values[t]!;
    }
  } else {
    const dense = query as ArrayLike<number>;
    for (let i = 0; i < dense.length; i++) {
      q[i] = dense[i]!;
      sum += dense[i]! * dense[i]!;
    }
  }
  const queryNorm = Math.sqrt(sum) || 1;
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let j = start[p]!, end = start[p + 1]!; j < end; j++) s += q[cols[j]!]! * vals[j]!;
    out[p] = s / (queryNorm * norms[p]!);
  }
  if (sparse) {
    const { indices } = query as { indices: Int32Array };
    for (let t = 0; t < indices.length; t++) q[indices[t]!] = 0;
  } else q.fill(0);
  if (exclude >= 0) out[exclude] = Number.NEGATIVE_INFINITY;
}

/**
 * Writes the indices of the `k` largest scores into `top`, best first (ties → lower index; −∞ scores are
 * skipped), by partial insertion (k is small). Returns how many were filled.
 */
export function topKIndices(scores: Float64Array, k: number, top: Int32Array): number {
  let filled = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s === Number.NEGATIVE_INFINITY) continue;
    if (filled < k) {
      let j = filled++;
      while (j > 0 && scores[top[j - 1]!]! < s) {
        top[j] = top[j - 1]!;
        j--;
      }
      top[j] = i;
    } else if (s > scores[top[k - 1]!]!) {
      let j = k - 1;
      while (j > 0 && scores[top[j - 1]!]! < s) {
        top[j] = top[j - 1]!;
        j--;
      }
      top[j] = i;
    }
  }
  return filled;
}

function neighbourMeans(
  data: KnnData,
  top: Int32Array,
  count: number,
  scores: Float64Array,
  weighting: 'uniform' | 'similarity',
  out: Float64Array,
): void {
  const m = data.agentCount;
  out.fill(0);
  const totals = new Float64Array(m);
  for (let j = 0; j < count; j++) {
    const p = top[j]!;
    const w = weighting === 'uniform' ? 1 : Math.max(scores[p]!, 0);
    for (let a = 0; a < m; a++) {
      const v = data.outcomes[p * m + a]!;
      if (Number.isNaN(v)) continue;
      out[a]! += w * v;
      totals[a]! += w;
    }
  }
  for (let a = 0; a < m; a++) out[a] = totals[a]! > 0 ? out[a]! / totals[a]! : 0;
}
