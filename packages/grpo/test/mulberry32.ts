/**
 * Test helper: mulberry32, a tiny seeded 32-bit generator (Tommy Ettinger, public domain), shaped as a
 * `StatefulRandom` so checkpoint/resume can be tested. Not part of the published package.
 */
import type { JsonValue, StatefulRandom } from '../src/index.js';

export function mulberry32(seed: number): StatefulRandom {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.assign(next, {
    state: (): JsonValue => a,
    setState: (state: JsonValue): void => {
      a = Number(state) >>> 0;
    },
  });
}

/** Standard normal draws via Box–Muller from a uniform generator. */
export function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
