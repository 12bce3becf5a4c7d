import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHashingBackbone } from './hashing.js';

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}
function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s / (norm(a) * norm(b));
}

describe('createHashingBackbone', () => {
  const backbone = createHashingBackbone();

  it('returns unit-norm vectors of the configured dimension, deterministically', async () => {
    const a = backbone.embedSync('user: What is the capital of France?');
    expect(a).toBeInstanceOf(Float32Array);
    expect(a.length).toBe(1024);
    expect(norm(a)).toBeCloseTo(1, 5);
    const again = createHashingBackbone().embedSync('user: What is the capital of France?');
    expect(Array.from(again)).toEqual(Array.from(a));
    const [batched] = await backbone.embed(['user: What is the capital of France?']);
    expect(Array.from(batched!)).toEqual(Array.from(a));
    expect(backbone.id).toBe('hashing-v1:d1024:w1:b1:c3-5:s0');
  });

  it('is case-, width- and whitespace-insensitive (NFKC + lower-casing + whitespace collapsing)', () => {
    const a = backbone.embedSync('Hello   World');
    expect(Array.from(backbone.embedSync('hello world'))).toEqual(Array.from(a));
    // Fullwidth letters normalise to ASCII under NFKC.
    expect(Array.from(backbone.embedSync('ＨＥＬＬＯ world'))).toEqual(Array.from(a));
    expect(Array.from(backbone.embedSync('\t hello\n\nworld  '))).toEqual(Array.from(a));
  });

  it('gives similar texts higher cosine than unrelated ones', () => {
    const a = backbone.embedSync('Solve the equation 3x + 5 = 20 for x.');
    const b = backbone.embedSync('Solve the equation 4x + 2 = 18 for x.');
    const c = backbone.embedSync('Write a short poem about autumn leaves.');
    expect(cosine(a, b)).toBeGreaterThan(0.5);
    expect(cosine(a, c)).toBeLessThan(0.25);
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c) + 0.3);
  });

  it('computes sublinear TF exactly for a hand-checkable case', () => {
    // Words only, no bigrams, no char n-grams: "a a a b" has tf(a)=3, tf(b)=1.
    const words = createHashingBackbone({ dimension: 1 << 20, wordBigrams: false, charNgrams: false });
    const v = words.embedSync('a a a b');
    const nonzero = Array.from(v)
      .filter((x) => x !== 0)
      .map(Math.abs)
      .sort((x, y) => x - y);
    expect(nonzero.length).toBe(2);
    const wa = 1 + Math.log(3);
    const z = Math.sqrt(wa * wa + 1);
    expect(nonzero[0]).toBeCloseTo(1 / z, 6);
    expect(nonzero[1]).toBeCloseTo(wa / z, 6);
  });

  it('returns the zero vector for empty or whitespace-only text', () => {
    expect(norm(backbone.embedSync(''))).toBe(0);
    expect(norm(backbone.embedSync('   \n '))).toBe(0);
  });

  it('handles non-power-of-two dimensions, seeds and family weights', () => {
    const b = createHashingBackbone({ dimension: 300, seed: 7, weights: { chars: 0.5 } });
    const v = b.embedSync('Ünïcödé text — with emoji 🎉 and 日本語');
    expect(v.length).toBe(300);
    expect(norm(v)).toBeCloseTo(1, 5);
    expect(b.id).toBe('hashing-v1:d300:w1:b1:c3-5:s7:x1,1,0.5');
    const other = createHashingBackbone({ dimension: 300, seed: 8, weights: { chars: 0.5 } }).embedSync(
      'Ünïcödé text — with emoji 🎉 and 日本語',
    );
    expect(Array.from(other)).not.toEqual(Array.from(v));
  });

  it('rejects invalid settings', () => {
    expect(() => createHashingBackbone({ dimension: 0 })).toThrow(/dimension/);
    expect(() => createHashingBackbone({ charNgrams: [4, 2] })).toThrow(/charNgrams/);
    expect(() => createHashingBackbone({ weights: { words: -1 } })).toThrow(/weights.words/);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(backbone.embed(['x'], { signal: controller.signal })).rejects.toMatchObject({
      code: 'aborted',
    });
  });

  it('gives a finite unit (or zero) vector for any string', () => {
    const small = createHashingBackbone({ dimension: 64 });
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        const v = small.embedSync(text);
        const n = norm(v);
        expect(v.every(Number.isFinite)).toBe(true);
        expect(n === 0 || Math.abs(n - 1) < 1e-5).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('handles long texts (table growth) identically across calls', () => {
    const long =
      'lorem ipsum dolor sit amet '.repeat(4000) + Array.from({ length: 3000 }, (_, i) => `w${i}`).join(' ');
    const a = backbone.embedSync(long);
    backbone.embedSync('short');
    expect(Array.from(backbone.embedSync(long))).toEqual(Array.from(a));
  });
});
