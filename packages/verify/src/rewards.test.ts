import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GoldAction } from '@openfugu/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonish } from './__fixtures__/arbitraries.js';
import { NumberLiteral, parseJsonTolerant } from './json.js';
import { pythonFloatRepr, pythonRepr, pythonStringRepr } from './python-repr.js';
import { composeRewards, defineReward } from './reward.js';
import {
  actionReward,
  createActionReward,
  createFormatReward,
  formatReward,
  openfuguActionReward,
  openfuguFormatReward,
} from './rewards.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const answer = (calls: unknown): string => `<think>plan</think><answer>${JSON.stringify(calls)}</answer>`;
const GOLD: GoldAction[] = [
  { name: 'get_user_details', arguments: { user_id: 'u1' } },
  { name: 'cancel_reservation', arguments: { reservation_id: 'R1', reason: null } },
];
const REF = { actions: GOLD, tools: ['get_user_details', 'cancel_reservation', 'book_reservation'] };

describe('openfuguActionReward (reference formula)', () => {
  it('matches the reference Python implementation on 598 generated cases', () => {
    // Expected values were computed by the reference `_parse_plan` + `_score` of trotsky1997/OpenFugu
    // (train/toolscale_data.py) on synthetic gold lists and perturbed completions; the file is parsed
    // losslessly so that gold floats such as 5.0 stay floats, as they do in Python.
    const parsed = parseJsonTolerant(
      readFileSync(path.join(here, '__fixtures__', 'openfugu-reference-rewards.json'), 'utf8'),
      {
        lossless: true,
      },
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const cases = parsed.value as Array<{
      kind: string;
      completion: string;
      gold: GoldAction[];
      expected: NumberLiteral;
    }>;
    expect(cases.length).toBe(598);
    const kinds = new Set<string>();
    for (const c of cases) {
      kinds.add(c.kind);
      expect(
        openfuguActionReward(c.completion, c.gold),
        `${c.kind}: ${c.completion.slice(0, 120)}`,
      ).toBeCloseTo(c.expected.value, 12);
    }
    expect(kinds.size).toBeGreaterThan(12);
  });

  it('gives a padded answer 1.0 (it does not penalise extra calls)', () => {
    const padded = answer([
      ...GOLD.map((g) => ({ name: g.name, arguments: { ...g.arguments, reason: undefined } })),
      { name: 'delete_account', arguments: {} },
    ]);
    expect(openfuguActionReward(padded, REF)).toBe(1);
    expect(actionReward(padded, REF)).toBeLessThan(0.75);
  });

  it('computes the documented parts', () => {
    const details = openfuguActionReward.details(
      answer([{ name: 'get_user_details', arguments: { user_id: 'u2' } }]),
      GOLD,
    );
    // name recall 1/2, prefix 1/2, args 0/2 → 0.7·(0.6·0.5 + 0.4·0.5) + 0 = 0.35
    expect(details.reward).toBeCloseTo(0.35, 12);
    expect(details.details).toMatchObject({ nameRecall: 0.5, orderedPrefix: 0.5, argumentMatch: 0 });
    expect(openfuguActionReward('no answer here', GOLD)).toBe(0);
    expect(openfuguActionReward(answer([]), [])).toBe(0);
  });
});

describe('formatReward', () => {
  it('grades exact, partial and missing formats', () => {
    expect(formatReward(answer([{ name: 'f', arguments: {} }]), null)).toBe(1);
    expect(formatReward('<think>a</think><answer>[]</answer>', null)).toBe(1);
    expect(formatReward("<think>a</think><answer>[{'name': 'f', 'arguments': {}}]</answer>", null)).toBe(0.5);
    expect(formatReward('<answer>[{"name": "f", "arguments": {}}]</answer>', null)).toBe(0.5);
    expect(formatReward('<think>a</think><answer>[{"name": "f"}]</answer>', null)).toBe(0.5);
    expect(
      formatReward('<think>a</think><answer>[{"name": "f", "arguments": {}}]</answer> trailing', null),
    ).toBe(0.5);
    expect(formatReward('<think>a</think>', null)).toBe(0);
    expect(formatReward('<think>a</think><answer>not json</answer>', null)).toBe(0);
    expect(createFormatReward({ prefilledThink: true })('a</think><answer>[]</answer>', null)).toBe(1);
    expect(createFormatReward({ partialCredit: 0.2 })('<answer>[]</answer>', null)).toBe(0.2);
  });

  it('the reference format reward only looks for the tags', () => {
    expect(openfuguFormatReward('x</think><answer>anything</answer>', null)).toBe(1);
    // "<think>" is prepended, but "</think>" is missing
    expect(openfuguFormatReward('<answer>anything</answer>', null)).toBe(0);
  });
});

describe('actionReward (default)', () => {
  const exact = answer([
    { name: 'get_user_details', arguments: { user_id: 'u1' } },
    { name: 'cancel_reservation', arguments: { reservation_id: 'R1' } },
  ]);
  it('is 1 exactly for the gold list in order', () => {
    expect(actionReward(exact, REF)).toBe(1);
    expect(actionReward(exact, GOLD)).toBe(1);
    expect(actionReward(exact, { evaluation_criteria: { actions: GOLD } })).toBe(1);
    expect(
      actionReward(
        '<tool_call>{"name":"get_user_details","arguments":{"user_id":"u1"}}</tool_call><tool_call>{"name":"cancel_reservation","arguments":{"reservation_id":"R1"}}</tool_call>',
        REF,
      ),
    ).toBe(1);
  });

  it('orders the usual mistakes sensibly', () => {
    const r = (calls: unknown) => actionReward(answer(calls), REF);
    const g0 = { name: 'get_user_details', arguments: { user_id: 'u1' } };
    const g1 = { name: 'cancel_reservation', arguments: { reservation_id: 'R1' } };
    const swapped = r([g1, g0]);
    const wrongArg = r([g0, { ...g1, arguments: { reservation_id: 'R9' } }]);
    const dropped = r([g0]);
    const paddedReal = r([g0, g1, { name: 'book_reservation', arguments: {} }]);
    const paddedFake = r([g0, g1, { name: 'wipe_db', arguments: {} }]);
    expect(swapped).toBeCloseTo(0.9, 12); // order term: 1 − 0.2·(1 − 1/2)
    expect(wrongArg).toBeCloseTo(0.75, 12); // credit 1.5 of 2 on both sides
    expect(dropped).toBeCloseTo(2 / 3, 12); // P = 1, R = 1/2
    expect(paddedReal).toBeCloseTo(0.8, 12); // P = 2/3, R = 1
    expect(paddedFake).toBeCloseTo(2 / 3, 12); // the hallucinated call counts twice: P = 2/4
    expect(paddedFake).toBeLessThan(paddedReal);
    expect(r([])).toBe(0);
    expect(actionReward('I cannot help with that.', REF)).toBe(0);
    expect(actionReward(answer([]), { actions: [] })).toBe(1);
    expect(actionReward(answer([g0]), { actions: [] })).toBe(0);
  });

  it('counts unreadable items as extra calls', () => {
    const g0 = { name: 'get_user_details', arguments: { user_id: 'u1' } };
    const g1 = { name: 'cancel_reservation', arguments: { reservation_id: 'R1' } };
    const details = actionReward.details(answer([g0, g1, { arguments: {} }]), REF);
    expect(details.details.invalidCalls).toBe(1);
    expect(details.reward).toBeCloseTo(0.8, 12);
    const hermes = actionReward.details(
      `<tool_call>${JSON.stringify(g0)}</tool_call><tool_call>${JSON.stringify(g1)}</tool_call><tool_call>{oops</tool_call>`,
      REF,
    );
    expect(hermes.details.invalidCalls).toBe(1);
    expect(hermes.reward).toBeCloseTo(0.8, 12);
  });

  it('options change the weights', () => {
    const nameOnly = createActionReward({ nameWeight: 1 });
    const g0 = { name: 'get_user_details', arguments: { user_id: 'wrong' } };
    const g1 = { name: 'cancel_reservation', arguments: { reservation_id: 'wrong' } };
    expect(nameOnly(answer([g0, g1]), REF)).toBe(1);
    expect(createActionReward({ orderWeight: 0 })(answer([g1, g0]), REF)).toBeCloseTo(0.5, 12);
  });
});

describe('rewards are total, bounded and deterministic', () => {
  const references = fc.oneof(
    fc.constant<unknown>(REF),
    fc.constant<unknown>(GOLD),
    fc.constant<unknown>(null),
    fc.constant<unknown>({ actions: null }),
    fc.anything(),
  );
  const completions = fc.oneof(
    fc.string(),
    jsonish(),
    fc
      .array(
        fc.constantFrom(
          '<think>',
          '</think>',
          '<answer>',
          '</answer>',
          '[',
          ']',
          '{"name":',
          '"get_user_details"',
          '"arguments":',
          '{}',
          '}',
          ',',
          "'",
          'NaN',
        ),
        { maxLength: 30 },
      )
      .map((parts) => parts.join('')),
  );
  it('never throws, always finite and within bounds', () => {
    const all = [actionReward, openfuguActionReward, formatReward, openfuguFormatReward] as const;
    fc.assert(
      fc.property(completions, references, (completion, reference) => {
        for (const fn of all) {
          const value = (fn as (c: string, r: unknown) => number)(completion, reference);
          expect(Number.isFinite(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(1);
          expect((fn as (c: string, r: unknown) => number)(completion, reference)).toBe(value);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it.each(['[', '{', '<answer>', '<answer>[', '<think><answer>[{"name":"a","arguments":{"x":[', "'"])(
    'handles 1 MB of %j',
    (unit) => {
      const text = unit.repeat(Math.ceil(1_000_000 / unit.length));
      for (const fn of [actionReward, openfuguActionReward, formatReward]) {
        expect((fn as (c: string, r: unknown) => number)(text, REF)).toBe(0);
      }
    },
  );

  it('wraps throwing and non-finite computations', () => {
    const throwing = defineReward<unknown, object>('t', { min: 0, max: 1 }, () => {
      throw new Error('boom');
    });
    expect(throwing('x', null)).toBe(0);
    expect(throwing.details('x', null).details).toEqual({ error: 'boom' });
    const nan = defineReward<unknown, object>('n', { min: -1, max: 1 }, () => ({
      reward: Number.NaN,
      details: {},
    }));
    expect(nan('x', null)).toBe(-1);
    const big = defineReward<unknown, object>('b', { min: 0, max: 1 }, () => ({ reward: 7, details: {} }));
    expect(big('x', null)).toBe(1);
  });
});

describe('composeRewards and batch', () => {
  it('sums weighted parts with details', () => {
    const reward = composeRewards([
      { fn: formatReward, weight: 0.2 },
      { fn: actionReward, weight: 0.8 },
      { fn: () => Number.NaN, weight: 1, name: 'broken' },
    ]);
    const text = answer([{ name: 'get_user_details', arguments: { user_id: 'u1' } }]);
    const value = reward(text, REF);
    expect(value).toBeCloseTo(0.2 + 0.8 * actionReward(text, REF), 12);
    const details = reward.details(text, REF).details;
    expect(details.parts?.map((p) => p.name)).toEqual(['format', 'action', 'broken']);
    expect(reward.bounds).toEqual({ min: 0, max: 2 });
  });

  it('batch returns rewards and details in order and checks lengths', () => {
    const texts = [answer([]), 'junk'];
    const out = actionReward.batch(texts, [{ actions: [] }, REF]);
    expect(out.rewards).toEqual([1, 0]);
    expect(out.details[1]!.unparsed).toBe(true);
    expect(() => actionReward.batch(texts, [REF])).toThrow(/as many references/);
  });
});

describe('python repr', () => {
  it('prints like CPython', () => {
    expect(pythonRepr([1, true, null, 'a', { k: [1.5] }])).toBe("[1, True, None, 'a', {'k': [1.5]}]");
    expect(pythonStringRepr("it's")).toBe(`"it's"`);
    expect(pythonStringRepr(`a'b"c\n\u0001\u00e9\u200b`)).toBe(`'a\\'b"c\\n\\x01\u00e9\\u200b'`);
    expect(
      [1e16, 1e15, 0.0001, 1e-5, 123.456, -0, 2.5e-7, 1.7976931348623157e308].map(pythonFloatRepr),
    ).toEqual([
      '1e+16',
      '1000000000000000.0',
      '0.0001',
      '1e-05',
      '123.456',
      '-0.0',
      '2.5e-07',
      '1.7976931348623157e+308',
    ]);
    expect(pythonRepr(new NumberLiteral('5.0', 5, false))).toBe('5.0');
    expect(pythonRepr(new NumberLiteral('123456789012345678901', 1.2345678901234568e20, true))).toBe(
      '123456789012345678901',
    );
  });
});

describe('README examples', () => {
  // The table "Both action rewards on examples" in README.md shows exactly these values.
  const gold: GoldAction[] = [
    { name: 'get_reservation_details', arguments: { reservation_id: 'EHGLP3' } },
    { name: 'cancel_reservation', arguments: { reservation_id: 'EHGLP3' } },
  ];
  const ref = {
    actions: gold,
    tools: ['get_reservation_details', 'cancel_reservation', 'get_user_details', 'book_reservation'],
  };
  const a = (calls: unknown) => `<think>…</think><answer>${JSON.stringify(calls)}</answer>`;
  const [g0, g1] = gold;
  const cases: Array<[string, string, number, number, number]> = [
    ['exact', a(gold), 1, 1, 1],
    [
      'padded with 3 real-tool calls',
      a([
        g0,
        g1,
        { name: 'get_user_details', arguments: { user_id: 'x' } },
        { name: 'book_reservation', arguments: {} },
        { name: 'cancel_reservation', arguments: { reservation_id: 'ZZZ' } },
      ]),
      1,
      0.571,
      1,
    ],
    [
      'padded with a hallucinated tool',
      a([g0, g1, { name: 'refund_everything', arguments: {} }]),
      1,
      0.667,
      1,
    ],
    ['same call repeated 5×', a([g0, g1, g1, g1, g1, g1]), 1, 0.5, 1],
    ['order swapped', a([g1, g0]), 0.72, 0.9, 1],
    [
      'wrong reservation id in the cancel',
      a([g0, { name: 'cancel_reservation', arguments: { reservation_id: 'XXXXXX' } }]),
      0.85,
      0.75,
      1,
    ],
    ['second call dropped', a([g0]), 0.5, 0.667, 1],
    ['single quotes (repaired JSON)', a(gold).replace(/"/g, "'"), 1, 1, 0.5],
    [
      'Hermes blocks, no <answer>',
      gold.map((c) => `<tool_call>${JSON.stringify(c)}</tool_call>`).join('\n'),
      0,
      1,
      0,
    ],
    ['prose, no calls', 'I have cancelled it for you.', 0, 0, 0],
  ];
  it.each(cases)('%s', (_name, completion, reference, ours, format) => {
    expect(openfuguActionReward(completion, ref)).toBeCloseTo(reference, 3);
    expect(actionReward(completion, ref)).toBeCloseTo(ours, 3);
    expect(formatReward(completion, null)).toBe(format);
  });
});
