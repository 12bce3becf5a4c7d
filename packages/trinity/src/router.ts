/**
 * The TRINITY router: backbone → bias-free linear head → (agent, role). Agent and role logits get separate
 * softmaxes; unavailable agents are masked to −∞ before the softmax (this is how k-of-n pools work).
 * Argmax by default; sampling with an injected `Random` when `sample` is set.
 */
import {
  type AbortSignalLike,
  type Backbone,
  type ChatMessage,
  InvalidArgumentError,
  NoAvailableWorkerError,
  type Random,
  ROLES,
  type Role,
  type RoutingDecision,
  ShapeMismatchError,
} from '@openfugu/schema';
import { isSelfDescribingBackboneId } from './backbones/concat.js';
import { embedForHead, isSyncBackbone } from './backbones/types.js';
import { headLogits, type RouterHead } from './head.js';
import { parseCategoryId } from './metadata.js';
import { renderMessages } from './render.js';
import type { FeatureVector } from './sparse.js';

/** Which agents may be chosen: one boolean per agent (true = available) or a subset of agent ids. */
export type AgentMask = readonly boolean[] | readonly string[];

/** Options of one routing call. */
export interface RouteOptions {
  /** Restrict the pool (k-of-n). A mask with no available agent throws `NoAvailableWorkerError`. */
  mask?: AgentMask;
  /** Sample from the softmaxes instead of taking the argmax. Default false. Needs `random`. */
  sample?: boolean;
  /** Softmax temperature (> 0). Default 1. Affects probabilities and sampling, not the argmax. */
  temperature?: number;
  /** Uniform [0, 1) generator used when sampling. */
  random?: Random;
  /** Abort signal passed to the backbone. */
  signal?: AbortSignalLike;
}

/** Settings of {@link createRouter}. */
export interface RouterSettings {
  backbone: Backbone;
  head: RouterHead;
  /** Agent ids in head-row order; default `head.agents`. */
  agents?: readonly string[];
}

/** A router bound to a backbone, a head and a pool. */
export interface Router {
  readonly backbone: Backbone;
  readonly head: RouterHead;
  readonly agents: readonly string[];
  /** Renders messages (`role: content` lines), embeds them and routes. */
  route(messages: readonly ChatMessage[] | string, options?: RouteOptions): Promise<RoutingDecision>;
  /** Synchronous `route` for backbones with `embedSync` (the hashing and GloVe backbones); throws otherwise. */
  routeSync(
    messages: readonly ChatMessage[] | string,
    options?: Omit<RouteOptions, 'signal'>,
  ): RoutingDecision;
  /** Routes a precomputed feature vector. */
  routeFeatures(features: FeatureVector, options?: Omit<RouteOptions, 'signal'>): RoutingDecision;
}

/**
 * Resolves a mask to one boolean per agent. Unknown ids and wrong lengths are programmer errors.
 *
 * @example
 * ```ts
 * resolveMask(['a', 'c'], ['a', 'b', 'c']) // [true, false, true]
 * ```
 */
export function resolveMask(mask: AgentMask | undefined, agents: readonly string[]): boolean[] {
  if (mask === undefined) return agents.map(() => true);
  if (mask.length > 0 && typeof mask[0] === 'string') {
    const ids = new Set(mask as readonly string[]);
    for (const id of ids) {
      if (!agents.includes(id)) {
        throw new InvalidArgumentError({ argument: 'mask', message: `mask names unknown agent '${id}'` });
      }
    }
    return agents.map((a) => ids.has(a));
  }
  if (mask.length === 0) return agents.map(() => false);
  if (mask.length !== agents.length) {
    throw new ShapeMismatchError({
      message: `mask has ${mask.length} entries but the pool has ${agents.length} agents`,
      expected: `${agents.length}`,
      actual: `${mask.length}`,
    });
  }
  return (mask as readonly boolean[]).map((m) => m === true);
}

/**
 * Softmax of `logits / temperature` over the entries where `mask` is true (others get probability 0).
 * Numerically stable (max subtracted). Returns all zeros when nothing is available.
 *
 * @example
 * ```ts
 * maskedSoftmax([0, 0], [true, false]) // [1, 0]
 * ```
 */
