/**
 * The cost–quality knob at serve time (issue 16): a value head's predicted quality per worker, minus
 * λ · price, where prices are the pool's price table normalised by its largest entry (`(input + output) / 2`
 * per worker ÷ the most expensive worker's, as the embedded head is trained), so λ is in quality units per
 * "one most-expensive-model price": λ = 0 picks the best predicted quality, λ = 1 sends a prompt to the most
 * expensive worker only when it is predicted a full quality point better than a free one.
 *
 * - λ comes from the preset (`fugu-fast` / `fugu` / `fugu-max`, or `router.presets` in the config), and per
 *   request from the body field `openfugu.lambda` or the header `x-openfugu-lambda` (body wins), a finite
 *   number in [0, {@link MAX_LAMBDA}].
 * - A preset may instead use RouteLLM's calibrated form, `maxStrongShare`: "at most X of traffic to the most
 *   expensive worker", a margin threshold calibrated (`calibrateThreshold`) on the embedded head's
 *   training prompts, floored at 0 (so a share above the λ = 0 share gives the λ = 0 routing, never more
 *   traffic to a worker predicted worse). A per-request λ overrides it.
 * - Request metadata: `openfugu.category` (a string or up to 16 strings) or the header `x-openfugu-category`
 *   (comma-separated tags) are appended as `categoryFeatures` when the head was trained with a category block
 *   (backbone id `…&category-v1:d<n>`), and ignored otherwise.
 *
 * Roles (Worker / Thinker / Verifier) still come from the head's role rows; only the agent choice is knobbed.
 * The routing itself (scores, threshold, categories, roles, fit checks) is `@openfugu/trinity`'s
 * `createValueRouter`; this module adds what is the server's: price normalisation, presets, the λ range and
 * reading the request's hints.
 */
import { type Backbone, InvalidArgumentError } from '@openfugu/schema';
import { createValueRouter, type Router, type RouterHead } from '@openfugu/trinity';
import { GatewayError } from './errors.js';
import type { GatewayMode } from './modes.js';
import { createTrinityMode } from './trinity-mode.js';

/** Largest λ a request or config may set (λ = 1 already ignores quality gaps below one point). */
export const MAX_LAMBDA = 100;
/** Header carrying a per-request λ. */
export const LAMBDA_HEADER = 'x-openfugu-lambda';
/** Header carrying request categories / tags (comma-separated). */
export const CATEGORY_HEADER = 'x-openfugu-category';
/** Most tags per request, and longest tag. */
const MAX_TAGS = 16;
const MAX_TAG_LENGTH = 64;

/** Per-request routing hints (validated). */
export interface RoutingHints {
  lambda?: number;
  category?: readonly string[];
}

/** What a mode needs of a router: its agents and `route`. */
export type ModeRouter = Pick<Router, 'agents' | 'route'>;

/** A preset: a public model name over the same router with its own knob. */
export interface KnobPreset {
  model: string;
  /** λ on normalised prices (default: the router's default λ). */
  lambda?: number;
  /** Calibrated form: at most this share (0–1) of traffic to the most expensive worker. */
  maxStrongShare?: number;
  description?: string;
}

/** The knob a preset resolves to. */
export interface ResolvedKnob {
  lambda: number;
  /** Set for the calibrated form. */
  threshold?: number;
  maxStrongShare?: number;
}

/** A value head served with the knob. */
export interface KnobRouter {
  readonly agents: readonly string[];
  /** Normalised prices (÷ max), head row order. */
  readonly prices: readonly number[];
  /** Index of the most expensive worker (the "strong" model of the calibrated form). */
  readonly strong: number;
  /** Size of the head's category block (0: categories are ignored). */
  readonly categoryDimension: number;
  /** Resolves a preset; the calibrated form needs calibration prompts. */
  resolve(preset: KnobPreset): ResolvedKnob;
  /** A router for one request: the preset's knob, overridden by the request's hints. */
  forRequest(knob: ResolvedKnob, hints?: RoutingHints): ModeRouter;
  /** Predicted quality per agent (for tests and calibration). */
  predict(text: string, category?: readonly string[]): Float64Array;
}

