import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

describe('createProgress (not a TTY)', () => {
  it('prints a line about every 10 % with elapsed time and ETA from the injected clock, and the last step', () => {
    const lines: string[] = [];
    let now = 0;
    const progress = createProgress('cmaes', 20, { write: (t) => lines.push(t) }, { now: () => now });
    for (let g = 1; g <= 20; g++) {
      now += 1500; // 1.5 s per generation
      progress.update(g, `train ${g}`);
    }
    progress.stop();
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('cmaes 2/20 (10%) elapsed 3s ETA 27s | train 2\n');
    expect(lines.at(-1)).toBe('cmaes 20/20 (100%) elapsed 30s ETA 0s | train 20\n');
  });

  it('counts the ETA from the resume point', () => {
    const lines: string[] = [];
    let now = 0;
    const progress = createProgress(
      'grpo',
      100,
      { write: (t) => lines.push(t) },
      { now: () => now, start: 50, every: 25 },
    );
    now = 60_000;
    progress.update(75);
    expect(lines[0]).toBe('grpo 75/100 (75%) elapsed 1m00s ETA 1m00s\n');
  });
});
