import { createRng } from '@openfugu/cmaes';
import type { Backbone } from '@openfugu/schema';
import { NoAvailableWorkerError } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { createHashingBackbone } from './backbones/hashing.js';
import { calibrateStrongShare, strongMargin } from './cost-knob.js';
import { createRouterHead } from './head.js';
import { categoryFeatures, parseCategoryId, withCategoryId } from './metadata.js';
import { createRouter } from './router.js';
import { trainValueHead } from './value-head.js';
import { createValueRouter } from './value-router.js';

const backbone = createHashingBackbone({ dimension: 64 });
// Identical prompt texts; only the category says which agent is right.
const rows = Array.from({ length: 60 }, (_, i) => ({
  text: `question number ${i % 3}`,
  category: i % 2 === 0 ? 'maths' : 'history',
}));
const outcomes = rows.map((r) => (r.category === 'maths' ? [1, 0] : [0, 1]));

describe('categoryFeatures', () => {
  it('hashes tags into one block, case- and space-insensitively', () => {
    const a = categoryFeatures(['Maths '], 16);
    expect(Array.from(a)).toEqual(Array.from(categoryFeatures(['maths'], 16)));
    expect(a.reduce((s, v) => s + v, 0)).toBe(1);
    expect(Array.from(categoryFeatures([], 16))).toEqual(new Array(16).fill(0));
    const two = categoryFeatures(['a', 'b'], 1);
    expect(two[0]).toBeCloseTo(2 / Math.sqrt(2), 6);
    expect(parseCategoryId(withCategoryId('hashing-v2:x', 32))).toEqual({
      backboneId: 'hashing-v2:x',
      categoryDimension: 32,
    });
    expect(parseCategoryId('hashing-v2:x')).toEqual({ backboneId: 'hashing-v2:x', categoryDimension: 0 });
  });
});

describe('createValueRouter', () => {
  const withCategory = trainValueHead({
    features: rows.map((r) => {
      const x = new Float32Array(64 + 16);
      x.set(backbone.embedSync(r.text));
      x.set(categoryFeatures([r.category], 16), 64);
      return x;
    }),
    outcomes,
    agents: ['solver', 'historian'],
    backboneId: withCategoryId(backbone.id, 16),
    lambdas: [0.01],
    random: createRng(1),
  }).head;

  it('uses the category when the head was trained with it', () => {
    const router = createValueRouter({ head: withCategory });
    expect(router.categoryDimension).toBe(16);
    expect(router.routeSync('question number 1', { category: 'maths' }).agent).toBe('solver');
    expect(router.routeSync('question number 1', { category: ['history'] }).agent).toBe('historian');
  });

  it('ignores the category when the head was trained without it', () => {
    const textOnly = trainValueHead({
      features: rows.map((r) => backbone.embedSync(r.text)),
      outcomes,
      agents: ['solver', 'historian'],
      backboneId: backbone.id,
      lambdas: [0.01],
      random: createRng(1),
    }).head;
    const router = createValueRouter({ head: textOnly });
    expect(router.categoryDimension).toBe(0);
    const a = router.routeSync('question number 1', { category: 'maths' });
    const b = router.routeSync('question number 1', { category: 'history' });
    expect(a.agentLogits).toEqual(b.agentLogits);
  });

  it('λ·price moves traffic to the cheaper agent; the calibrated threshold caps the strong share', () => {
    const router = createValueRouter({ head: withCategory, prices: [10, 1] });
    expect(router.routeSync('question 0', { category: 'maths' }).agent).toBe('solver');
    expect(router.routeSync('question 0', { category: 'maths', lambda: 1 }).agent).toBe('historian');
    // Threshold form: margins of the maths prompts are ~+1, history ~−1; a share of 0 sends nothing strong.
    const margins = rows.map((r) => strongMargin(router.predict(r.text, r.category), 0));
    const none = calibrateStrongShare(margins, 0);
    expect(router.routeSync('question 0', { category: 'maths', strong: 0, threshold: none }).agent).toBe(
      'historian',
    );
    const half = calibrateStrongShare(margins, 0.5);
    const sent = rows.filter(
      (r) =>
        router.routeSync(r.text, { category: r.category, strong: 0, threshold: half }).agent === 'solver',
    );
    expect(sent.length).toBeLessThanOrEqual(30);
    expect(() => router.routeSync('x', { mask: [false, false] })).toThrow(NoAvailableWorkerError);
    expect(() => createValueRouter({ head: withCategory, lambda: 1 }).routeSync('x')).toThrow(/price/);
  });

  it('reports threshold-form scores that agree with the agent it chose', () => {
    const router = createValueRouter({ head: withCategory, prices: [10, 1] });
    const margins = rows.map((r) => strongMargin(router.predict(r.text, r.category), 0));
    const cases = [
      calibrateStrongShare(margins, 0), // +∞: never the strong agent
      calibrateStrongShare(margins, 0.5),
      calibrateStrongShare(margins, 1), // −∞: always the strong agent
      0.3,
    ];
    let overruled = 0;
    for (const threshold of cases) {
      for (const r of rows) {
        for (const mask of [undefined, [true, true], [false, true], [true, false]]) {
          const decision = router.routeSync(r.text, {
            category: r.category,
            strong: 0,
            threshold,
            ...(mask ? { mask } : {}),
          });
          const open = (a: number) => mask === undefined || mask[a] === true;
          const best = Math.max(...decision.agentLogits.filter((_, a) => open(a)));
          expect(decision.agentLogits.every(Number.isFinite)).toBe(true);
          expect(decision.agentLogits[decision.agentIndex]).toBe(best);
          const top = Math.max(...decision.agentProbabilities);
          expect(decision.agentProbabilities[decision.agentIndex]).toBe(top);
          // The threshold overrules the plain quality argmax on some prompts (so the test has teeth).
          if (
            router.routeSync(r.text, { category: r.category, ...(mask ? { mask } : {}) }).agentIndex !==
            decision.agentIndex
          )
            overruled++;
        }
      }
    }
    expect(overruled).toBeGreaterThan(0);
  });

  it('calibrateThreshold: the share quantile on the given prompts, floored at 0 by default', () => {
    const router = createValueRouter({ head: withCategory, prices: [10, 1] }); // strong = 0, the dearest
    const texts = rows.map((r) => r.text);
    const margins = texts.map((t) => strongMargin(router.predict(t, 'maths'), 0));
    expect(router.calibrateThreshold(texts, 0.5, { category: 'maths' })).toBe(
      Math.max(0, calibrateStrongShare(margins, 0.5)),
    );
    expect(router.calibrateThreshold(texts, 1, { category: 'maths', floor: -Infinity })).toBe(-Infinity);
    expect(router.calibrateThreshold(texts, 1, { category: 'maths' })).toBe(0);
    expect(router.calibrateThreshold(texts, 0, { category: 'maths' })).toBe(Infinity);
    expect(() => createValueRouter({ head: withCategory }).calibrateThreshold(texts, 0.5)).toThrow(/strong/);
  });
});