/**
 * Creates the serve-time knob over a head: a thin layer over `@openfugu/trinity`'s `createValueRouter`
 * (scoring, the calibrated threshold, category features, roles and the fit checks all live there). `prices`
 * are raw per-agent prices (any unit); `calibration` are rendered training prompts (`user: …`) for the
 * calibrated form.
 *
 * @example
 * ```ts
 * const knob = createKnobRouter({ head, backbone, agents, prices: [10, 0.6], defaultLambda: 0.05 });
 * const router = knob.forRequest(knob.resolve({ model: 'fugu-fast', lambda: 0.5 }), { lambda: 0.2 });
 * ```
 */
export function createKnobRouter(settings: {
  head: RouterHead;
  backbone: Backbone;
  agents: readonly string[];
  prices: readonly number[];
  defaultLambda: number;
  calibration?: readonly string[];
}): KnobRouter {
  const maxPrice = Math.max(...settings.prices, 0);
  const prices = settings.prices.map((price) => (maxPrice > 0 ? price / maxPrice : 0));
  const strong = prices.indexOf(Math.max(...prices));
  const router = createValueRouter({
    head: settings.head,
    backbone: settings.backbone,
    agents: settings.agents,
    prices,
    strong,
  });
  const { agents } = router;
  return {
    agents,
    prices,
    strong,
    categoryDimension: router.categoryDimension,
    predict: (text, category) => router.predict(text, category),
    resolve(preset) {
      const lambda = preset.lambda ?? settings.defaultLambda;
      checkLambda(lambda, `preset ${preset.model}: lambda`);
      if (preset.maxStrongShare === undefined) return { lambda };
      if (!settings.calibration || settings.calibration.length === 0) {
        throw new InvalidArgumentError({
          argument: 'maxStrongShare',
          message: `preset ${preset.model}: maxStrongShare needs calibration prompts (the embedded head's training prompts)`,
        });
      }
      return {
        lambda: 0,
        // Floored at 0 (the default): a worker predicted worse than another is never chosen only to fill the share.
        threshold: router.calibrateThreshold(settings.calibration, preset.maxStrongShare),
        maxStrongShare: preset.maxStrongShare,
      };
    },
    forRequest(knob, hints = {}) {
      const knobOptions = {
        lambda: hints.lambda ?? knob.lambda,
        // A per-request λ replaces the calibrated form.
        ...(hints.lambda === undefined && knob.threshold !== undefined ? { threshold: knob.threshold } : {}),
        ...(hints.category === undefined ? {} : { category: hints.category }),
      };
      return {
        agents,
        route: (observation, options = {}) =>
          router.route(observation, {
            ...knobOptions,
            ...(options.mask === undefined ? {} : { mask: options.mask }),
            ...(options.signal === undefined ? {} : { signal: options.signal }),
          }),
      };
    },
  };
}

/** Whether `value` is a usable λ: a finite number in [0, MAX_LAMBDA]. */
function isLambda(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_LAMBDA;
}

function checkLambda(lambda: number, where: string): void {
  if (!isLambda(lambda)) {
    throw new InvalidArgumentError({
      argument: 'lambda',
      message: `${where} must be a finite number in [0, ${MAX_LAMBDA}], got ${lambda}`,
    });
  }
}

function badRequest(message: string, param: string): GatewayError {
  return new GatewayError({ kind: 'invalid_request', message: `Invalid request: ${message}`, param });
}

/**
 * Reads and validates the per-request knob: body `openfugu.lambda` / `openfugu.category`, headers
 * `x-openfugu-lambda` / `x-openfugu-category` (the body wins). Bad values → OpenAI 400 with `param`.
 */
