import {
  createValidator,
  NoAvailableWorkerError,
  OpenFuguError,
  RoutingDecisionSchema,
} from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { createHashingBackbone, createHashingBackboneFromId } from './backbones/hashing.js';
import { createRouterHead } from './head.js';
import { parseHead, serializeHead } from './head-io.js';
import { createRouter, maskedSoftmax, resolveMask, routeWithHead } from './router.js';

// 3 agents + 3 roles over 2-d features: agent logits = [x0, x1, -x0], role logits = [1, 0, 0] · x0.
const head = createRouterHead({
  agentCount: 3,
  dimension: 2,
  weights: [1, 0, 0, 1, -1, 0, 1, 0, 0, 0, 0, 0],
  agents: ['a', 'b', 'c'],
});

describe('routeWithHead', () => {
  it('takes the argmax agent and role and returns a schema-valid decision', () => {
    const decision = routeWithHead(head, ['a', 'b', 'c'], [2, 1]);
    expect(decision.agent).toBe('a');
    expect(decision.agentIndex).toBe(0);
    expect(decision.role).toBe('worker');
    expect(decision.agentLogits).toEqual([2, 1, -2]);
    const z = Math.exp(2) + Math.exp(1) + Math.exp(-2);
    expect(decision.agentProbabilities[0]).toBeCloseTo(Math.exp(2) / z, 12);
    expect(decision.roleLogits).toEqual([2, 0, 0]);
    const validate = createValidator(RoutingDecisionSchema);
    expect(validate.validate(decision).ok).toBe(true);
  });

  it('masks agents to -inf before the softmax (boolean masks and id subsets)', () => {
    const byBool = routeWithHead(head, ['a', 'b', 'c'], [2, 1], { mask: [false, true, true] });
    expect(byBool.agent).toBe('b');
    expect(byBool.agentProbabilities[0]).toBe(0);
    expect(byBool.agentProbabilities[1]! + byBool.agentProbabilities[2]!).toBeCloseTo(1, 12);
    const byId = routeWithHead(head, ['a', 'b', 'c'], [2, 1], { mask: ['c'] });
    expect(byId.agent).toBe('c');
    expect(byId.agentProbabilities).toEqual([0, 0, 1]);
  });

  it('throws NoAvailableWorkerError for a fully masked pool, never NaN', () => {
    for (const mask of [[false, false, false], []]) {
      try {
        routeWithHead(head, ['a', 'b', 'c'], [2, 1], { mask });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(NoAvailableWorkerError);
        expect(OpenFuguError.hasCode(error, 'no_available_worker')).toBe(true);
      }
    }
    expect(() => routeWithHead(head, ['a', 'b', 'c'], [2, 1], { mask: ['zzz'] })).toThrow(
      /unknown agent 'zzz'/,
    );
    expect(() => routeWithHead(head, ['a', 'b', 'c'], [2, 1], { mask: [true] })).toThrow(/3 agents/);
  });

  it('samples with the injected generator and temperature', () => {
    // Probabilities at T=1 for logits [0, 0, 0] are uniform: u in [0, 1/3) → a, [1/3, 2/3) → b, else c.
    const pick = (u: number): string =>
      routeWithHead(head, ['a', 'b', 'c'], [0, 0], { sample: true, random: () => u }).agent;
    expect([pick(0.1), pick(0.5), pick(0.9)]).toEqual(['a', 'b', 'c']);
    // Masked agents are never sampled, even at u close to 1.
    expect(
      routeWithHead(head, ['a', 'b', 'c'], [0, 0], { sample: true, random: () => 0.999999, mask: ['a', 'b'] })
        .agent,
    ).toBe('b');
    const hot = routeWithHead(head, ['a', 'b', 'c'], [2, 1], { temperature: 100 });
    const cold = routeWithHead(head, ['a', 'b', 'c'], [2, 1], { temperature: 0.01 });
    expect(hot.agentProbabilities[0]).toBeLessThan(0.35);
    expect(cold.agentProbabilities[0]).toBeCloseTo(1, 10);
    expect(() => routeWithHead(head, ['a', 'b', 'c'], [2, 1], { sample: true })).toThrow(/random/);
    expect(() => routeWithHead(head, ['a', 'b', 'c'], [2, 1], { temperature: 0 })).toThrow(/temperature/);
  });

  it('rejects features of the wrong length and non-finite logits', () => {
    expect(() => routeWithHead(head, ['a', 'b', 'c'], [1, 2, 3])).toThrow(/expects 2/);
    expect(() => routeWithHead(head, ['a', 'b', 'c'], [Number.NaN, 0])).toThrow(/non-finite/);
  });

  it('defaults the role to worker for heads without role rows', () => {
    const noRoles = createRouterHead({ agentCount: 2, dimension: 1, roles: false, weights: [1, 2] });
    const decision = routeWithHead(noRoles, ['x', 'y'], [1]);
    expect(decision).toMatchObject({ agent: 'y', role: 'worker' });
    expect(decision.roleProbabilities).toBeUndefined();
  });
});

