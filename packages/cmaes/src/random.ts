/**
 * Seeded pseudo-random numbers for the optimisers (and for any other package that wants a
 * reproducible, serialisable stream).
 *
 * - Uniform bits: xoshiro128** 1.1 (Blackman & Vigna 2018), 128-bit state of four uint32 words,
 *   period 2^128 − 1. It is all 32-bit integer arithmetic (`Math.imul`, shifts), which V8 compiles
 *   to plain machine instructions — no BigInt, no allocation.
 * - Seeding: the numeric seed is expanded into the four state words with a SplitMix32-style mixer
 *   (the `0x21f0aaad`/`0x735a2d97` finaliser from Chris Wellons' hash prospector), so nearby seeds
 *   give unrelated streams and the all-zero state cannot occur.
 * - Uniform doubles: 53 random bits from two 32-bit outputs, on [0, 1).
 * - Gaussians: the ziggurat method with 128 layers and the tables of Doornik (2005, "An Improved
 *   Ziggurat Method to Generate Normal Random Samples"). One 32-bit draw per sample in the common
 *   case: the low 7 bits pick the layer, the disjoint high 25 bits the signed abscissa (Doornik's
 *   fix for the index/value correlation of Marsaglia & Tsang's original, without a second draw);
 *   wedges use an extra uniform and the tail Marsaglia's exponential method. Exact N(0, 1) up to
 *   the 2⁻²⁴ grid of the abscissa; no cached spare value, so the whole generator state is the four
 *   xoshiro words.
 */

import { InvalidArgumentError } from '@openfugu/schema';

/** The complete state of an {@link Rng}: the four xoshiro128** words as unsigned 32-bit integers. */
export type RngState = readonly [number, number, number, number];

/**
 * A seeded generator. Calling it returns a uniform double on [0, 1), so it *is* a schema `Random`
 * and can be injected anywhere `Random` is expected.
 */
export interface Rng {
  /** A uniform double on [0, 1) with 53 random bits. */
  (): number;
  /** A standard normal N(0, 1) sample (ziggurat). */
  gaussian(): number;
  /** The next raw 32-bit output as an unsigned integer. */
  nextUint32(): number;
  /** Fills `out[start..end)` with independent N(0, 1) samples; the fast path used by the optimisers. */
  fillGaussian(out: Float64Array, start?: number, end?: number): void;
  /** A copy of the current state; `createRng(rng.getState())` continues the identical stream. */
  getState(): RngState;
  /** Replaces the state (e.g. with one saved by {@link Rng.getState}). */
  setState(state: RngState): void;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_MINUS_32 = 1 / TWO_POW_32;
const TWO_POW_MINUS_53 = 1 / 9007199254740992;
const TWO_POW_MINUS_24 = 1 / 16777216;

// Doornik (2005), 128 blocks: R is the start of the tail, V the common block area.
const ZIG_BLOCKS = 128;
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const zigX = new Float64Array(ZIG_BLOCKS + 1);
const zigRatio = new Float64Array(ZIG_BLOCKS);
{
  let f = Math.exp(-0.5 * ZIG_R * ZIG_R);
  zigX[0] = ZIG_V / f;
  zigX[1] = ZIG_R;
  zigX[ZIG_BLOCKS] = 0;
  for (let i = 2; i < ZIG_BLOCKS; i++) {
    zigX[i] = Math.sqrt(-2 * Math.log(ZIG_V / zigX[i - 1]! + f));
    f = Math.exp(-0.5 * zigX[i]! * zigX[i]!);
  }
  for (let i = 0; i < ZIG_BLOCKS; i++) zigRatio[i] = zigX[i + 1]! / zigX[i]!;
}

function splitMix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z ^= z >>> 16;
    z = Math.imul(z, 0x21f0aaad);
    z ^= z >>> 15;
    z = Math.imul(z, 0x735a2d97);
    z ^= z >>> 15;
    return z >>> 0;
  };
}

function seedState(seed: number): [number, number, number, number] {
  if (!Number.isSafeInteger(seed)) {
    throw new InvalidArgumentError({ argument: 'seed', message: `seed must be a safe integer, got ${seed}` });
  }
  const low = seed >>> 0;
  const high = Math.floor(seed / TWO_POW_32) >>> 0;
  const mix = splitMix32(low ^ Math.imul(high, 0x85ebca6b));
  // Burn one output of a second mixer keyed by the high word so that seeds differing only in the
  // high 21 bits still give unrelated states.
  const mixHigh = splitMix32(high);
  const state: [number, number, number, number] = [
    mix() ^ mixHigh(),
    mix() ^ mixHigh(),
    mix() ^ mixHigh(),
    mix() ^ mixHigh(),
  ].map((word) => word >>> 0) as [number, number, number, number];
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 0x9e3779b9;
  return state;
}