describe('createValueRouter as a coordinator router', () => {
  const d = 32;
  const hashing = createHashingBackbone({ dimension: d });
  const weights = Array.from({ length: 5 * d }, (_, i) => Math.sin(i * 7.31));
  const head = createRouterHead({
    agentCount: 2,
    dimension: d,
    weights,
    agents: ['a', 'b'],
    backboneId: hashing.id,
  });
  const prompts = ['what is 2 + 2', 'write a haiku about rain', 'fix this python loop', 'name a river'];

  it('keeps the role rows: role, role logits and probabilities as createRouter gives them', () => {
    const valueRouter = createValueRouter({ head, backbone: hashing });
    const plain = createRouter({ head, backbone: hashing });
    const roles = new Set<string>();
    for (const prompt of prompts) {
      const got = valueRouter.routeSync(prompt);
      const want = plain.routeSync(prompt);
      expect(got.role).toBe(want.role);
      expect(got.roleLogits).toEqual(want.roleLogits);
      expect(got.roleProbabilities).toEqual(want.roleProbabilities);
      expect(got.agent).toBe(want.agent);
      roles.add(got.role);
    }
    expect([...roles].some((role) => role !== 'worker')).toBe(true);
  });

  it('route embeds synchronously when it can, else passes the abort signal to the backbone', async () => {
    const signals: unknown[] = [];
    const asyncOnly: Backbone = {
      id: 'test-async',
      dimension: d,
      async embed(texts, options) {
        signals.push(options?.signal);
        return texts.map((t) => hashing.embedSync(t));
      },
    };
    const syncOnly = {
      ...hashing,
      id: hashing.id,
      dimension: d,
      embedSync: (text: string) => hashing.embedSync(text),
      embed: async () => {
        throw new Error('embed must not be called when embedSync exists');
      },
    };
    const signal = new AbortController().signal;
    const viaAsync = await createValueRouter({ head, backbone: asyncOnly }).route(prompts[0]!, { signal });
    expect(signals).toEqual([signal]);
    const viaSync = await createValueRouter({ head, backbone: syncOnly }).route(prompts[0]!, { signal });
    expect(viaSync).toEqual(viaAsync);
    expect(() => createValueRouter({ head, backbone: asyncOnly }).routeSync('x')).toThrow(/embedSync/);
  });

  it('checks the fit as createRouter does, category heads included', () => {
    const v1 = createHashingBackbone({ version: 1, dimension: d });
    expect(() => createValueRouter({ head, backbone: v1 })).toThrow(/trained on backbone/);
    const withBlock = createRouterHead({
      agentCount: 2,
      dimension: d + 8,
      agents: ['a', 'b'],
      backboneId: withCategoryId(hashing.id, 8),
    });
    expect(createValueRouter({ head: withBlock, backbone: hashing }).categoryDimension).toBe(8);
    expect(() => createValueRouter({ head: withBlock, backbone: v1 })).toThrow(/trained on backbone/);
    expect(() => createValueRouter({ head, backbone: hashing, agents: ['a', 'a'] })).toThrow(/unique/);
  });
});