export function maskedSoftmax(
  logits: ArrayLike<number>,
  mask?: readonly boolean[],
  temperature = 1,
): number[] {
  const n = logits.length;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) if ((mask?.[i] ?? true) && logits[i]! > max) max = logits[i]!;
  const out = new Array<number>(n).fill(0);
  if (max === Number.NEGATIVE_INFINITY) return out;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (!(mask?.[i] ?? true)) continue;
    const e = Math.exp((logits[i]! - max) / temperature);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[i]! /= sum;
  return out;
}

function pick(
  probabilities: readonly number[],
  logits: ArrayLike<number>,
  mask: readonly boolean[] | undefined,
  sample: boolean,
  random: Random | undefined,
): number {
  if (sample) {
    const u = random!();
    let acc = 0;
    let last = -1;
    for (let i = 0; i < probabilities.length; i++) {
      if (probabilities[i]! <= 0) continue;
      last = i;
      acc += probabilities[i]!;
      if (u < acc) return i;
    }
    return last;
  }
  let best = -1;
  for (let i = 0; i < logits.length; i++) {
    if (!(mask?.[i] ?? true)) continue;
    if (best < 0 || logits[i]! > logits[best]!) best = i;
  }
  return best;
}

/**
 * Routes one feature vector with a head: masked agent softmax and role softmax, argmax or sample.
 * Roles default to `worker` when the head has no role rows. Throws `NoAvailableWorkerError` when the
 * mask leaves no agent.
 *
 * @example
 * ```ts
 * const decision = routeWithHead(head, ['a', 'b'], features, { mask: ['b'] });
 * ```
 */
export function routeWithHead(
  head: RouterHead,
  agents: readonly string[],
  features: FeatureVector,
  options: Omit<RouteOptions, 'signal'> = {},
): RoutingDecision {
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new InvalidArgumentError({
      argument: 'temperature',
      message: `temperature must be a finite number > 0, got ${temperature}`,
    });
  }
  const sample = options.sample ?? false;
  if (sample && options.random === undefined) {
    throw new InvalidArgumentError({ argument: 'random', message: 'sampling needs a `random` generator' });
  }
  const mask = resolveMask(options.mask, agents);
  if (!mask.some(Boolean)) {
    throw new NoAvailableWorkerError({
      message: `no agent available: the mask excludes all ${agents.length} agents`,
    });
  }
  const { agentLogits, roleLogits } = headLogits(head, features);
  for (let i = 0; i < agentLogits.length; i++) {
    if (!Number.isFinite(agentLogits[i]!)) {
      throw new InvalidArgumentError({
        argument: 'features',
        message: 'head produced a non-finite logit (NaN or infinite features or weights)',
      });
    }
  }
  const agentProbabilities = maskedSoftmax(agentLogits, mask, temperature);
  const agentIndex = pick(agentProbabilities, agentLogits, mask, sample, options.random);
  const decision: RoutingDecision = {
    agentIndex,
    agent: agents[agentIndex]!,
    role: 'worker',
    agentLogits: Array.from(agentLogits),
    agentProbabilities,
  };
  return head.roleCount > 0 ? Object.assign(decision, decideRole(roleLogits, options)) : decision;
}

/**
 * The role part of a routing decision from a head's three role logits (Worker, Thinker, Verifier): softmax at
 * `temperature`, argmax (ties → lowest row) or a sample with `random` when `sample` is set.
 *
 * @example
 * ```ts
 * decideRole([0, -1, 1]).role; // 'verifier'
 * ```
 */
export function decideRole(
  roleLogits: ArrayLike<number>,
  options: Pick<RouteOptions, 'sample' | 'temperature' | 'random'> = {},
): Required<Pick<RoutingDecision, 'role' | 'roleLogits' | 'roleProbabilities'>> {
  const temperature = options.temperature ?? 1;
  const roleProbabilities = maskedSoftmax(roleLogits, undefined, temperature);
  const roleIndex = pick(roleProbabilities, roleLogits, undefined, options.sample ?? false, options.random);
  return { role: ROLES[roleIndex] as Role, roleLogits: Array.from(roleLogits), roleProbabilities };
}

