/**
 * Loading recorded outcomes for head training: the outcome table (@openfugu/eval loaders), the pool,
 * an optional held-out test split by prompt, and cached backbone features (@openfugu/eval embedder).
 */
import {
  checkDense,
  createBackboneEmbedder,
  dropIncomplete,
  type Features,
  loadOutcomes,
  type OutcomeTable,
  outcomeAt,
  SUBSET_FEATURES,
  seededRandom,
  selectModels,
  selectPrompts,
  splitByPrompt,
} from '@openfugu/eval';
import { withCategoryFeatures, withCategoryId } from '@openfugu/trinity';

/**
 * The backbones `openfugu-train head` offers (@openfugu/eval's `createBackboneEmbedder` builds them):
 * `concat` is the composed default of issue 16 (hashed words + characters + prompt statistics, dense),
 * `concat-sparse` the wide composition (`createWideConcatBackbone`) as sparse vectors — ridge only.
 */
export const HEAD_BACKBONES = ['hashing', 'glove', 'concat', 'concat-sparse'] as const;
export type HeadBackbone = (typeof HEAD_BACKBONES)[number];

/** Features and a prompts × models reward table for one side of a split. */
export interface RoutingSet<F extends Features = Float32Array> {
  table: OutcomeTable;
  /** Dense vectors, or sparse ones (`concat-sparse`) where the type says so. */
  features: F[];
  /** `outcomes[prompt][model]`. */
  outcomes: number[][];
}

/** Everything a head trainer needs. */
export interface RoutingData<F extends Features = Float32Array> {
  name: string;
  models: string[];
  backboneId: string;
  /** Prompts dropped because a model of the pool had no outcome. */
  dropped: number;
  train: RoutingSet<F>;
  /** Held-out prompts (never seen by the trainer); absent when `holdout` is 0. */
  test?: RoutingSet<F>;
}

/** Options of {@link loadRoutingData}. */
export interface LoadRoutingDataOptions {
  /** An AlpacaEval, RouteLLM or generic outcome directory or file. */
  data: string;
  /** Pool (default: every model of the table). */
  models?: readonly string[];
  backbone?: HeadBackbone;
  /** Fraction of prompt groups held out as a test set (0 = none). Default 0. */
  holdout?: number;
  /** Seed of the held-out split. */
  seed?: number;
  /**
   * `subset`: each prompt's subset label (MMLU subject, AlpacaEval source, a generic CSV's `subset` column) as
   * request metadata — hashed into `SUBSET_FEATURES` (256, @openfugu/eval's) features appended to the text features
   * (trinity `withCategoryFeatures`), and the backbone id gains `&category-v1:d256`, so a server serving the
   * head reads the request's category (body `openfugu.category` / header `x-openfugu-category`) the same way.
   */
  metadata?: 'subset';
}

function rowsOf(table: OutcomeTable): number[][] {
  return table.prompts.map((_, p) => table.models.map((_, m) => outcomeAt(table, p, m)));
}

/**
 * Loads, restricts, splits and embeds recorded outcomes. The features are dense except on `concat-sparse`
 * ({@link denseRoutingData} checks that for the trainers that need dense vectors).
 */
export async function loadRoutingData(options: LoadRoutingDataOptions): Promise<RoutingData<Features>> {
  let table = loadOutcomes(options.data);
  if (options.models !== undefined && options.models.length > 0) table = selectModels(table, options.models);
  const complete = dropIncomplete(table);
  table = complete.table;
  const embedder = await createBackboneEmbedder(options.backbone ?? 'hashing');
  const holdout = options.holdout ?? 0;
  const metadata = options.metadata === 'subset';
  const make = async (part: OutcomeTable): Promise<RoutingSet<Features>> => {
    const text = await embedder.embed(part.prompts.map((p) => p.text));
    return {
      table: part,
      features: metadata
        ? text.map((x, i) => withCategoryFeatures(x, part.prompts[i]!.subset, SUBSET_FEATURES))
        : text,
      outcomes: rowsOf(part),
    };
  };
  const base = {
    name: table.name,
    models: [...table.models],
    backboneId: metadata ? withCategoryId(embedder.id, SUBSET_FEATURES) : embedder.id,
    dropped: complete.dropped,
  };
  if (holdout > 0) {
    const split = splitByPrompt(table, 1 - holdout, seededRandom(options.seed ?? 0));
    return {
      ...base,
      train: await make(selectPrompts(table, split.train)),
      test: await make(selectPrompts(table, split.test)),
    };
  }
  return { ...base, train: await make(table) };
}

/** The same data with dense features; throws (naming `who`) on sparse ones. */
export function denseRoutingData(data: RoutingData<Features>, who: string): RoutingData {
  const dense = (set: RoutingSet<Features>): RoutingSet => ({
    ...set,
    features: [...checkDense(set.features, who)],
  });
  const { test, ...rest } = data;
  return { ...rest, train: dense(data.train), ...(test ? { test: dense(test) } : {}) };
}

/** Mean of each model's outcome, the best single model and the oracle on a set. */
export function referencePoints(set: RoutingSet<Features>): {
  bestSingle: number;
  bestModel: number;
  oracle: number;
} {
  const k = set.outcomes[0]?.length ?? 0;
  const sums = new Float64Array(k);
  let oracle = 0;
  for (const row of set.outcomes) {
    let best = Number.NEGATIVE_INFINITY;
    row.forEach((v, m) => {
      sums[m]! += v;
      if (v > best) best = v;
    });
    oracle += best;
  }
  const n = set.outcomes.length || 1;
  let bestModel = 0;
  for (let m = 1; m < k; m++) if (sums[m]! > sums[bestModel]!) bestModel = m;
  return { bestSingle: sums[bestModel]! / n, bestModel, oracle: oracle / n };
}
