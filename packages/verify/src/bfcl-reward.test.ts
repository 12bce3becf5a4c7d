import { readFileSync } from 'node:fs';
import { describeWithData } from '@openfugu/vitest-config/data';
import { describe, expect, it } from 'vitest';
import { isBfclCallList, JsonFloat, parseJsonLossless } from './bfcl/index.js';
import { type BfclReference, bfclCompletionReward, decodeBfclOutput } from './bfcl-reward.js';
import { pythonFloatRepr, pythonStringRepr } from './python-repr.js';

/** Python source of a lossless-decoded value (what a BFCL prompt-mode model would print). */
function toPython(value: unknown): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof JsonFloat) return pythonFloatRepr(value.value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pythonFloatRepr(value);
  if (typeof value === 'string') return pythonStringRepr(value);
  if (Array.isArray(value)) return `[${value.map(toPython).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${pythonStringRepr(k)}: ${toPython(v)}`)
    .join(', ')}}`;
}

const fn = {
  name: 'math.factorial',
  description: 'n!',
  parameters: { type: 'dict', properties: { number: { type: 'integer' } }, required: ['number'] },
};
const reference: BfclReference = {
  category: 'simple_python',
  function: [fn],
  possible_answer: [{ 'math.factorial': { number: [5] } }],
};

describe('bfclCompletionReward', () => {
  it('decodes pythonic, JSON and Hermes outputs and judges them', () => {
    expect(bfclCompletionReward('[math.factorial(number=5)]', reference)).toBe(1);
    expect(
      bfclCompletionReward(
        '<tool_call>{"name": "math.factorial", "arguments": {"number": 5}}</tool_call>',
        reference,
      ),
    ).toBe(1);
    expect(bfclCompletionReward('[math.factorial(number=6)]', reference)).toBe(0);
    // 5.0 is a float: a type error for an integer parameter, as in the official checker
    const float = bfclCompletionReward.details('[math.factorial(number=5.0)]', reference);
    expect(float.reward).toBe(0);
    expect(float.details.error_type).toMatch(/type_error/);
    expect(decodeBfclOutput('[f(x=5.0, y=5, z=123456789012345678901)]').output).toEqual([
      { f: { x: new JsonFloat(5), y: 5, z: 123456789012345678901n } },
    ]);
  });

  it('treats undecodable output as no call (right only for irrelevance)', () => {
    expect(bfclCompletionReward('I cannot do that.', reference)).toBe(0);
    const irrelevance = { category: 'irrelevance', function: [fn] };
    expect(bfclCompletionReward('I cannot do that.', irrelevance)).toBe(1);
    expect(bfclCompletionReward('[math.factorial(number=5)]', irrelevance)).toBe(0);
  });
});

describeWithData(
  'bfclCompletionReward on oracle_dev outputs printed as Python',
  ['bfcl', 'oracle_dev.jsonl'],
  (file) => {
    it('gives the official verdict for every line whose output is a call list', () => {
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      let checked = 0;
      const disagreements: string[] = [];
      for (const line of lines) {
        const parsed = parseJsonLossless(line);
        if (!parsed.ok) throw new Error('oracle line does not parse');
        const row = parsed.value as unknown as BfclReference & {
          id: string;
          cand: number;
          model_output: unknown;
          official: { valid: boolean };
        };
        if (!isBfclCallList(row.model_output)) continue;
        if (
          !row.model_output.every((call) => /^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*$/.test(Object.keys(call)[0]!))
        )
          continue;
        if (
          /nan|inf/i.test(
            JSON.stringify(row.model_output, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) ?? '',
          ) &&
          line.includes('NaN')
        )
          continue;
        const text = `[${row.model_output
          .map((call) => {
            const [name, args] = Object.entries(call)[0]!;
            return `${name}(${Object.entries(args)
              .map(([k, v]) => `${k}=${toPython(v)}`)
              .join(', ')})`;
          })
          .join(', ')}]`;
        const reward = bfclCompletionReward(text, {
          category: row.category,
          function: row.function,
          possible_answer: row.possible_answer!,
        });
        if (reward !== (row.official.valid ? 1 : 0))
          disagreements.push(`${row.id}#${row.cand}: ${text.slice(0, 200)}`);
        checked++;
      }
      expect(checked).toBeGreaterThan(8000);
      expect(disagreements).toEqual([]);
    });
  },
);
