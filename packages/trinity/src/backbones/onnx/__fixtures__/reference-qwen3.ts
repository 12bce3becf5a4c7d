/**
 * An independent forward pass of the tiny Qwen3 decoder in plain TypeScript (float64), written from the
 * transformers `Qwen3ForCausalLM` definition, not from the ONNX graph: embeddings, RMSNorm, q_norm/k_norm,
 * RoPE (rotate-half convention), causal grouped-query attention, SwiGLU MLP, final norm.
 */
import type { TinyQwen3Config, TinyQwen3Weights } from './tiny-qwen3.js';

function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  let sum = 0;
  for (const value of x) sum += value * value;
  const inv = 1 / Math.sqrt(sum / x.length + eps);
  return x.map((value, i) => value * inv * weight[i]!);
}

/** y = W x for W stored row-major [out, in]. */
function linear(weight: Float32Array, x: Float64Array, out: number): Float64Array {
  const inp = x.length;
  const y = new Float64Array(out);
  for (let r = 0; r < out; r++) {
    let sum = 0;
    for (let c = 0; c < inp; c++) sum += weight[r * inp + c]! * x[c]!;
    y[r] = sum;
  }
  return y;
}

function rope(x: Float64Array, position: number, theta: number): Float64Array {
  const d = x.length;
  const half = d / 2;
  const out = new Float64Array(d);
  for (let j = 0; j < half; j++) {
    const angle = position / theta ** ((2 * j) / d);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    out[j] = x[j]! * c - x[j + half]! * s;
    out[j + half] = x[j + half]! * c + x[j]! * s;
  }
  return out;
}

/** Final-norm hidden states, one row per token position. */
export function referenceHiddenStates(
  config: TinyQwen3Config,
  weights: TinyQwen3Weights,
  ids: readonly number[],
): Float64Array[] {
  const { hiddenSize: h, intermediateSize: m, numHeads, numKvHeads, headDim: d } = config;
  const group = numHeads / numKvHeads;
  let xs = ids.map((id) => Float64Array.from(weights.embed.subarray(id * h, (id + 1) * h)));
  for (const layer of weights.layers) {
    const queries: Float64Array[][] = [];
    const keys: Float64Array[][] = [];
    const values: Float64Array[][] = [];
    xs.forEach((x, t) => {
      const hIn = rmsNorm(x, layer.inputNorm, config.rmsNormEps);
      const q = linear(layer.q, hIn, numHeads * d);
      const k = linear(layer.k, hIn, numKvHeads * d);
      const v = linear(layer.v, hIn, numKvHeads * d);
      queries.push(
        Array.from({ length: numHeads }, (_, head) =>
          rope(
            rmsNorm(q.subarray(head * d, (head + 1) * d), layer.qNorm, config.rmsNormEps),
            t,
            config.ropeTheta,
          ),
        ),
      );
      keys.push(
        Array.from({ length: numKvHeads }, (_, head) =>
          rope(
            rmsNorm(k.subarray(head * d, (head + 1) * d), layer.kNorm, config.rmsNormEps),
            t,
            config.ropeTheta,
          ),
        ),
      );
      values.push(Array.from({ length: numKvHeads }, (_, head) => v.slice(head * d, (head + 1) * d)));
    });
    xs = xs.map((x, t) => {
      const context = new Float64Array(numHeads * d);
      for (let head = 0; head < numHeads; head++) {
        const kvHead = Math.floor(head / group);
        const q = queries[t]![head]!;
        const scores = new Float64Array(t + 1);
        let max = Number.NEGATIVE_INFINITY;
        for (let s = 0; s <= t; s++) {
          const k = keys[s]![kvHead]!;
          let dot = 0;
          for (let j = 0; j < d; j++) dot += q[j]! * k[j]!;
          scores[s] = dot / Math.sqrt(d);
          max = Math.max(max, scores[s]!);
        }
        let total = 0;
        for (let s = 0; s <= t; s++) {
          scores[s] = Math.exp(scores[s]! - max);
          total += scores[s]!;
        }
        for (let s = 0; s <= t; s++) {
          const v = values[s]![kvHead]!;
          for (let j = 0; j < d; j++) context[head * d + j]! += (scores[s]! / total) * v[j]!;
        }
      }
      const attn = linear(layer.o, context, h);
      const afterAttn = x.map((value, i) => value + attn[i]!);
      const hPost = rmsNorm(afterAttn, layer.postNorm, config.rmsNormEps);
      const gate = linear(layer.gate, hPost, m);
      const up = linear(layer.up, hPost, m);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
      const down = linear(layer.down, act, h);
      return afterAttn.map((value, i) => value + down[i]!);
    });
  }
  return xs.map((x) => rmsNorm(x, weights.finalNorm, config.rmsNormEps));
}

/** Logits of the reference network at every position (LM head applied to the final hidden state). */
export function referenceLogits(
  config: TinyQwen3Config,
  weights: TinyQwen3Weights,
  hidden: Float64Array,
): Float64Array {
  return linear(weights.lmHead, hidden, config.vocabSize);
}
