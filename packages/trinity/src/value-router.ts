/**
 * A router over a supervised value head (`trainValueHead`) with the cost–quality knob and request
 * metadata:
 *
 * - predicted quality per agent = the head's agent logits (+ bias), through the head's `valueLink`;
 * - knob, per call or as defaults: `lambda` with `prices` → argmax quality − λ·price; or `threshold` (from
 *   `calibrateStrongShare` on training margins) with `strong` → the strong agent only above the threshold;
 *   neither → argmax predicted quality;
 * - `category` / tags: appended as `categoryFeatures` when the head was trained with a category block
 *   (its backbone id ends in `&category-v1:d<n>`), ignored otherwise.
 */
import {
  type Backbone,
  type ChatMessage,
  InvalidArgumentError,
  type RoutingDecision,
  ShapeMismatchError,
} from '@openfugu/schema';
import { createBackboneFromId } from './backbones/concat.js';
import { isSyncBackbone } from './backbones/types.js';
import { checkPriceKnob, routeByThreshold } from './cost-knob.js';
import { headLogits, type RouterHead } from './head.js';
import { decisionFromScores } from './knn.js';
import { parseCategoryId, withCategoryFeatures } from './metadata.js';
import { renderMessages } from './render.js';
import { type AgentMask, resolveMask } from './router.js';
import { predictQuality } from './value-head.js';

/** Knob settings (defaults at creation, overridable per call). */
export interface ValueRouteKnob {
  /** Price weight λ ≥ 0 (needs `prices`). */
  lambda?: number;
  /** One price per agent (head row order), e.g. USD per 1M tokens. */
  prices?: readonly number[];
  /** Strong agent index and margin threshold (the calibrated "at most X % to the strong model" form). */
  strong?: number;
  threshold?: number;
}

/** Options of one routing call. */
export interface ValueRouteOptions extends ValueRouteKnob {
  mask?: AgentMask;
  /** Request metadata: a category or tags (used only by heads trained with a category block). */
  category?: string | readonly string[];
}

/** A value-head router. */
export interface ValueRouter {
  readonly backbone: Backbone;
  readonly head: RouterHead;
  readonly agents: readonly string[];
  /** Size of the category block the head was trained with (0: categories are ignored). */
  readonly categoryDimension: number;
  /** Predicted quality of each agent (head row order). */
  predict(text: string, category?: string | readonly string[]): Float64Array;
  routeSync(messages: readonly ChatMessage[] | string, options?: ValueRouteOptions): RoutingDecision;
  route(messages: readonly ChatMessage[] | string, options?: ValueRouteOptions): Promise<RoutingDecision>;
}

/**
 * Creates a value-head router. `backbone` defaults to the one rebuilt from the head's backbone id.
 *
 * @example
 * ```ts
 * const router = createValueRouter({ head, prices: [10, 0.6] });
 * router.routeSync('What is 2 + 2?', { lambda: 0.01 }).agent;
 * ```
 */
export function createValueRouter(
  settings: { head: RouterHead; backbone?: Backbone; agents?: readonly string[] } & ValueRouteKnob,
): ValueRouter {
  const { head } = settings;
  const agents = settings.agents ?? head.agents;
  if (agents === undefined || agents.length !== head.agentCount) {
    throw new ShapeMismatchError({
      message: `createValueRouter needs ${head.agentCount} agent ids (settings.agents or head.agents)`,
      expected: `${head.agentCount}`,
      actual: `${agents?.length ?? 0}`,
    });
  }
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
  if (backbone.dimension + categoryDimension !== head.dimension) {
    throw new ShapeMismatchError({
      message: `backbone ${backbone.id} (${backbone.dimension}) + category block (${categoryDimension}) ≠ head dimension ${head.dimension}`,
      expected: `${head.dimension}`,
      actual: `${backbone.dimension + categoryDimension}`,
    });
  }
  const qualities = (vector: Float32Array, category: ValueRouteOptions['category']) =>
    predictQuality(
      head,
      headLogits(head, withCategoryFeatures(vector, category, categoryDimension)).agentLogits,
    );
  const decide = (q: Float64Array, options: ValueRouteOptions): RoutingDecision => {
    const lambda = options.lambda ?? settings.lambda;
    const prices = options.prices ?? settings.prices;
    const strong = options.strong ?? settings.strong;
    const threshold = options.threshold ?? settings.threshold;
    const available = resolveMask(options.mask, agents);
    let scores: Float64Array = q;
    if (lambda !== undefined && lambda > 0) {
      if (prices === undefined) {
        throw new InvalidArgumentError({
          argument: 'prices',
          message: 'lambda > 0 needs one price per agent',
        });
      }
      checkPriceKnob(q.length, prices, lambda, available);
      scores = Float64Array.from(q, (v, a) => v - lambda * prices[a]!);
    } else if (strong !== undefined && threshold !== undefined) {
      const choice = routeByThreshold(q, strong, threshold, available);
      // The choice follows the threshold; the decision's scores stay the predicted qualities (so its argmax
      // may differ from the chosen agent).
      if (choice >= 0) {
        const decision = decisionFromScores(agents, q, available);
        decision.agentIndex = choice;
        decision.agent = agents[choice]!;
        return decision;
      }
    }
    return decisionFromScores(agents, scores, available);
  };
  const sync = backbone;
  return {
    backbone,
    head,
    agents: [...agents],
    categoryDimension,
    predict(text, category) {
      if (!isSyncBackbone(sync)) {
        throw new InvalidArgumentError({
          argument: 'backbone',
          message: `backbone ${sync.id} has no embedSync`,
        });
      }
      return qualities(sync.embedSync(text), category);
    },
    routeSync(messages, options = {}) {
      if (!isSyncBackbone(sync)) {
        throw new InvalidArgumentError({
          argument: 'backbone',
          message: `backbone ${sync.id} has no embedSync`,
        });
      }
      return decide(qualities(sync.embedSync(renderMessages(messages)), options.category), options);
    },
    async route(messages, options = {}) {
      const [vector] = await sync.embed([renderMessages(messages)]);
      return decide(qualities(vector!, options.category), options);
    },
  };
}
