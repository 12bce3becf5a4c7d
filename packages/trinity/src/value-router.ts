/**
 * A router over a supervised value head (`trainValueHead`) with the cost–quality knob and request
 * metadata:
 *
 * - predicted quality per agent = the head's agent logits (+ bias), through the head's `valueLink`;
 * - knob, per call or as defaults: `lambda` with `prices` → argmax quality − λ·price; or `threshold` (from
 *   `calibrateStrongShare` on training margins, or {@link ValueRouter.calibrateThreshold}) with `strong` →
 *   the strong agent only above the threshold; neither → argmax predicted quality. The decision's
 *   `agentLogits` are the scores the choice maximises (quality − λ·price; quality with the threshold
 *   subtracted from the strong agent's, `thresholdScores`), so they always agree with the chosen agent;
 * - `category` / tags: appended as `categoryFeatures` when the head was trained with a category block
 *   (its backbone id ends in `&category-v1:d<n>`), ignored otherwise;
 * - roles: a head with role rows (Worker, Thinker, Verifier) also gives the decision's role (argmax), as
 *   `createRouter` does, so the router can drive the coordinator loop.
 */
import {
  type AbortSignalLike,
  type Backbone,
  type ChatMessage,
  InvalidArgumentError,
  type RoutingDecision,
} from '@openfugu/schema';
import { createBackboneFromId } from './backbones/concat.js';
import { embedForHead, isSyncBackbone } from './backbones/types.js';
import {
  calibrateStrongShare,
  checkPriceKnob,
  routeByThreshold,
  strongMargin,
  thresholdScores,
} from './cost-knob.js';
import { headLogits, type RouterHead } from './head.js';
import { decisionFromScores } from './knn.js';
import { parseCategoryId, withCategoryFeatures } from './metadata.js';
import { renderMessages } from './render.js';
import { type AgentMask, checkRouterFit, decideRole, resolveMask } from './router.js';
import type { SparseVector } from './sparse.js';
import { predictQuality } from './value-head.js';

/** Knob settings (defaults at creation, overridable per call). */
export interface ValueRouteKnob {
  /** Price weight λ ≥ 0 (needs `prices`). */
  lambda?: number;
  /** One price per agent (head row order), e.g. USD per 1M tokens. */
  prices?: readonly number[];
  /**
   * Strong agent index of the calibrated "at most X % to the strong model" form (default: the most
   * expensive agent when `prices` are set).
   */
  strong?: number;
  /** Margin threshold of the calibrated form (`calibrateThreshold`); used when λ is 0 or unset. */
  threshold?: number;
}

/** Options of one routing call. */
export interface ValueRouteOptions extends ValueRouteKnob {
  mask?: AgentMask;
  /** Request metadata: a category or tags (used only by heads trained with a category block). */
  category?: string | readonly string[];
}

/** Options of one asynchronous routing call. */
export interface ValueRouteAsyncOptions extends ValueRouteOptions {
  /** Abort signal passed to an asynchronous backbone. */
  signal?: AbortSignalLike;
}

/** Options of {@link ValueRouter.calibrateThreshold}. */
export interface CalibrateThresholdOptions {
  /** Strong agent (default: the router's `strong`, else the most expensive agent). */
  strong?: number;
  /** Category of the calibration prompts (heads with a category block). */
  category?: string | readonly string[];
  /**
   * Lowest threshold returned (default 0: the strong agent is never chosen over one predicted better only to
   * fill the share, so a share above the λ = 0 share gives the λ = 0 routing). `-Infinity`: RouteLLM's plain
   * quantile.
   */
  floor?: number;
}

/** A value-head router. */
export interface ValueRouter {
  readonly backbone: Backbone;
  readonly head: RouterHead;
  readonly agents: readonly string[];
  /** Size of the category block the head was trained with (0: categories are ignored). */
  readonly categoryDimension: number;
  /** Predicted quality of each agent (head row order) for a text as the router reads it (`user: …`). */
  predict(text: string, category?: string | readonly string[]): Float64Array;
  /**
   * The margin threshold that sends at most `maxShare` of `prompts` (texts as the router reads them, e.g.
   * the training prompts) to the strong agent (`calibrateStrongShare` on their margins), not below
   * `options.floor`. The margins of the last prompt list are kept, so several shares over the same list
   * embed it once.
   */
  calibrateThreshold(
    prompts: readonly string[],
    maxShare: number,
    options?: CalibrateThresholdOptions,
  ): number;
  routeSync(messages: readonly ChatMessage[] | string, options?: ValueRouteOptions): RoutingDecision;
  /** `routeSync` for any backbone (the synchronous embedding when the backbone has one). */
  route(
    messages: readonly ChatMessage[] | string,
    options?: ValueRouteAsyncOptions,
  ): Promise<RoutingDecision>;
}

/**
 * Creates a value-head router. `backbone` defaults to the one rebuilt from the head's backbone id. Checks the
 * fit of head, backbone and agents as `createRouter` does (`checkRouterFit`).
 *
 * @example
 * ```ts
 * const router = createValueRouter({ head, prices: [10, 0.6] });
 * router.routeSync('What is 2 + 2?', { lambda: 0.01 }).agent;
 * const threshold = router.calibrateThreshold(trainingPrompts, 0.3); // ≤ 30 % to the strong (dearest) agent
 * router.routeSync('What is 2 + 2?', { threshold }).agent;
 * ```
 */
