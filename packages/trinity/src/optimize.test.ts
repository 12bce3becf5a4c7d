import { describe, expect, it } from 'vitest';
import { createHashingBackbone } from './backbones/hashing.js';
import { runCoordinator } from './coordinator.js';
import { optimizeRouterHead } from './optimize.js';
import { createRouter } from './router.js';
import { createScriptedWorker } from './test.js';

describe('optimizeRouterHead with multi-turn coordinator rollouts', () => {
  it('learns to route to the worker that answers correctly, and to accept with a Verifier', async () => {
    // 16 dimensions: with 8, the default hashing-v2 merges too many of these short prompts' features into the
    // same buckets for 15 generations to find the best head (v1 at 8 did; v2 at 8 needs ~40 generations).
    const backbone = createHashingBackbone({ dimension: 16 });
    const agents = ['wrong', 'right'];
    const tasks = [
      { q: 'What is 2 + 2?', a: '4' },
      { q: 'What is 3 * 3?', a: '9' },
      { q: 'Capital of France?', a: 'Paris' },
    ];
    // Reward: 1 for a correct final answer, minus 0.1 per turn (so accepting early pays).
    const fitness = async (head: Parameters<typeof createRouter>[0]['head']): Promise<number> => {
      const router = createRouter({ backbone, head, agents });
      let total = 0;
      for (const task of tasks) {
        const workers = [
          createScriptedWorker({
            id: 'wrong',
            replies: [
              (r) => (String(r.messages[0]?.content).startsWith('You are the Verifier') ? 'Wrong.' : '42'),
            ],
          }),
          createScriptedWorker({
            id: 'right',
            replies: [
              (r) => (String(r.messages[0]?.content).startsWith('You are the Verifier') ? 'ACCEPT' : task.a),
            ],
          }),
        ];
        const result = await runCoordinator({
          router,
          workers,
          messages: [{ role: 'user', content: task.q }],
          maxTurns: 3,
        });
        total += (result.answer === task.a ? 1 : 0) - 0.1 * result.turns.length;
      }
      return total / tasks.length;
    };
    const progress: number[] = [];
    const { head, bestScore, history } = await optimizeRouterHead({
      agentCount: 2,
      dimension: 16,
      fitness,
      seed: 4,
      sigma0: 1,
      maxGenerations: 15,
      onProgress: (g) => progress.push(g.bestSoFar),
    });
    expect(history).toHaveLength(15);
    expect(progress.at(-1)).toBe(bestScore);
    // Best possible: right/worker then right/verifier ACCEPT → 1 − 0.2 = 0.8.
    expect(bestScore).toBeCloseTo(0.8, 10);
    expect(await fitness(head)).toBeCloseTo(0.8, 10);
  });

  it('checks x0 and honours abort', async () => {
    await expect(
      optimizeRouterHead({ agentCount: 2, dimension: 4, fitness: () => 0, x0: [1] }),
    ).rejects.toThrow(/x0/);
    await expect(
      optimizeRouterHead({ agentCount: 2, dimension: 4, fitness: () => 0, signal: AbortSignal.abort() }),
    ).rejects.toThrow(/aborted/);
  });
});
