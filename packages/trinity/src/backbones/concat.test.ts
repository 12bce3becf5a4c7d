import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRouterHead } from '../head.js';
import { createRouter } from '../router.js';
import { createBackboneFromId, createConcatBackbone, createDefaultConcatBackbone } from './concat.js';
import { createHashingBackbone } from './hashing.js';
import { createPromptStatsBackbone, PROMPT_STATS_DIMENSION, promptStatistics } from './prompt-stats.js';

describe('promptStatistics', () => {
  it('computes the documented values on a hand-checked prompt', () => {
    const s = promptStatistics('What is 2.5 + 3?\nA. 5\nB. 5.5');
    expect(s.length).toBe(PROMPT_STATS_DIMENSION);
    expect(s[0]).toBeCloseTo(Math.log1p(28) / 8, 6); // 28 characters
    expect(s[3]).toBeCloseTo(Math.log1p(2) / 4, 6); // 2 newlines
    expect(s[4]).toBeCloseTo(6 / 28, 6); // digits 2 5 3 5 5 5
    expect(s[5]).toBeCloseTo(Math.log1p(4) / 4, 6); // 2.5, 3, 5, 5.5
    expect(s[6]).toBe(1); // decimals
    expect(s[9]).toBeCloseTo(Math.log1p(1) / 3, 6); // one '+'
    expect(s[10]).toBe(1); // two option lines
    expect(s[11]).toBeCloseTo(Math.log1p(1) / 2, 6);
    expect(s[12]).toBe(1); // 'what'
    expect(s[13]).toBe(0); // no 'why'
  });

  it('marks code, imperatives and gives zeros for an empty text', () => {
    const code = promptStatistics('user: Write a function f(x) { return x == 1; }');
    expect(code[8]).toBeGreaterThan(0);
    expect(code[19]).toBe(1);
    expect(Array.from(promptStatistics(''))).toEqual(new Array(PROMPT_STATS_DIMENSION).fill(0));
  });
});

describe('createConcatBackbone', () => {
  it('places each part at its offset, scaled by its weight, under a stable id', () => {
    const hashing = createHashingBackbone({ dimension: 16 });
    const stats = createPromptStatsBackbone();
    const concat = createConcatBackbone([{ backbone: hashing }, { backbone: stats, weight: 0.5 }]);
    expect(concat.id).toBe(`concat(1*${hashing.id}+0.5*prompt-stats-v1)`);
    expect(concat.dimension).toBe(16 + PROMPT_STATS_DIMENSION);
    const text = 'How many apples are left if 3.5 are eaten?';
    const v = concat.embedSync(text);
    expect(Array.from(v.subarray(0, 16))).toEqual(Array.from(hashing.embedSync(text)));
    const s = stats.embedSync(text);
    for (let i = 0; i < PROMPT_STATS_DIMENSION; i++) expect(v[16 + i]).toBeCloseTo(0.5 * s[i]!, 6);
  });

  it('embed and embedSync agree, and the id rebuilds the same backbone (property)', async () => {
    const backbone = createDefaultConcatBackbone();
    expect(backbone.dimension).toBe(512 + 512 + PROMPT_STATS_DIMENSION);
    const rebuilt = createBackboneFromId(backbone.id);
    expect(rebuilt.id).toBe(backbone.id);
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const [batch] = await rebuilt.embed([text]);
        expect(Array.from(batch!)).toEqual(Array.from(backbone.embedSync(text)));
      }),
      { numRuns: 30 },
    );
  });

  it('wordDimension widens only the word block, under a new id; the default id is unchanged', () => {
    const narrow = createDefaultConcatBackbone();
    expect(narrow.id).toBe(
      'concat(1*hashing-v2:d512:w1:b1:c0:s1+1*hashing-v2:d512:w0:b0:c3-5:s2+1*prompt-stats-v1)',
    );
    const wide = createDefaultConcatBackbone({ wordDimension: 1024 });
    expect(wide.id).toBe(
      'concat(1*hashing-v2:d1024:w1:b1:c0:s1+1*hashing-v2:d512:w0:b0:c3-5:s2+1*prompt-stats-v1)',
    );
    expect(wide.dimension).toBe(1024 + 512 + PROMPT_STATS_DIMENSION);
    expect(createBackboneFromId(wide.id).id).toBe(wide.id);
    const text = 'Which of the following is a prime number?';
    const w = wide.embedSync(text);
    const n = narrow.embedSync(text);
    // the character and statistics blocks are the same vectors, shifted by the wider word block
    expect(Array.from(w.subarray(1024))).toEqual(Array.from(n.subarray(512)));
    expect(Array.from(w.subarray(0, 1024))).toEqual(
      Array.from(createHashingBackbone({ dimension: 1024, charNgrams: false, seed: 1 }).embedSync(text)),
    );
  });

  it('rejects unknown ids and bad weights', () => {
    expect(() => createBackboneFromId('concat(1*nope)')).toThrow(/cannot rebuild/);
    expect(() => createBackboneFromId('concat(x*prompt-stats-v1)')).toThrow(/cannot rebuild/);
    expect(() => createConcatBackbone([])).toThrow(/at least one/);
    expect(() => createConcatBackbone([{ backbone: createPromptStatsBackbone(), weight: 0 }])).toThrow(/> 0/);
  });

  it('a router refuses a head trained on another concatenation', () => {
    const a = createDefaultConcatBackbone();
    const b = createConcatBackbone([
      { backbone: createHashingBackbone({ dimension: 512, charNgrams: false, seed: 1 }) },
      { backbone: createHashingBackbone({ dimension: 512, words: false, wordBigrams: false, seed: 2 }) },
      { backbone: createPromptStatsBackbone(), weight: 2 },
    ]);
    const head = createRouterHead({ agentCount: 2, dimension: a.dimension, roles: false, backboneId: a.id });
    expect(() => createRouter({ backbone: b, head, agents: ['x', 'y'] })).toThrow(/createBackboneFromId/);
    expect(createRouter({ backbone: a, head, agents: ['x', 'y'] }).agents).toEqual(['x', 'y']);
  });
});
