/**
 * Small loaders for the recorded-outcome data in ../shared/data, used by the routing benchmark only
 * (the eval package owns the real loaders). Formats: see shared/data/alpacaeval/README.md and
 * shared/data/routellm/README.md.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One routing dataset: prompt texts (as the router sees them) and a reward per prompt × model. */
export interface OutcomeTable {
  name: string;
  models: string[];
  ids: number[];
  texts: string[];
  outcomes: number[][];
}

/** The data directory: $OPENFUGU_DATA_DIR (relative to the repo root) or ../shared/data. */
export function dataDir(): string {
  const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
  return resolve(repoRoot, process.env.OPENFUGU_DATA_DIR ?? '../shared/data');
}

/** RFC 4180 CSV parser (quoted fields with commas, newlines and doubled quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function records(path: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  return rows
    .filter((r) => r.length === header!.length)
    .map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
}

/** AlpacaEval dev prompts with P(model beats gpt4_1106_preview) for the chosen models (no missing cells allowed). */
export function loadAlpacaEval(models: readonly string[]): OutcomeTable {
  const dir = join(dataDir(), 'alpacaeval');
  const prompts = new Map<number, string>();
  for (const line of readFileSync(join(dir, 'prompts.jsonl'), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const { id, instruction } = JSON.parse(line) as { id: number; instruction: string };
    prompts.set(id, instruction);
  }
  const table: OutcomeTable = { name: 'alpacaeval', models: [...models], ids: [], texts: [], outcomes: [] };
  for (const record of records(join(dir, 'outcomes.csv'))) {
    const id = Number(record.id);
    const values = models.map((m) => {
      if (!(m in record)) throw new Error(`AlpacaEval has no model ${m}`);
      return record[m] === '' ? Number.NaN : Number(record[m]);
    });
    if (values.some(Number.isNaN)) continue;
    table.ids.push(id);
    table.texts.push(`user: ${prompts.get(id)!}`);
    table.outcomes.push(values);
  }
  return table;
}

/** RouteLLM GSM8K or MMLU correctness of GPT-4 and Mixtral (decontaminated rows). */
export function loadRouteLlm(set: 'gsm8k' | 'mmlu'): OutcomeTable {
  const dir = join(dataDir(), 'routellm');
  const contaminated = new Set(
    (JSON.parse(readFileSync(join(dir, 'contaminated_ids.json'), 'utf8')) as Record<string, number[]>)[set],
  );
  const table: OutcomeTable = {
    name: `routellm-${set}`,
    models: ['gpt-4-1106-preview', 'Mixtral-8x7B-Instruct-v0.1'],
    ids: [],
    texts: [],
    outcomes: [],
  };
  for (const record of records(join(dir, `${set}.csv`))) {
    const id = Number(record.id);
    if (contaminated.has(id)) continue;
    table.ids.push(id);
    table.texts.push(`user: ${record.prompt!}`);
    table.outcomes.push([Number(record.gpt4_correct), Number(record.mixtral_correct)]);
  }
  return table;
}
