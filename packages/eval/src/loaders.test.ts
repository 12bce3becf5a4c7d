import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeWithData } from '@openfugu/vitest-config/data';
import { describe, expect, it } from 'vitest';
import { DataFormatError, detectFormat, loadGenericTable, loadOutcomes } from './loaders.js';
import { modelMeans, oracleValues, randomValues } from './metrics.js';
import { dropIncomplete, selectModels } from './table.js';

const meanOf = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;

describeWithData('RouteLLM loader', ['routellm'], (dir) => {
  it('loads gsm8k.csv without contaminated rows and reproduces the README baselines', () => {
    const table = loadOutcomes(path.join(dir, 'gsm8k.csv'));
    expect(table.format).toBe('routellm');
    expect(table.models).toEqual(['gpt4', 'mixtral']);
    expect(table.prompts).toHaveLength(1307);
    const [gpt4, mixtral] = modelMeans(table);
    expect(gpt4).toBeCloseTo(0.8577, 4);
    expect(mixtral).toBeCloseTo(0.6373, 4);
    expect(meanOf(oracleValues(table))).toBeCloseTo(0.9296, 4);
    expect(meanOf(randomValues(table))).toBeCloseTo(0.7475, 4);
  });

  it('loads the whole directory (gsm8k + mmlu) with subjects as subsets', () => {
    expect(detectFormat(dir)).toBe('routellm');
    const table = loadOutcomes(dir);
    expect(table.prompts).toHaveLength(1307 + 14037);
    expect(new Set(table.prompts.map((p) => p.subset)).size).toBe(57 + 1);
    expect(table.prompts[0]!.id).toBe('gsm8k:3');
  });
});

describeWithData('AlpacaEval loader', ['alpacaeval'], (dir) => {
  it('loads 603 dev prompts × 55 models and reproduces the README baselines', () => {
    expect(detectFormat(dir)).toBe('alpacaeval');
    const table = loadOutcomes(dir);
    expect(table.prompts).toHaveLength(603);
    expect(table.models).toHaveLength(55);
    expect(table.models[0]).toBe('FuseChat-Gemma-2-9B-Instruct');
    expect(modelMeans(table)[0]).toBeCloseTo(0.7026, 4);
    expect(meanOf(oracleValues(table))).toBeCloseTo(0.867, 3);
    expect(meanOf(randomValues(table))).toBeCloseTo(0.1075, 4);
    expect(new Set(table.prompts.map((p) => p.subset))).toEqual(
      new Set(['helpful_base', 'koala', 'oasst', 'selfinstruct', 'vicuna']),
    );
    const pool = selectModels(table, ['claude-2', 'phi-2']);
    expect(dropIncomplete(pool).dropped).toBe(2);
  });

  it('names unknown models and lists the known ones', () => {
    expect(() => selectModels(loadOutcomes(dir), ['gpt-5'])).toThrow(
      /unknown model 'gpt-5'.*known models: FuseChat/,
    );
  });
});

describe('malformed data', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'openfugu-eval-'));

  it('names the file and line of a short row', () => {
    const file = path.join(dir, 'bad.csv');
    writeFileSync(file, 'id,prompt,a,b\n0,hello,1,0\n1,world,1\n');
    expect(() => loadGenericTable(file)).toThrow(DataFormatError);
    expect(() => loadGenericTable(file)).toThrow(/bad\.csv:3: expected 4 fields/);
  });

  it('names the column of a non-numeric outcome', () => {
    const file = path.join(dir, 'text.csv');
    writeFileSync(file, 'id,prompt,a_correct,b_correct\n0,"hi, there",1,maybe\n');
    expect(() => loadOutcomes(file)).toThrow(/text\.csv:2: column 'b_correct': 'maybe' is not a number/);
  });

  it('reads generic tables with per-call costs and a price file', () => {
    const sub = mkdtempSync(path.join(dir, 'generic-'));
    const file = path.join(sub, 'table.csv');
    writeFileSync(
      file,
      'id,prompt,subset,small,large,cost:small,cost:large\n0,q,math,0,1,0.1,2\n1,r,chat,1,1,0.1,2.5\n',
    );
    writeFileSync(path.join(sub, 'prices.json'), JSON.stringify({ small: 0.1, large: 2 }));
    const table = loadOutcomes(sub);
    expect(table.format).toBe('generic');
    expect(table.models).toEqual(['small', 'large']);
    expect([...table.callCosts!]).toEqual([0.1, 2, 0.1, 2.5]);
    expect([...table.modelCosts!]).toEqual([0.1, 2]);
  });

  it('rejects a directory that is no known format', () => {
    const empty = mkdtempSync(path.join(dir, 'empty-'));
    expect(() => detectFormat(empty)).toThrow(/not an AlpacaEval/);
    expect(() => detectFormat(path.join(dir, 'missing'))).toThrow(/no such file/);
  });
});
