import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createHashingBackbone,
  createHashingBackboneFromId,
  type HashingBackboneSettings,
  parseHashingBackboneId,
} from './hashing.js';
import { createHashingV2Embed, type HashingV2Config } from './hashing-v2.js';

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
const bits = (v: Float32Array): number[] => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
const digest = (v: Float32Array): string =>
  createHash('sha256')
    .update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
    .digest('hex');

/** The kernel config `createHashingBackbone` builds for `settings` (salts as in hashing.ts). */
function kernelConfig(settings: HashingBackboneSettings): HashingV2Config {
  const seed = (settings.seed ?? 0) >>> 0;
  const range = settings.charNgrams === undefined ? [3, 5] : settings.charNgrams;
  return {
    dimension: settings.dimension ?? 1024,
    words: settings.words ?? true,
    wordBigrams: settings.wordBigrams ?? true,
    minN: range === false ? 0 : range[0],
    maxN: range === false ? 0 : range[1],
    weights: {
      words: settings.weights?.words ?? 1,
      bigrams: settings.weights?.bigrams ?? 1,
      chars: settings.weights?.chars ?? 1,
    },
    saltWord: (0x9e3779b1 ^ seed) >>> 0,
    saltBigram: (0x85ebca77 ^ Math.imul(seed, 0x27d4eb2f)) >>> 0,
    saltChar: (0x811c9dc5 ^ 0xc2b2ae3d ^ Math.imul(seed, 0x165667b1)) >>> 0,
  };
}

// Short prompts of a few topics, several per topic, for the v1/v2 agreement checks.
const CORPUS = [
  'Solve the equation 3x + 5 = 20 for x.',
  'Solve for x: 4x - 7 = 21.',
  'What is the derivative of x^3 + 2x with respect to x?',
  'Compute the integral of 2x from 0 to 3.',
  'If a train travels 120 km in 2 hours, what is its average speed?',
  'A shop sells pens at 3 dollars each; how much do 12 pens cost?',
  'Write a short poem about autumn leaves falling in the park.',
  'Compose a haiku about the sea at night.',
  'Write a limerick about a cat who loves to sleep.',
  'Write a sonnet about lost love and the passing of time.',
  'Translate "good morning, how are you?" into French.',
  'How do you say "thank you very much" in Spanish?',
  'Translate the sentence "the book is on the table" into German.',
  'Write a Python function that reverses a linked list.',
  'Implement binary search in JavaScript and explain its complexity.',
  'Fix this SQL query: SELECT name FROM users WHERE age > 30 ORDER BY;',
  'Write a bash script that counts the lines of every .txt file in a folder.',
  'Explain the difference between a process and a thread in operating systems.',
  'Summarise the causes of the First World War in three paragraphs.',
  'Who was the first emperor of Rome and how did he come to power?',
  'Describe the main events of the French Revolution.',
  'What are the health benefits of regular aerobic exercise?',
  'Suggest a weekly meal plan for a vegetarian athlete.',
  'How much water should an adult drink per day?',
  'Give me three tips for a successful job interview.',
  'How should I prepare for a salary negotiation with my manager?',
  'Write a cover letter for a junior data analyst position.',
  'Explain photosynthesis to a ten-year-old.',
  'What is the role of mitochondria in a cell?',
  'Describe how vaccines train the immune system.',
];