export function readRoutingHints(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Readonly<Record<string, unknown>>,
): RoutingHints | undefined {
  const hints: RoutingHints = {};
  const extension = body.openfugu;
  if (
    extension !== undefined &&
    (typeof extension !== 'object' || extension === null || Array.isArray(extension))
  ) {
    throw badRequest("'openfugu' must be an object.", 'openfugu');
  }
  const ext = (extension ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(ext)) {
    if (key !== 'lambda' && key !== 'category') {
      throw badRequest(`'openfugu.${key}' is not a known field (lambda, category).`, `openfugu.${key}`);
    }
  }
  const rawLambda = headers[LAMBDA_HEADER];
  if (ext.lambda !== undefined) {
    if (!isLambda(ext.lambda)) {
      throw badRequest(`'openfugu.lambda' must be a number in [0, ${MAX_LAMBDA}].`, 'openfugu.lambda');
    }
    hints.lambda = ext.lambda;
  } else if (rawLambda !== undefined) {
    const text = Array.isArray(rawLambda) ? rawLambda.join(',') : rawLambda;
    const value = /^\s*[0-9.eE+-]+\s*$/.test(text) ? Number(text) : Number.NaN;
    if (!isLambda(value)) {
      throw badRequest(`header '${LAMBDA_HEADER}' must be a number in [0, ${MAX_LAMBDA}].`, LAMBDA_HEADER);
    }
    hints.lambda = value;
  }
  const rawCategory = headers[CATEGORY_HEADER];
  let tags: unknown[] | undefined;
  let param = 'openfugu.category';
  if (ext.category !== undefined) tags = Array.isArray(ext.category) ? ext.category : [ext.category];
  else if (rawCategory !== undefined) {
    tags = (Array.isArray(rawCategory) ? rawCategory.join(',') : rawCategory).split(',');
    param = CATEGORY_HEADER;
  }
  if (tags !== undefined) {
    const clean = tags.map((tag) => (typeof tag === 'string' ? tag.trim() : tag));
    if (
      clean.length === 0 ||
      clean.length > MAX_TAGS ||
      clean.some((tag) => typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG_LENGTH)
    ) {
      throw badRequest(
        `'${param}' must be 1–${MAX_TAGS} non-empty strings of at most ${MAX_TAG_LENGTH} characters.`,
        param,
      );
    }
    hints.category = clean as string[];
  }
  return hints.lambda === undefined && hints.category === undefined ? undefined : hints;
}

/** λ of the `fugu-fast` preset by default (normalised prices). */
export const FAST_LAMBDA = 0.5;

/**
 * The default presets: `fugu-fast` (λ = {@link FAST_LAMBDA}), `<model>` (the default λ) and `fugu-max`
 * (λ = 0, best predicted quality).
 */
export function defaultPresets(model: string): KnobPreset[] {
  return [
    { model: 'fugu-fast', lambda: FAST_LAMBDA, description: `cheapest good answer: λ = ${FAST_LAMBDA}` },
    { model, description: 'predicted quality − default λ · price' },
    { model: 'fugu-max', lambda: 0, description: 'best predicted quality, price ignored (λ = 0)' },
  ];
}

/**
 * One TRINITY mode per preset, all over the same knob router; each request's hints override its preset's λ.
 * Returns the modes and one banner line per preset.
 */
export function createPresetModes(
  knob: KnobRouter,
  presets: readonly KnobPreset[],
  maxTurns: number,
): { modes: GatewayMode[]; notes: string[] } {
  const modes: GatewayMode[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  for (const preset of presets) {
    if (seen.has(preset.model)) {
      throw new InvalidArgumentError({
        argument: 'presets',
        message: `preset ${preset.model} is listed twice`,
      });
    }
    seen.add(preset.model);
    const resolved = knob.resolve(preset);
    const how =
      resolved.threshold === undefined
        ? `same router, predicted quality − λ · price / max price with λ = ${resolved.lambda}`
        : `at most ${(100 * resolved.maxStrongShare!).toFixed(0)} % to ${knob.agents[knob.strong]} (margin > ${resolved.threshold.toPrecision(3)}, calibrated on training prompts)`;
    modes.push(
      createTrinityMode({
        model: preset.model,
        description: preset.description ?? how,
        maxTurns,
        router: (input) => knob.forRequest(resolved, input.routing),
      }),
    );
    notes.push(`${preset.model}: ${how}`);
  }
  return { modes, notes };
}
