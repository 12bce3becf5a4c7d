import { describe, expect, it } from 'vitest';
import type { CmaesState } from './cmaes.js';
import { maximize, minimize } from './minimize.js';
import { rastrigin, rosenbrock, sphere } from './objectives.js';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('minimize', () => {
  it('minimises an async fitness with a concurrency limit and reports progress per generation', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const progress: number[] = [];
    const result = await minimize(
      async (x) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await tick();
        inFlight--;
        return sphere(x);
      },
      {
        dimension: 4,
        x0: 2,
        sigma0: 1,
        seed: 1,
        concurrency: 3,
        targetFitness: 1e-8,
        onGeneration: (p) => {
          progress.push(p.evaluations);
        },
      },
    );
    expect(result.reason).toBe('targetFitness');
    expect(result.fitness).toBeLessThanOrEqual(1e-8);
    expect(sphere(result.x)).toBe(result.fitness);
    expect(maxInFlight).toBe(3);
    expect(progress.length).toBe(result.generations);
    expect(progress.at(-1)).toBe(result.evaluations);
    expect(progress.every((v, i) => i === 0 || v > progress[i - 1]!)).toBe(true);
  });

  it('evaluates the whole generation at once by default', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    await minimize(
      async (x) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await tick();
        inFlight--;
        return sphere(x);
      },
      { dimension: 10, sigma0: 1, seed: 1, maxEvaluations: 30, method: 'sep' },
    );
    expect(maxInFlight).toBe(10);
  });

  it('resolves with reason "aborted" and the best so far when the signal fires', async () => {
    const controller = new AbortController();
    let calls = 0;
    const result = await minimize(
      async (x, context) => {
        calls++;
        if (calls === 50) controller.abort();
        await tick();
        expect(context.signal).toBe(controller.signal);
        return sphere(x);
      },
      { dimension: 5, x0: 1, sigma0: 0.5, seed: 2, concurrency: 2, signal: controller.signal },
    );
    expect(result.reason).toBe('aborted');
    expect(calls).toBeLessThanOrEqual(51);
    expect(Number.isFinite(result.fitness)).toBe(true);
  });

  it('does not start when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    let calls = 0;
    const result = await minimize(
      () => {
        calls++;
        return 0;
      },
      { dimension: 2, sigma0: 1, signal: controller.signal },
    );
    expect(calls).toBe(0);
    expect(result.reason).toBe('aborted');
    expect(result.fitness).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects with the error a fitness function throws', async () => {
    const boom = new Error('boom');
    await expect(
      minimize(
        async () => {
          throw boom;
        },
        { dimension: 2, sigma0: 1 },
      ),
    ).rejects.toBe(boom);
  });

  it('resumes from a checkpoint to the same result as an uninterrupted run', async () => {
    const options = { dimension: 6, x0: 2, sigma0: 1, seed: 4, maxEvaluations: 600 } as const;
    const straight = await minimize(rosenbrock, options);
    const controller = new AbortController();
    let checkpoint: CmaesState | undefined;
    const interrupted = await minimize(rosenbrock, {
      ...options,
      signal: controller.signal,
      onGeneration: ({ generation, optimizer }) => {
        if (generation === 20) {
          checkpoint = JSON.parse(JSON.stringify(optimizer.state()));
          controller.abort();
        }
      },
    });
    expect(interrupted.reason).toBe('aborted');
    const resumed = await minimize(rosenbrock, { ...options, resume: checkpoint! });
    expect(resumed.reason).toBe('maxEvaluations');
    expect(resumed.evaluations).toBe(straight.evaluations);
    expect(resumed.fitness).toBe(straight.fitness);
    expect(resumed.x).toEqual(straight.x);
    await expect(minimize(rosenbrock, { ...options, dimension: 5, resume: checkpoint! })).rejects.toThrow(
      /resume/,
    );
  });

  it('counts NaN fitness values over the run', async () => {
    let k = 0;
    const result = await minimize((x) => (k++ % 5 === 0 ? Number.NaN : sphere(x)), {
      dimension: 3,
      sigma0: 1,
      seed: 1,
      maxEvaluations: 100,
      method: 'sep',
    });
    expect(result.nonFiniteEvaluations).toBe(Math.ceil(result.evaluations / 5));
  });

  it('IPOP restarts (population doubling) find the global optimum of Rastrigin where a single run does not', async () => {
    const single: number[] = [];
    const ipop: number[] = [];
    for (const seed of [1, 2, 3]) {
      const options = { dimension: 5, x0: 3, sigma0: 2, seed, targetFitness: 1e-8, maxEvaluations: 40_000 };
      single.push((await minimize(rastrigin, options)).fitness);
      const restarted = await minimize(rastrigin, { ...options, restarts: 8 });
      ipop.push(restarted.fitness);
      expect(restarted.runs[0]!.populationSize).toBe(8);
      if (restarted.runs.length > 1) expect(restarted.runs[1]!.populationSize).toBe(16);
    }
    for (const f of single) expect(f).toBeGreaterThan(0.9); // a local minimum
    for (const f of ipop) expect(f).toBeLessThanOrEqual(1e-8);
  });
});

describe('maximize', () => {
  it('maximises and reports values in the original sign', async () => {
    const seen: number[] = [];
    const result = await maximize((x) => 5 - sphere(x), {
      dimension: 3,
      x0: 1,
      sigma0: 0.5,
      seed: 3,
      targetFitness: 5 - 1e-10,
      onGeneration: (p) => {
        seen.push(p.bestFitness);
      },
    });
    expect(result.reason).toBe('targetFitness');
    expect(result.fitness).toBeGreaterThanOrEqual(5 - 1e-10);
    expect(result.fitness).toBeLessThanOrEqual(5);
    expect(seen.at(-1)).toBe(result.fitness);
    expect(result.runs[0]!.bestFitness).toBe(result.fitness);
  });
});