export function createValueRouter(
  settings: { head: RouterHead; backbone?: Backbone; agents?: readonly string[] } & ValueRouteKnob,
): ValueRouter {
  const { head } = settings;
  const { backboneId, categoryDimension } = parseCategoryId(head.backboneId ?? '');
  let backbone = settings.backbone;
  if (backbone === undefined) {
    if (head.backboneId === undefined) {
      throw new InvalidArgumentError({
        argument: 'backbone',
        message: 'the head records no backbone id: pass a backbone',
      });
    }
    backbone = createBackboneFromId(backboneId);
  }
  const agents = checkRouterFit({
    backbone,
    head,
    categoryDimension,
    ...(settings.agents ? { agents: settings.agents } : {}),
  });
  const qualities = (vector: Float32Array | SparseVector, category: ValueRouteOptions['category']) =>
    headQualities(head, withCategoryFeatures(vector, category, categoryDimension));
  const strongOf = (options: ValueRouteKnob): number | undefined => {
    const strong = options.strong ?? settings.strong;
    if (strong !== undefined) return strong;
    const prices = options.prices ?? settings.prices;
    return prices === undefined ? undefined : mostExpensive(prices);
  };
  const decide = (q: Float64Array, roleLogits: Float64Array, options: ValueRouteOptions): RoutingDecision => {
    const lambda = options.lambda ?? settings.lambda;
    const prices = options.prices ?? settings.prices;
    const threshold = options.threshold ?? settings.threshold;
    const strong = threshold === undefined ? undefined : strongOf(options);
    const available = resolveMask(options.mask, agents);
    let decision: RoutingDecision;
    if (lambda !== undefined && lambda > 0) {
      if (prices === undefined) {
        throw new InvalidArgumentError({
          argument: 'prices',
          message: 'lambda > 0 needs one price per agent',
        });
      }
      checkPriceKnob(q.length, prices, lambda, available);
      decision = decisionFromScores(
        agents,
        Float64Array.from(q, (v, a) => v - lambda * prices[a]!),
        available,
      );
    } else if (strong !== undefined && threshold !== undefined) {
      // The reported scores carry the threshold, so the chosen agent has the largest of them; on an exact tie
      // (margin = threshold) the rule, not the lower index, decides.
      decision = decisionFromScores(agents, thresholdScores(q, strong, threshold), available);
      const choice = routeByThreshold(q, strong, threshold, available);
      decision.agentIndex = choice;
      decision.agent = agents[choice]!;
    } else decision = decisionFromScores(agents, q, available);
    return head.roleCount > 0 ? Object.assign(decision, decideRole(roleLogits)) : decision;
  };
  const route = (vector: Float32Array | SparseVector, options: ValueRouteOptions): RoutingDecision => {
    const logits = headLogits(head, withCategoryFeatures(vector, options.category, categoryDimension));
    return decide(predictQuality(head, logits.agentLogits), logits.roleLogits, options);
  };
  const source = backbone;
  // A wide backbone's non-zeros (its sparse embedding) are all the head reads.
  const embedSync = (text: string): Float32Array | SparseVector => {
    if (!isSyncBackbone(source)) {
      throw new InvalidArgumentError({
        argument: 'backbone',
        message: `backbone ${source.id} has no embedSync`,
      });
    }
    return embedForHead(source, text);
  };
  const predict = (text: string, category?: string | readonly string[]): Float64Array =>
    qualities(embedSync(text), category);
  let calibrated:
    | { prompts: readonly string[]; strong: number; category: unknown; margins: Float64Array }
    | undefined;
  return {
    backbone,
    head,
    agents,
    categoryDimension,
    predict,
    calibrateThreshold(prompts, maxShare, options = {}) {
      const strong = options.strong ?? strongOf({});
      if (strong === undefined || !Number.isInteger(strong) || strong < 0 || strong >= agents.length) {
        throw new InvalidArgumentError({
          argument: 'strong',
          message: `calibrateThreshold needs a strong agent index in [0, ${agents.length - 1}] (options.strong, settings.strong or prices), got ${strong}`,
        });
      }
      if (
        calibrated?.prompts !== prompts ||
        calibrated.strong !== strong ||
        calibrated.category !== options.category
      ) {
        const margins = Float64Array.from(prompts, (text) =>
          strongMargin(predict(text, options.category), strong),
        );
        calibrated = { prompts, strong, category: options.category, margins };
      }
      return Math.max(options.floor ?? 0, calibrateStrongShare(calibrated.margins, maxShare));
    },
    routeSync(messages, options = {}) {
      return route(embedSync(renderMessages(messages)), options);
    },
    async route(messages, options = {}) {
      const text = renderMessages(messages);
      if (isSyncBackbone(source)) return route(embedSync(text), options);
      const [vector] = await source.embed(
        [text],
        options.signal === undefined ? undefined : { signal: options.signal },
      );
      return route(vector!, options);
    },
  };
}

/** Predicted quality per agent of one (full) feature vector. */
function headQualities(head: RouterHead, features: Float32Array | SparseVector): Float64Array {
  return predictQuality(head, headLogits(head, features).agentLogits);
}

/** Index of the largest price (ties → lowest index). */
function mostExpensive(prices: readonly number[]): number {
  let best = 0;
  for (let a = 1; a < prices.length; a++) if (prices[a]! > prices[best]!) best = a;
  return best;
}
