import { createRng } from '@openfugu/cmaes';
import { NoAvailableWorkerError } from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { createHashingBackbone } from './backbones/hashing.js';
import { calibrateStrongShare, strongMargin } from './cost-knob.js';
import { categoryFeatures, parseCategoryId, withCategoryId } from './metadata.js';
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
});
