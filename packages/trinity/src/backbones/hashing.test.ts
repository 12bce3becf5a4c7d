import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHashingBackboneReference } from './__fixtures__/hashing-v1-reference.js';
import {
  createHashingBackbone as createAnyHashingBackbone,
  DEFAULT_HASHING_VERSION,
  type HashingBackboneSettings,
} from './hashing.js';

// This file tests hashing-v1 (the frozen algorithm; hashing-v2.test.ts tests v2, the default).
const createHashingBackbone = (settings: HashingBackboneSettings = {}) =>
  createAnyHashingBackbone({ ...settings, version: 1 });

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

describe('createHashingBackbone (version 1)', () => {
  const backbone = createHashingBackbone();

  it('defaults to version 2 for new backbones; version 1 stays selectable', () => {
    expect(DEFAULT_HASHING_VERSION).toBe(2);
    expect(createAnyHashingBackbone().id).toBe('hashing-v2:d1024:w1:b1:c3-5:s0');
    expect(createAnyHashingBackbone({ version: 1 }).id).toBe('hashing-v1:d1024:w1:b1:c3-5:s0');
  });

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

// `hashing-v1` ids are stored with trained heads, so its output must never change. These digests were computed
// with the implementation of commit 606dc2f (kept verbatim in __fixtures__/hashing-v1-reference.ts), before the
// speed-up, and pin the float32 bytes of whole vectors.
describe('hashing-v1 output is bit-identical to the original implementation', () => {
  let long = '';
  for (let i = 0; long.length < 2048; i++) {
    long += `sentence ${i}: the quick brown fox jumps over the lazy dog, again and again (${i * 7}). `;
  }
  const texts = [
    'user: What is the capital of France?',
    'Ｈｅｌｌｏ\u00a0WORLD — naïve café, 2 + 2 = 4?! 😀 東京タワー ﬁne\n\tend',
    'the the the the cat cat sat on the mat mat mat, the end.',
    long.slice(0, 2048),
  ];
  const configs: HashingBackboneSettings[] = [
    {},
    { dimension: 1000, seed: 7, weights: { words: 0.5, bigrams: 2, chars: 1.5 } },
    { charNgrams: [2, 7], wordBigrams: false, dimension: 256 },
  ];
  const pinned = [
    '5bbba574933ae3c78e9b2c97b7993a1bc47726b59cc2ab7752fd8a62596845c1',
    'f2b1048fce2694649ab7ca1af02c5165537654ea3e3e09ab87851610cf6f2ac7',
    '66ae5dc466eac9b3392e129ff790ca3dd2e6c1b9d022a5cd039da2a7d9dd9b34',
    '746d03d755ef147855c21281f513c5d74d387a7a4147bd4bdfc91a8f8a856a72',
    '203d4e5ab6715c9db5607892e3333b7aaf42b177179d4f8f7f753926e8e09908',
    'fae39794ee05bb137f271a20741ed028b803a222d85adfd4c1095d8bdb61a2d8',
    'acd31a8bdcd13c91a635e1405809925679c100500c1b8b99f6cf7a4222dd997b',
    '59a5dd20f1201186bc57aaa6d030651fba16ce02c75973f01f88d74822514fb6',
    'b07fdbf8fecfe3ef0253407696b4ad22b54c460abd0d69897874ff9e9a2ea361',
    'f417444b912d8c28c8926a4e9b47bba33d27e8b7367fb2673bd681c8efd74767',
    '5db4ccedc0b153e017a442c4e941ca7c7c6cedb7f5062f10fbfdf6ab33778103',
    '1dd4c5c8b9fd18ad9eb0c02e172b170db2de221c574caf2870a23ec18689e36b',
  ];
  const digest = (v: Float32Array): string =>
    createHash('sha256')
      .update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
      .digest('hex');
  const bits = (v: Float32Array): number[] => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

  it('matches the pinned SHA-256 of the float32 bytes for fixed texts and settings', () => {
    const got: string[] = [];
    for (const settings of configs) {
      const backbone = createHashingBackbone(settings);
      for (const text of texts) got.push(digest(backbone.embedSync(text)));
    }
    expect(got).toEqual(pinned);
    const v = createHashingBackbone().embedSync(texts[3]!);
    expect(v[0]).toBe(0.014708676375448704);
    expect(v[17]).toBe(0.07733964174985886);
    // Order-sensitive case (many repeated features per bucket): digest from the reference implementation.
    const tiny = createHashingBackbone({ dimension: 5, weights: { words: 0.1, bigrams: 0.3, chars: 0.7 } });
    expect(digest(tiny.embedSync(texts[3]!))).toBe(
      'd695818622cd23ecee85cfb31e154e5abe000abcff1d2efa7ab614a5abb3b7d1',
    );
  });

  it('matches the reference implementation bit for bit on arbitrary texts, in any call order', () => {
    const settingsArb = fc.constantFrom<HashingBackboneSettings>(
      {},
      { dimension: 1000, seed: 3 },
      { charNgrams: [3, 4], weights: { words: 0.3, bigrams: 1.7, chars: 0.1 } },
      { charNgrams: [1, 6], dimension: 512 },
      { words: false, wordBigrams: false },
      { charNgrams: false, dimension: 64 },
      // Tiny dimensions put many repeated features in one bucket, where the float32 sum depends on the order
      // in which features are added: this catches any change of that order.
      { dimension: 7, weights: { words: 0.1, bigrams: 0.3, chars: 0.7 } },
      { dimension: 16, seed: 11 },
    );
    const textArb = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({
        unit: fc.constantFrom('a', 'b', 'Ab', ' ', '\n', '.', 'é', '７', 'ﬁ', '\u00a0'),
        maxLength: 400,
      }),
      fc.stringMatching(/^[ -~\t\n]{0,3000}$/),
    );
    fc.assert(
      fc.property(settingsArb, fc.array(textArb, { minLength: 1, maxLength: 4 }), (settings, batch) => {
        const fast = createHashingBackbone(settings);
        const reference = createHashingBackboneReference(settings);
        expect(fast.id).toBe(reference.id);
        for (const text of batch) expect(bits(fast.embedSync(text))).toEqual(bits(reference.embedSync(text)));
      }),
      { numRuns: 150 },
    );
  });

  it('matches the reference on long and highly repetitive texts (table growth and shrink between calls)', () => {
    const fast = createHashingBackbone();
    const reference = createHashingBackboneReference();
    const distinct = Array.from({ length: 6000 }, (_, i) => `w${i * 7919} x${i}`).join(' ');
    const tiny = createHashingBackbone({ dimension: 5 });
    const tinyReference = createHashingBackboneReference({ dimension: 5 });
    for (const text of texts) expect(bits(tiny.embedSync(text))).toEqual(bits(tinyReference.embedSync(text)));
    const cases = [distinct, 'short', 'ab '.repeat(5000), distinct.slice(0, 2048), texts[3]!, distinct];
    for (const text of cases) expect(bits(fast.embedSync(text))).toEqual(bits(reference.embedSync(text)));
  });
});