function checkState(state: unknown): asserts state is RngState {
  if (
    !Array.isArray(state) ||
    state.length !== 4 ||
    !state.every((word) => Number.isInteger(word) && word >= 0 && word < TWO_POW_32) ||
    (state[0] | state[1] | state[2] | state[3]) === 0
  ) {
    throw new InvalidArgumentError({
      argument: 'state',
      message: 'an Rng state is four unsigned 32-bit integers, not all zero',
    });
  }
}

/**
 * Creates a seeded xoshiro128** generator with a ziggurat Gaussian sampler.
 *
 * @param seed a safe integer, or a state saved with `rng.getState()` to continue that stream exactly.
 * @example
 * ```ts
 * const rng = createRng(42);
 * const u = rng();          // uniform on [0, 1)
 * const z = rng.gaussian(); // N(0, 1)
 * const again = createRng(rng.getState()); // continues bit-for-bit
 * ```
 */
export function createRng(seed: number | RngState): Rng {
  let initial: RngState;
  if (typeof seed === 'number') initial = seedState(seed);
  else {
    checkState(seed);
    initial = seed;
  }
  let s0 = initial[0] | 0;
  let s1 = initial[1] | 0;
  let s2 = initial[2] | 0;
  let s3 = initial[3] | 0;

  // xoshiro128** 1.1: returns a signed int32 (callers convert as needed).
  const next = (): number => {
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  };

  // Uniform on the open interval (0, 1) from one draw: never 0, so log() is safe.
  const openUniform = (): number => ((next() >>> 0) + 0.5) * TWO_POW_MINUS_32;

  const tail = (negative: boolean): number => {
    let x: number;
    let y: number;
    do {
      x = Math.log(openUniform()) / ZIG_R;
      y = Math.log(openUniform());
    } while (-2 * y < x * x);
    return negative ? x - ZIG_R : ZIG_R - x;
  };

  // Wedge test for layer i at abscissa u·x_i; on rejection draws a complete new sample.
  const wedge = (u: number, i: number): number => {
    const x = u * zigX[i]!;
    const xi = zigX[i]!;
    const xi1 = zigX[i + 1]!;
    const f0 = Math.exp(-0.5 * (xi * xi - x * x));
    const f1 = Math.exp(-0.5 * (xi1 * xi1 - x * x));
    return f1 + openUniform() * (f0 - f1) < 1 ? x : gaussian();
  };

  const gaussian = (): number => {
    const r = next();
    const i = r & (ZIG_BLOCKS - 1);
    const u = ((r >> 7) + 0.5) * TWO_POW_MINUS_24;
    if (Math.abs(u) < zigRatio[i]!) return u * zigX[i]!;
    return i === 0 ? tail(u < 0) : wedge(u, i);
  };

  const rng = (() => {
    const a = next() >>> 5;
    const b = next() >>> 6;
    return (a * 67108864 + b) * TWO_POW_MINUS_53;
  }) as Rng;
  rng.gaussian = gaussian;
  rng.nextUint32 = () => next() >>> 0;
  rng.fillGaussian = (out: Float64Array, start = 0, end = out.length): void => {
    // The hot path of ask(): xoshiro128** inlined on local copies of the state, one 32-bit draw per
    // sample in the rectangle case. The low 7 bits pick the layer and the disjoint high 25 bits give
    // the abscissa, so index and value are independent (the flaw of Marsaglia & Tsang's original
    // was reusing the same bits for both). Wedge and tail cases (≈1.2%) write the state back and
    // fall through to gaussian(), which draws a fresh sample.
    let a0 = s0;
    let a1 = s1;
    let a2 = s2;
    let a3 = s3;
    for (let k = start; k < end; k++) {
      const m = Math.imul(a1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      const t = a1 << 9;
      a2 ^= a0;
      a3 ^= a1;
      a1 ^= a2;
      a0 ^= a3;
      a2 ^= t;
      a3 = (a3 << 11) | (a3 >>> 21);
      const i = r & (ZIG_BLOCKS - 1);
      const u = ((r >> 7) + 0.5) * TWO_POW_MINUS_24; // in (−1, 1)
      if (Math.abs(u) < zigRatio[i]!) {
        out[k] = u * zigX[i]!;
        continue;
      }
      s0 = a0;
      s1 = a1;
      s2 = a2;
      s3 = a3;
      out[k] = i === 0 ? tail(u < 0) : wedge(u, i);
      a0 = s0;
      a1 = s1;
      a2 = s2;
      a3 = s3;
    }
    s0 = a0;
    s1 = a1;
    s2 = a2;
    s3 = a3;
  };
  rng.getState = () => [s0 >>> 0, s1 >>> 0, s2 >>> 0, s3 >>> 0];
  rng.setState = (state: RngState) => {
    checkState(state);
    s0 = state[0] | 0;
    s1 = state[1] | 0;
    s2 = state[2] | 0;
    s3 = state[3] | 0;
  };
  return rng;
}