/**
 * Creates a router. `agents` (or `head.agents`) must list one id per agent row.
 *
 * @example
 * ```ts
 * const router = createRouter({ backbone: createHashingBackbone(), head, agents: ['small', 'large'] });
 * const decision = await router.route([{ role: 'user', content: 'Prove that √2 is irrational.' }]);
 * decision.agent; // 'large'
 * ```
 */
export function createRouter(settings: RouterSettings): Router {
  const { backbone, head } = settings;
  const ids = checkRouterFit({ backbone, head, ...(settings.agents ? { agents: settings.agents } : {}) });
  return {
    backbone,
    head,
    agents: ids,
    async route(messages, options = {}) {
      const [features] = await backbone.embed(
        [renderMessages(messages)],
        options.signal === undefined ? undefined : { signal: options.signal },
      );
      return routeWithHead(head, ids, features!, options);
    },
    routeSync(messages, options = {}) {
      if (!isSyncBackbone(backbone)) {
        throw new InvalidArgumentError({
          argument: 'backbone',
          message: `backbone ${backbone.id} has no embedSync; use route()`,
        });
      }
      return routeWithHead(head, ids, embedForHead(backbone, renderMessages(messages)), options);
    },
    routeFeatures(features, options = {}) {
      return routeWithHead(head, ids, features, options);
    },
  };
}

/**
 * Checks that a head, a backbone and a pool fit together and returns the agent ids (a copy of `agents`, or of
 * `head.agents`): one unique id per agent row, `backbone.dimension + categoryDimension = head.dimension`, and —
 * for self-describing backbone ids (hashing, concat) — the backbone the head records (its text part, without
 * a request-category suffix) is the one given. Hashing backbones of different versions or settings give
 * unrelated vectors of the same dimension: a head trained on one must not silently read the other's (other
 * backbones' ids may name local paths, so only self-describing ids are compared). Used by `createRouter` and
 * `createValueRouter`; call it directly to validate a configuration without building a router.
 *
 * @example
 * ```ts
 * checkRouterFit({ head, backbone: createBackboneFromId(head.backboneId!), agents: ['small', 'large'] });
 * ```
 */
export function checkRouterFit(settings: {
  backbone: Backbone;
  head: RouterHead;
  agents?: readonly string[];
  /** Size of a request-category block appended after the backbone's vector (default 0). */
  categoryDimension?: number;
}): string[] {
  const { backbone, head } = settings;
  const agents = settings.agents ?? head.agents;
  if (agents === undefined) {
    throw new InvalidArgumentError({
      argument: 'agents',
      message: 'the router needs agent ids (settings.agents or head.agents)',
    });
  }
  if (agents.length !== head.agentCount) {
    throw new ShapeMismatchError({
      message: `${agents.length} agent ids for a head with ${head.agentCount} agent rows`,
      expected: `${head.agentCount}`,
      actual: `${agents.length}`,
    });
  }
  if (new Set(agents).size !== agents.length) {
    throw new InvalidArgumentError({ argument: 'agents', message: 'agent ids must be unique' });
  }
  const categoryDimension = settings.categoryDimension ?? 0;
  if (backbone.dimension + categoryDimension !== head.dimension) {
    throw new ShapeMismatchError({
      message:
        categoryDimension === 0
          ? `backbone ${backbone.id} has dimension ${backbone.dimension} but the head expects ${head.dimension}`
          : `backbone ${backbone.id} (${backbone.dimension}) + category block (${categoryDimension}) ≠ head dimension ${head.dimension}`,
      expected: `${head.dimension}`,
      actual: `${backbone.dimension + categoryDimension}`,
    });
  }
  const recorded = head.backboneId === undefined ? undefined : parseCategoryId(head.backboneId).backboneId;
  if (
    recorded !== undefined &&
    isSelfDescribingBackboneId(recorded) &&
    isSelfDescribingBackboneId(backbone.id) &&
    recorded !== backbone.id
  ) {
    throw new InvalidArgumentError({
      argument: 'backbone',
      message:
        `the head was trained on backbone ${recorded} but the router was given ${backbone.id}; ` +
        'rebuild the backbone with createBackboneFromId(head.backboneId) (hashing ids: createHashingBackboneFromId)',
    });
  }
  return [...agents];
}
