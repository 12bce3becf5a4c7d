import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GoldAction, ToolCall, ToolSpec } from '@openfugu/schema';
import { describeWithData } from '@openfugu/vitest-config/data';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparedArguments, matchActions, valuesEqual } from './match.js';

const call = (name: string, args: Record<string, unknown> = {}): ToolCall => ({ name, arguments: args });
const gold = (
  name: string,
  args: Record<string, unknown> = {},
  extra: Partial<GoldAction> = {},
): GoldAction => ({
  name,
  arguments: args,
  ...extra,
});

describe('matchActions', () => {
  const G = [gold('a', { x: 1 }), gold('b', { y: 'q', z: [1, 2] }), gold('a', { x: 2 })];

  it('scores an exact answer 1 everywhere', () => {
    const m = matchActions(
      G.map((g) => call(g.name, g.arguments)),
      G,
    );
    expect(m).toMatchObject({
      precision: 1,
      recall: 1,
      f1: 1,
      weightedPrecision: 1,
      weightedRecall: 1,
      exactMatch: true,
      allGoldFound: true,
      orderScore: 1,
    });
    expect(m.pairs.map((p) => [p.goldIndex, p.predictedIndex])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
  });

  it('assigns same-name calls to the gold action they fit best (unordered)', () => {
    const m = matchActions([call('a', { x: 2 }), call('a', { x: 1 }), call('b', { y: 'q', z: [1, 2] })], G);
    expect(m.pairs.map((p) => [p.goldIndex, p.predictedIndex, p.exact])).toEqual([
      [0, 1, true],
      [1, 2, true],
      [2, 0, true],
    ]);
    expect(m.exactMatch).toBe(true);
    expect(m.orderScore).toBeCloseTo(2 / 3, 12);
  });

  it('ordered matching keeps order: a swapped pair loses one match', () => {
    const m = matchActions([call('b', { y: 'q', z: [1, 2] }), call('a', { x: 1 }), call('a', { x: 2 })], G, {
      ordered: true,
    });
    expect(m.pairs).toHaveLength(2);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.missing).toHaveLength(1);
    expect(m.exactMatch).toBe(false);
  });

  it('counts dropped, extra and hallucinated calls', () => {
    const dropped = matchActions([call('a', { x: 1 }), call('a', { x: 2 })], G);
    expect([dropped.precision, dropped.recall, dropped.missing]).toEqual([1, 2 / 3, [1]]);
    const extra = matchActions(
      [...G.map((g) => call(g.name, g.arguments)), call('a', { x: 3 }), call('nuke')],
      G,
      { tools: ['a', 'b'] },
    );
    expect(extra.recall).toBe(1);
    expect(extra.precision).toBeCloseTo(3 / 5, 12);
    expect(extra.extra).toEqual([3, 4]);
    expect(extra.hallucinated).toEqual([4]);
    expect(extra.exactMatch).toBe(false);
    expect(extra.allGoldFound).toBe(true);
  });

  it('scores arguments per call', () => {
    const m = matchActions([call('b', { y: 'q', z: [2, 1] })], [G[1]!]);
    expect(m.pairs[0]).toMatchObject({ argumentScore: 0.5, exact: false, mismatched: ['z'] });
    expect(m.weightedRecall).toBe(0.5);
    expect(m.allGoldFound).toBe(false);
  });

  it('honours compare_args ([] = name only) and drops null gold arguments', () => {
    const g = [
      gold('t', { id: 'x', note: 'ignored' }, { compare_args: ['id'] }),
      gold('n', { q: 1 }, { compare_args: [] }),
      gold('m', { a: 1, b: null }),
    ];
    expect(comparedArguments(g[0]!)).toEqual(['id']);
    expect(comparedArguments(g[2]!)).toEqual(['a']);
    const m = matchActions(
      [call('t', { id: 'x', note: 'other' }), call('n', { q: 999 }), call('m', { a: 1 })],
      g,
    );
    expect(m.exactMatch).toBe(true);
    expect(
      matchActions([call('t', { id: 'x', note: 'other' })], [g[0]!], { respectCompareArgs: false }).pairs[0]!
        .argumentScore,
    ).toBe(0.5);
  });

  it('applies the numeric tolerance and string normalisation options', () => {
    const g = [gold('p', { amount: 10.0, name: 'Bob' })];
    expect(matchActions([call('p', { amount: 10.004, name: 'Bob' })], g).exactMatch).toBe(false);
    expect(
      matchActions([call('p', { amount: 10.004, name: 'Bob' })], g, { numericTolerance: 0.01 }).exactMatch,
    ).toBe(true);
    expect(
      matchActions([call('p', { amount: 10, name: ' bob' })], g, { normalizeStrings: true }).exactMatch,
    ).toBe(true);
  });

  it('handles empty lists', () => {
    expect(matchActions([], [])).toMatchObject({ precision: 1, recall: 1, f1: 1, exactMatch: true });
    expect(matchActions([call('a')], [])).toMatchObject({
      recall: 1,
      precision: 0,
      f1: 0,
      exactMatch: false,
    });
    expect(matchActions([], [gold('a')])).toMatchObject({ precision: 1, recall: 0, f1: 0 });
  });

  it('compares values deeply, key order free', () => {
    expect(valuesEqual({ a: [1, { b: 2 }], c: null }, { c: null, a: [1, { b: 2 }] })).toBe(true);
    expect(valuesEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(valuesEqual([1, 2], [2, 1])).toBe(false);
    expect(valuesEqual(1, true)).toBe(false);
  });

  it('never exceeds bounds and is symmetric in matched counts (property)', () => {
    const names = fc.constantFrom('a', 'b', 'c');
    const args = fc.dictionary(
      fc.constantFrom('x', 'y'),
      fc.oneof(fc.integer({ min: 0, max: 2 }), fc.constant(null)),
      { maxKeys: 2 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: names, arguments: args }), { maxLength: 6 }),
        fc.array(fc.record({ name: names, arguments: args }), { maxLength: 6 }),
        fc.boolean(),
        (predicted, golds, ordered) => {
          const m = matchActions(predicted, golds, { ordered });
          for (const value of [
            m.precision,
            m.recall,
            m.f1,
            m.weightedPrecision,
            m.weightedRecall,
            m.orderScore,
          ]) {
            expect(value).toBeGreaterThanOrEqual(0);
            expect(value).toBeLessThanOrEqual(1);
          }
          expect(m.pairs.length + m.missing.length).toBe(golds.length);
          expect(m.pairs.length + m.extra.length).toBe(predicted.length);
          const unordered = matchActions(predicted, golds);
          // the unordered assignment is never worse than the ordered one
          expect(unordered.pairs.length).toBeGreaterThanOrEqual(m.pairs.length);
          // unordered assignment pairs as many as possible per name
          const per = new Map<string, [number, number]>();
          for (const p of predicted)
            per.set(p.name, [(per.get(p.name)?.[0] ?? 0) + 1, per.get(p.name)?.[1] ?? 0]);
          for (const g of golds)
            per.set(g.name, [per.get(g.name)?.[0] ?? 0, (per.get(g.name)?.[1] ?? 0) + 1]);
          const best = [...per.values()].reduce((sum, [p, g]) => sum + Math.min(p, g), 0);
          expect(unordered.pairs.length).toBe(best);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describeWithData('tau2 gold lists', ['tau2'], (dir) => {
  const load = (domain: string) => {
    const tasks = JSON.parse(readFileSync(path.join(dir, domain, 'tasks.json'), 'utf8')) as Array<{
      id: string;
      evaluation_criteria?: { actions?: GoldAction[] | null } | null;
    }>;
    const tools = (JSON.parse(readFileSync(path.join(dir, domain, 'tools.json'), 'utf8')) as ToolSpec[]).map(
      (t) => t.function.name,
    );
    return { tasks, tools };
  };
  const asCalls = (actions: readonly GoldAction[]): ToolCall[] =>
    actions.map((a) => ({ name: a.name, arguments: structuredClone(a.arguments) }));

  for (const domain of ['airline', 'retail']) {
    it(`${domain}: every gold list matched against itself scores 1, perturbations score as expected`, () => {
      const { tasks, tools } = load(domain);
      let checked = 0;
      for (const task of tasks) {
        const actions = task.evaluation_criteria?.actions ?? [];
        for (const ordered of [false, true]) {
          const self = matchActions(asCalls(actions), actions, { tools, ordered });
          expect(self, task.id).toMatchObject({
            precision: 1,
            recall: 1,
            f1: 1,
            exactMatch: true,
            allGoldFound: true,
            orderScore: 1,
          });
          expect(self.hallucinated).toEqual([]);
        }
        const n = actions.length;
        if (n === 0) continue;
        checked++;
        // dropped call
        const dropped = matchActions(asCalls(actions).slice(1), actions, { tools });
        expect(dropped.recall).toBeCloseTo((n - 1) / n, 12);
        expect(dropped.precision).toBe(1);
        // extra call of a real tool, and a hallucinated one
        const extra = matchActions(
          [
            ...asCalls(actions),
            { name: tools[0]!, arguments: { zz: 1 } },
            { name: 'made_up', arguments: {} },
          ],
          actions,
          { tools },
        );
        expect(extra.recall).toBe(1);
        expect(extra.precision).toBeCloseTo(n / (n + 2), 12);
        expect(extra.hallucinated).toEqual([n + 1]);
        // wrong argument in the first action with compared arguments
        const index = actions.findIndex((a) => comparedArguments(a).length > 0);
        if (index !== -1) {
          const calls = asCalls(actions);
          const key = comparedArguments(actions[index]!)[0]!;
          calls[index]!.arguments[key] = '__wrong__';
          const wrong = matchActions(calls, actions, { tools });
          expect(wrong.exactMatch).toBe(false);
          expect(wrong.recall).toBe(1);
          const pair = wrong.pairs.find((p) => p.predictedIndex === index);
          expect(pair?.mismatched ?? ['__other_pairing__']).toContain(key);
        }
        // reversed order: unordered still exact; ordered keeps only the longest order-preserving subsequence
        const reversed = asCalls(actions).reverse();
        expect(matchActions(reversed, actions, { tools }).exactMatch).toBe(true);
        const orderedReversed = matchActions(reversed, actions, { tools, ordered: true });
        if (n > 1 && new Set(actions.map((a) => a.name)).size === n)
          expect(orderedReversed.pairs.length).toBe(1);
      }
      expect(checked).toBeGreaterThan(40);
    });
  }
});
