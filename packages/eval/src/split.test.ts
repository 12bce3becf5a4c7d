import { describe, expect, it } from 'vitest';
import { overlappingRows, splitByPrompt } from './split.js';
import type { OutcomeTable } from './table.js';
import { testRandom } from './test-random.js';

const table = (texts: string[]): OutcomeTable => ({
  format: 'generic',
  name: 't',
  prompts: texts.map((text, i) => ({ id: String(i), text })),
  models: ['a'],
  outcomes: new Float64Array(texts.length),
});

describe('splitByPrompt', () => {
  const texts = Array.from({ length: 100 }, (_, i) => `prompt ${i % 80}`); // 20 duplicated prompts

  it('keeps duplicated prompts on one side and is reproducible for a seed', () => {
    const t = table(texts);
    const a = splitByPrompt(t, 0.7, testRandom(1));
    const b = splitByPrompt(t, 0.7, testRandom(1));
    expect(a).toEqual(b);
    const trainTexts = new Set(a.train.map((r) => texts[r]));
    expect(a.test.every((r) => !trainTexts.has(texts[r]))).toBe(true);
    expect(a.train.length + a.test.length).toBe(100);
    expect(a.train.length).toBeGreaterThan(60);
    expect(splitByPrompt(t, 0.7, testRandom(2))).not.toEqual(a);
  });

  it('rejects fractions outside (0, 1)', () => {
    expect(() => splitByPrompt(table(texts), 1, testRandom(1))).toThrow(/split fraction/);
  });

  it('finds train rows that repeat a test prompt (whitespace-insensitive)', () => {
    expect(overlappingRows(table(['a  b', 'c', 'd']), table([' a b', 'x']))).toEqual([0]);
  });
});