describe('hashing-v2', () => {
  const backbone = createHashingBackbone({ version: 2 });

  it('has its own id prefix and records its version', () => {
    expect(backbone.id).toBe('hashing-v2:d1024:w1:b1:c3-5:s0');
    expect(backbone.settings.version).toBe(2);
    expect(createHashingBackbone({ version: 2, dimension: 300, seed: 7, weights: { chars: 0.5 } }).id).toBe(
      'hashing-v2:d300:w1:b1:c3-5:s7:x1,1,0.5',
    );
    expect(createHashingBackbone({ version: 1 }).id).toBe('hashing-v1:d1024:w1:b1:c3-5:s0');
    expect(() => createHashingBackbone({ version: 3 as 1 })).toThrow(/version must be 1 or 2/);
  });

  it('is deterministic across instances, calls, call order and embed()', async () => {
    const text = 'user: What is the capital of France? Answer in one word.';
    const a = backbone.embedSync(text);
    expect(a).toBeInstanceOf(Float32Array);
    expect(a.length).toBe(1024);
    expect(norm(a)).toBeCloseTo(1, 6);
    backbone.embedSync('x'.repeat(10_000)); // a longer text in between grows the scratch buffers
    expect(bits(backbone.embedSync(text))).toEqual(bits(a));
    expect(bits(createHashingBackbone({ version: 2 }).embedSync(text))).toEqual(bits(a));
    const [batched] = await backbone.embed([text]);
    expect(bits(batched!)).toEqual(bits(a));
  });

  it('returns the zero vector for empty or whitespace-only text, and is case/width/space-insensitive', () => {
    expect(norm(backbone.embedSync(''))).toBe(0);
    expect(norm(backbone.embedSync(' \t\n\u00a0\u3000 '))).toBe(0);
    const a = backbone.embedSync('Hello   World');
    expect(bits(backbone.embedSync('hello world'))).toEqual(bits(a));
    expect(bits(backbone.embedSync('ＨＥＬＬＯ world'))).toEqual(bits(a)); // NFKC
    expect(bits(backbone.embedSync('\t hello\n\nworld  '))).toEqual(bits(a));
  });

  it('handles unicode (astral, combining, RTL, CJK) and lone surrogates', () => {
    for (const text of [
      '日本語のテキスト',
      '👩‍👩‍👧‍👦🎉 émoji',
      'naïve café',
      'مرحبا بالعالم',
      '\ud800 lone',
      'é'.repeat(500),
    ]) {
      const v = backbone.embedSync(text);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
  });

  it('embeds a 1 MB text (ASCII and non-ASCII) to a finite unit vector, the same as the generic path', () => {
    let ascii = '';
    for (let i = 0; ascii.length < 1 << 20; i++) ascii += `line ${i}: the quick brown fox ${i % 97} jumps. `;
    const unicode = `${ascii.slice(0, 1 << 19)}ünïcödé ${ascii.slice(1 << 19)}`;
    const generic = createHashingV2Embed(kernelConfig({}), { fastPaths: false }).embedSync;
    for (const text of [ascii, unicode]) {
      const v = backbone.embedSync(text);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 5);
      expect(bits(v)).toEqual(bits(generic(text)));
    }
  });

  it('gives a finite unit (or zero) vector for any string and settings', () => {
    const settingsArb = fc.constantFrom<HashingBackboneSettings>(
      { dimension: 64 },
      { dimension: 7, weights: { words: 0.1, bigrams: 0.3, chars: 0.7 } },
      { dimension: 1 },
      { charNgrams: [1, 6], dimension: 100 },
    );
    fc.assert(
      fc.property(settingsArb, fc.string({ unit: 'grapheme', maxLength: 200 }), (settings, text) => {
        const v = createHashingBackbone({ ...settings, version: 2 }).embedSync(text);
        const n = norm(v);
        expect(v.every(Number.isFinite)).toBe(true);
        expect(n === 0 || Math.abs(n - 1) < 1e-5).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('the fast paths (fused ASCII preparation + words, rolling 3–5-grams) agree bit for bit with the generic code', () => {
    const settingsArb = fc.constantFrom<HashingBackboneSettings>(
      {},
      { dimension: 1000, seed: 3 },
      { seed: 5, weights: { words: 0.3, bigrams: 1.7, chars: 0.1 } },
      { wordBigrams: false, dimension: 64 },
      { words: false },
      { dimension: 2 },
    );
    const textArb = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({
        unit: fc.constantFrom('a', 'b', 'Ab', ' ', '\n', '.', '\u0000', '\u007f', '9', 'Z', '-', '\t\t'),
        maxLength: 400,
      }),
      fc.stringMatching(/^[ -~\t\n]{0,3000}$/),
    );
    fc.assert(
      fc.property(settingsArb, fc.array(textArb, { minLength: 1, maxLength: 3 }), (settings, batch) => {
        const fast = createHashingBackbone({ ...settings, version: 2 });
        const generic = createHashingV2Embed(kernelConfig(settings), { fastPaths: false }).embedSync;
        for (const text of batch) expect(bits(fast.embedSync(text))).toEqual(bits(generic(text)));
      }),
      { numRuns: 200 },
    );
  });

  it('merges colliding features before the logarithm (same sign: 1 + ln 2; opposite signs: cancel)', () => {
    // Words only, dimension 8: find the bucket and sign of single words, then build colliding texts.
    const settings: HashingBackboneSettings = {
      version: 2,
      dimension: 8,
      wordBigrams: false,
      charNgrams: false,
    };
    const small = createHashingBackbone(settings);
    const slot = (word: string): { bucket: number; sign: number } => {
      const v = small.embedSync(word);
      const bucket = v.findIndex((x) => x !== 0);
      return { bucket, sign: Math.sign(v[bucket]!) };
    };
    const words = Array.from({ length: 64 }, (_, i) => `w${i}`);
    const slots = words.map(slot);
    let same: [number, number] | undefined;
    let opposite: [number, number] | undefined;
    for (let i = 0; i < words.length; i++) {
      for (let j = i + 1; j < words.length; j++) {
        if (slots[i]!.bucket !== slots[j]!.bucket) continue;
        if (slots[i]!.sign === slots[j]!.sign) same ??= [i, j];
        else opposite ??= [i, j];
      }
    }
    expect(same).toBeDefined();
    expect(opposite).toBeDefined();
    const [a, b] = same!;
    const other = slots.findIndex((s) => s.bucket !== slots[a]!.bucket);
    const v = small.embedSync(`${words[a]} ${words[b]} ${words[other]}`);
    // v1 would give 2 : 1 here (1 per distinct feature); v2 gives (1 + ln 2) : 1.
    expect(Math.abs(v[slots[a]!.bucket]!) / Math.abs(v[slots[other]!.bucket]!)).toBeCloseTo(
      1 + Math.log(2),
      5,
    );
    const [c, d] = opposite!;
    const cancelled = small.embedSync(`${words[c]} ${words[d]}`);
    expect(norm(cancelled)).toBe(0);
    // Sublinear TF of one feature: "a a a b" → (1 + ln 3) : 1 when a and b do not collide.
    const wide = createHashingBackbone({ ...settings, dimension: 1 << 20 });
    const nonzero = Array.from(wide.embedSync('a a a b'))
      .filter((x) => x !== 0)
      .map(Math.abs)
      .sort((x, y) => x - y);
    expect(nonzero.length).toBe(2);
    expect(nonzero[1]! / nonzero[0]!).toBeCloseTo(1 + Math.log(3), 5);
  });

  it('applies family weights after the logarithm, per weight group', () => {
    const text = 'The cat sat on the mat, and the cat sat on the hat.';
    const base = { version: 2 as const, dimension: 512 };
    // A weight of 0 removes the family exactly (0 · x adds nothing), bit for bit.
    expect(bits(createHashingBackbone({ ...base, weights: { words: 0 } }).embedSync(text))).toEqual(
      bits(createHashingBackbone({ ...base, words: false }).embedSync(text)),
    );
    // Scaling every family by the same factor changes nothing after normalisation (one group either way).
    const scaled = createHashingBackbone({ ...base, weights: { words: 3, bigrams: 3, chars: 3 } }).embedSync(
      text,
    );
    const plain = createHashingBackbone(base).embedSync(text);
    for (let i = 0; i < plain.length; i++) expect(scaled[i]!).toBeCloseTo(plain[i]!, 6);
    // Different weights do change the vector.
    const heavyWords = createHashingBackbone({ ...base, weights: { words: 5 } }).embedSync(text);
    expect(dot(heavyWords, plain)).toBeLessThan(0.99);
  });

  it('gives similar texts higher cosine than unrelated ones', () => {
    const a = backbone.embedSync('Solve the equation 3x + 5 = 20 for x.');
    const b = backbone.embedSync('Solve the equation 4x + 2 = 18 for x.');
    const c = backbone.embedSync('Write a short poem about autumn leaves.');
    expect(dot(a, b)).toBeGreaterThan(0.5);
    expect(dot(a, c)).toBeLessThan(0.25);
  });

  // v1 and v2 hash features differently, so their vectors are not comparable coordinate by coordinate; what must
  // agree is the geometry they give a set of texts (the inner products a linear head sees). At a dimension
  // where collisions are rare the two must give nearly the same geometry (same features, same sublinear TF);
  // at the default 1024 they must agree with each other as well as v1 agrees with v1 under another hash seed
  // (which only changes which features collide).
  function agreement(
    a: HashingBackboneSettings,
    b: HashingBackboneSettings,
  ): { correlation: number; neighbours: number; meanA: number; meanB: number } {
    const ea = CORPUS.map((t) => createHashingBackbone(a).embedSync(t));
    const eb = CORPUS.map((t) => createHashingBackbone(b).embedSync(t));
    const ca: number[] = [];
    const cb: number[] = [];
    let sameNeighbour = 0;
    for (let i = 0; i < CORPUS.length; i++) {
      let bestA = -1;
      let bestB = -1;
      let scoreA = -2;
      let scoreB = -2;
      for (let j = 0; j < CORPUS.length; j++) {
        if (j === i) continue;
        const sa = dot(ea[i]!, ea[j]!);
        const sb = dot(eb[i]!, eb[j]!);
        if (j > i) {
          ca.push(sa);
          cb.push(sb);
        }
        if (sa > scoreA) [scoreA, bestA] = [sa, j];
        if (sb > scoreB) [scoreB, bestB] = [sb, j];
      }
      if (bestA === bestB) sameNeighbour++;
    }
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const meanA = mean(ca);
    const meanB = mean(cb);
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let k = 0; k < ca.length; k++) {
      sxy += (ca[k]! - meanA) * (cb[k]! - meanB);
      sxx += (ca[k]! - meanA) ** 2;
      syy += (cb[k]! - meanB) ** 2;
    }
    return {
      correlation: sxy / Math.sqrt(sxx * syy),
      neighbours: sameNeighbour / CORPUS.length,
      meanA,
      meanB,
    };
  }

  it('agrees with v1 on the geometry of texts where collisions are rare (dimension 65,536)', () => {
    const wide = agreement({ version: 1, dimension: 1 << 16 }, { version: 2, dimension: 1 << 16 });
    expect(wide.correlation).toBeGreaterThan(0.98);
    expect(wide.neighbours).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(wide.meanA - wide.meanB)).toBeLessThan(0.01);
  });

  it('agrees with v1 at dimension 1024 as well as v1 agrees with v1 under other hash seeds', () => {
    const v1v2 = agreement({ version: 1 }, { version: 2 });
    const seeds = [1, 2, 3].map((seed) => agreement({ version: 1 }, { version: 1, seed }));
    const worstCorrelation = Math.min(...seeds.map((s) => s.correlation));
    const worstNeighbours = Math.min(...seeds.map((s) => s.neighbours));
    expect(v1v2.correlation).toBeGreaterThan(worstCorrelation - 0.05);
    expect(v1v2.neighbours).toBeGreaterThanOrEqual(worstNeighbours - 0.1);
    expect(Math.abs(v1v2.meanA - v1v2.meanB)).toBeLessThan(0.02);
    // An absolute floor as well (unrelated geometries would correlate near 0).
    expect(v1v2.correlation).toBeGreaterThan(0.6);
  });
});

// Pinned digests of v2 output: any change to v2's definition (features, hashes, buckets, rounding) must be a new
// version, because heads record `hashing-v2:…` ids. Computed with this implementation on 2026-11-25.
describe('hashing-v2 output is pinned', () => {
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
    '96104e7f923c1e417ce9caa134612339b3045520d3d805784508b97d4e6aaa67',
    '9516038dae6aa6674f4741337708daaf83d9d86733ad11e6b28f4e636fe34180',
    '0b779a57fd34f67d16c25466fdf43c72bd7003c772100fb52e9f3e3fbc98e690',
    'ae978874e9ca4d3286818f2421670614e18a32a311b944dc884502b9b3f0b40e',
    '66a54c96637121a23e0e78eb57b0afaa133365046777e47d31794d1ec23099db',
    '3497a11afebd2746f82e19e99ba5504e6b3d13b7e04800a68df65a08fcad1dd1',
    'ad4e321e6651f46cc9ce9b283ccb9546170694f60689718d74043f40216f5bb5',
    '5dcf14a67da791a3dcd73acf16a65e01bade7c797ffa11259f72f4b3f120061b',
    '63418c877199d3c18c9eb7454add28d0b4f7e76900e4e442b9dfb0a4ad3c866b',
    '949aaeca8e3fe2e115b0fd4e3c63a935a21583185da31292ace817634266f133',
    '244c2c96544ed0e948a64e87457595ba34725bf5321b7811644b180f8c34dd78',
    '9f4ed57089f634d4c631d543123b7fe0f655e4e1c988d9bb3f59952b14a8971a',
  ];

  it('matches the pinned SHA-256 of the float32 bytes for fixed texts and settings', () => {
    const got: string[] = [];
    for (const settings of configs) {
      const v2 = createHashingBackbone({ ...settings, version: 2 });
      for (const text of texts) got.push(digest(v2.embedSync(text)));
    }
    expect(got).toEqual(pinned);
  });
});

describe('hashing backbone ids', () => {
  it('round-trip through parseHashingBackboneId and createHashingBackboneFromId', () => {
    const ids = [
      'hashing-v1:d1024:w1:b1:c3-5:s0',
      'hashing-v2:d1024:w1:b1:c3-5:s0',
      'hashing-v2:d300:w1:b0:c2-7:s7:x0.5,2,1.5',
      'hashing-v1:d64:w0:b1:c0:s4294967295',
    ];
    for (const id of ids) {
      expect(createHashingBackbone(parseHashingBackboneId(id)).id).toBe(id);
      expect(createHashingBackboneFromId(id).id).toBe(id);
    }
    expect(parseHashingBackboneId('glove-sif-100')).toBeUndefined();
    expect(parseHashingBackboneId('hashing-v3:d1024:w1:b1:c3-5:s0')).toBeUndefined();
    expect(() => createHashingBackboneFromId('hashing-v2:d1024')).toThrow(/not a hashing backbone id/);
    // Non-canonical spellings are refused rather than silently mapped to another id.
    expect(() => createHashingBackboneFromId('hashing-v2:d01024:w1:b1:c3-5:s0')).toThrow(/not a hashing/);
  });

  it('a backbone rebuilt from a v1 id gives v1 vectors whatever the default version', () => {
    const text = 'user: route me';
    const v1 = createHashingBackbone({ version: 1, dimension: 128 });
    const rebuilt = createHashingBackboneFromId(v1.id);
    expect(bits(rebuilt.embedSync(text))).toEqual(bits(v1.embedSync(text)));
    expect(bits(rebuilt.embedSync(text))).not.toEqual(
      bits(createHashingBackbone({ version: 2, dimension: 128 }).embedSync(text)),
    );
  });
});
