/**
 * The fallback router used when no trained TRINITY head is available: keyword domain detection plus a
 * table of recorded success rates per (domain, worker). It is a heuristic, and is labelled as one.
 */
import { detectDomain, SIM_DOMAINS, type SimDomain } from './sim/skills.js';

/** Recorded outcomes: for each task, its prompt and which workers answered it correctly. */
export interface RecordedOutcome {
  prompt: string;
  correct: readonly boolean[];
}

/** A fitted domain table. */
export interface DomainRouter {
  /** Best worker index per domain. */
  readonly table: Readonly<Record<SimDomain, number>>;
  /** Success rate per domain and worker, as measured on the recorded outcomes. */
  readonly rates: Readonly<Record<SimDomain, readonly number[]>>;
  route(text: string, available?: readonly boolean[]): number;
}

/**
 * Fits the per-domain best worker from recorded outcomes; ties go to the cheaper worker (`costs`).
 *
 * @example
 * ```ts
 * const router = fitDomainRouter(outcomes, 4, [0.8, 1.5, 0.5, 12.5]);
 * router.route('What is 3 * 4?'); // index of the best math worker
 * ```
 */
export function fitDomainRouter(
  outcomes: readonly RecordedOutcome[],
  workerCount: number,
  costs?: readonly number[],
): DomainRouter {
  const hits = Object.fromEntries(
    SIM_DOMAINS.map((domain) => [domain, new Array<number>(workerCount).fill(0)]),
  ) as Record<SimDomain, number[]>;
  const totals = Object.fromEntries(SIM_DOMAINS.map((domain) => [domain, 0])) as Record<SimDomain, number>;
  for (const outcome of outcomes) {
    const domain = detectDomain(outcome.prompt);
    totals[domain]++;
    outcome.correct.forEach((ok, index) => {
      if (ok && index < workerCount) hits[domain][index]! += 1;
    });
  }
  const rates = {} as Record<SimDomain, number[]>;
  const table = {} as Record<SimDomain, number>;
  for (const domain of SIM_DOMAINS) {
    rates[domain] = hits[domain].map((count) => (totals[domain] > 0 ? count / totals[domain] : 0));
    table[domain] = order(rates[domain], costs)[0] ?? 0;
  }
  return {
    table,
    rates,
    route(text, available) {
      const domain = detectDomain(text);
      const ranked = order(rates[domain], costs);
      return ranked.find((index) => available?.[index] !== false) ?? ranked[0] ?? 0;
    },
  };
}

function order(rates: readonly number[], costs: readonly number[] | undefined): number[] {
  return rates
    .map((rate, index) => ({ rate, index, cost: costs?.[index] ?? 0 }))
    .sort((a, b) => b.rate - a.rate || a.cost - b.cost || a.index - b.index)
    .map((entry) => entry.index);
}