describe('maskedSoftmax / resolveMask', () => {
  it('is stable for large logits and sums to one', () => {
    const p = maskedSoftmax([1000, 1001, -1000]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(maskedSoftmax([1, 2], [false, false])).toEqual([0, 0]);
    expect(resolveMask(undefined, ['a', 'b'])).toEqual([true, true]);
  });
});

describe('createRouter', () => {
  it('routes rendered messages through the backbone (async and sync agree)', async () => {
    const backbone = createHashingBackbone({ dimension: 16 });
    const h = createRouterHead({
      agentCount: 2,
      dimension: 16,
      weights: Array.from({ length: 80 }, (_, i) => Math.sin(i)),
    });
    const router = createRouter({ backbone, head: h, agents: ['small', 'large'] });
    const messages = [{ role: 'user' as const, content: 'Prove that the square root of 2 is irrational.' }];
    const a = await router.route(messages);
    const b = router.routeSync(messages);
    expect(a).toEqual(b);
    expect(
      router.routeFeatures(backbone.embedSync('user: Prove that the square root of 2 is irrational.')),
    ).toEqual(a);
  });

  it('checks agents and dimensions', () => {
    const backbone = createHashingBackbone({ dimension: 8 });
    expect(() => createRouter({ backbone, head })).toThrow(/dimension 8/);
    const h = createRouterHead({ agentCount: 2, dimension: 8 });
    expect(() => createRouter({ backbone, head: h, agents: ['a'] })).toThrow(/2 agent rows/);
    expect(() => createRouter({ backbone, head: h, agents: ['a', 'a'] })).toThrow(/unique/);
    expect(() => createRouter({ backbone, head: h })).toThrow(/agent ids/);
  });

  it('a head saved with a hashing-v1 id routes exactly as before after loading (default now v2)', () => {
    const v1 = createHashingBackbone({ version: 1, dimension: 32 });
    const trained = createRouterHead({
      agentCount: 3,
      dimension: 32,
      weights: Array.from({ length: 6 * 32 }, (_, i) => Math.cos(i * 0.7)),
      backboneId: v1.id,
    });
    const before = createRouter({ backbone: v1, head: trained, agents: ['a', 'b', 'c'] });
    const prompts = ['user: 2 + 2?', 'user: write a haiku about rain', 'user: fix my SQL query please'];
    for (const format of ['safetensors', 'json'] as const) {
      const loaded = parseHead(serializeHead(trained, format, { dtype: 'float64' }));
      expect(loaded.backboneId).toBe('hashing-v1:d32:w1:b1:c3-5:s0');
      const after = createRouter({
        backbone: createHashingBackboneFromId(loaded.backboneId!),
        head: loaded,
        agents: ['a', 'b', 'c'],
      });
      for (const prompt of prompts) expect(after.routeSync(prompt)).toEqual(before.routeSync(prompt));
      // The default backbone (v2) is refused for this head instead of silently giving other features.
      expect(() =>
        createRouter({
          backbone: createHashingBackbone({ dimension: 32 }),
          head: loaded,
          agents: ['a', 'b', 'c'],
        }),
      ).toThrow(/trained on backbone hashing-v1/);
    }
  });

  it('refuses a hashing backbone other than the one the head was trained on', () => {
    const v1 = createHashingBackbone({ version: 1, dimension: 8 });
    const v2 = createHashingBackbone({ version: 2, dimension: 8 });
    const trainedOnV1 = createRouterHead({ agentCount: 2, dimension: 8, backboneId: v1.id });
    expect(() => createRouter({ backbone: v2, head: trainedOnV1, agents: ['a', 'b'] })).toThrow(
      /trained on backbone hashing-v1:d8:w1:b1:c3-5:s0 but the router was given hashing-v2:d8/,
    );
    expect(() =>
      createRouter({
        backbone: createHashingBackbone({ version: 1, dimension: 8, seed: 1 }),
        head: trainedOnV1,
        agents: ['a', 'b'],
      }),
    ).toThrow(/createHashingBackboneFromId/);
    expect(
      createRouter({
        backbone: createHashingBackboneFromId(trainedOnV1.backboneId!),
        head: trainedOnV1,
        agents: ['a', 'b'],
      }).backbone.id,
    ).toBe(v1.id);
    // Heads without a recorded backbone, or trained on a non-hashing backbone, are not checked.
    expect(() =>
      createRouter({
        backbone: v2,
        head: createRouterHead({ agentCount: 2, dimension: 8 }),
        agents: ['a', 'b'],
      }),
    ).not.toThrow();
    const foreign = createRouterHead({ agentCount: 2, dimension: 8, backboneId: 'onnx-decoder:qwen3' });
    expect(() => createRouter({ backbone: v2, head: foreign, agents: ['a', 'b'] })).not.toThrow();
  });
});
