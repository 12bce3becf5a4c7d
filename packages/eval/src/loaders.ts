/**
 * Loaders for recorded-outcome directories (the edge of this package: it reads files).
 *
 * - RouteLLM (`../shared/data/routellm`): one or more CSV tables with `<model>_correct` columns
 *   (`gsm8k.csv`, `mmlu.csv`, or any single such table); model names are the column prefixes
 *   (`gpt4`, `mixtral`). Rows listed in `contaminated_ids.json` are dropped, as RouteLLM's own benchmark does.
 * - AlpacaEval (`../shared/data/alpacaeval`): `prompts.jsonl` + `outcomes.csv` (empty cell = missing).
 * - Generic: a CSV with `id`, `prompt`, optional `subset`, one numeric column per model, and optional
 *   `cost:<model>` columns (cost of that call); an optional `prices.json` beside it maps model → cost per call.
 *
 * Every malformed input raises a `DataFormatError` naming the file and the 1-based line.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { OpenFuguError } from '@openfugu/schema';
import { parseCsv } from './csv.js';
import type { OutcomePrompt, OutcomeTable } from './table.js';

/** A data file is malformed; `file` and `line` say where. */
export class DataFormatError extends OpenFuguError {
  readonly file: string;
  readonly line: number | undefined;
  constructor(options: { file: string; line?: number; message: string; cause?: unknown }) {
    super({
      code: 'parse_error',
      message: `${options.file}${options.line === undefined ? '' : `:${options.line}`}: ${options.message}`,
      cause: options.cause,
    });
    this.name = 'DataFormatError';
    this.file = options.file;
    this.line = options.line;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new DataFormatError({ file, message: 'cannot read file', cause });
  }
}

function csvRows(file: string): { header: string[]; rows: { fields: string[]; line: number }[] } {
  const { records, issue } = parseCsv(readText(file));
  if (issue) throw new DataFormatError({ file, line: issue.line, message: issue.message });
  const nonEmpty = records.filter((r) => !(r.fields.length === 1 && r.fields[0] === ''));
  const [head, ...rows] = nonEmpty;
  if (!head) throw new DataFormatError({ file, line: 1, message: 'empty file (no header row)' });
  for (const row of rows) {
    if (row.fields.length !== head.fields.length) {
      throw new DataFormatError({
        file,
        line: row.line,
        message: `expected ${head.fields.length} fields as in the header, found ${row.fields.length}`,
      });
    }
  }
  return { header: head.fields, rows };
}

function parseCell(file: string, line: number, column: string, text: string, allowEmpty: boolean): number {
  if (text.trim() === '') {
    if (allowEmpty) return Number.NaN;
    throw new DataFormatError({ file, line, message: `empty value in column '${column}'` });
  }
  const lowered = text.trim().toLowerCase();
  if (lowered === 'true') return 1;
  if (lowered === 'false') return 0;
  const value = Number(text);
  if (!Number.isFinite(value)) {
    throw new DataFormatError({
      file,
      line,
      message: `column '${column}': '${text.slice(0, 40)}' is not a number`,
    });
  }
  return value;
}

/** True when `file` is a RouteLLM-style table (has `<model>_correct` columns and a `prompt` column). */
function isRouteLLMTable(file: string): boolean {
  const firstLine = readText(file).split(/\r?\n/, 1)[0] ?? '';
  const columns = firstLine.split(',');
  return columns.includes('prompt') && columns.some((c) => c.endsWith('_correct'));
}

/** Loads one RouteLLM-style CSV table. `contaminated` ids are dropped. */
export function loadRouteLLMTable(file: string, contaminated: ReadonlySet<number> = new Set()): OutcomeTable {
  const { header, rows } = csvRows(file);
  const base = path.basename(file, '.csv');
  const idColumn = header.indexOf('id');
  const promptColumn = header.indexOf('prompt');
  const subjectColumn = header.indexOf('subject');
  if (promptColumn < 0) throw new DataFormatError({ file, line: 1, message: "missing 'prompt' column" });
  const modelColumns = header.flatMap((name, index) => (name.endsWith('_correct') ? [index] : []));
  if (modelColumns.length === 0)
    throw new DataFormatError({ file, line: 1, message: "no '<model>_correct' columns" });
  const models = modelColumns.map((index) => header[index]!.slice(0, -'_correct'.length));
  const prompts: OutcomePrompt[] = [];
  const values: number[] = [];
  rows.forEach((row, r) => {
    const rawId = idColumn >= 0 ? row.fields[idColumn]! : String(r);
    if (idColumn >= 0 && contaminated.has(Number(rawId))) return;
    const prompt: OutcomePrompt = { id: `${base}:${rawId}`, text: row.fields[promptColumn]! };
    prompt.subset = subjectColumn >= 0 ? row.fields[subjectColumn]! : base;
    prompts.push(prompt);
    for (const column of modelColumns) {
      values.push(parseCell(file, row.line, header[column]!, row.fields[column]!, false));
    }
  });
  return {
    format: 'routellm',
    name: `routellm/${base}`,
    prompts,
    models,
    outcomes: Float64Array.from(values),
  };
}

function readContaminated(dir: string): Record<string, number[]> {
  const file = path.join(dir, 'contaminated_ids.json');
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readText(file)) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    const result: Record<string, number[]> = {};
    for (const [key, value] of Object.entries(parsed)) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'number'))
        throw new Error(`'${key}' is not a list of ids`);
      result[key] = value as number[];
    }
    return result;
  } catch (cause) {
    throw new DataFormatError({
      file,
      message: `invalid contaminated ids: ${(cause as Error).message}`,
      cause,
    });
  }
}

/** Concatenates tables that share the same models (in the same order). */
function concatTables(name: string, tables: OutcomeTable[], file: string): OutcomeTable {
  const [first, ...rest] = tables;
  if (!first) throw new DataFormatError({ file, message: 'no outcome tables found' });
  for (const t of rest) {
    if (t.models.join(',') !== first.models.join(',')) {
      throw new DataFormatError({
        file,
        message: `tables disagree on models: ${first.models} vs ${t.models}`,
      });
    }
  }
  if (rest.length === 0) return first;
  const outcomes = new Float64Array(tables.reduce((s, t) => s + t.outcomes.length, 0));
  let offset = 0;
  for (const t of tables) {
    outcomes.set(t.outcomes, offset);
    offset += t.outcomes.length;
  }
  return {
    format: first.format,
    name,
    prompts: tables.flatMap((t) => t.prompts),
    models: first.models,
    outcomes,
  };
}

/** Loads a RouteLLM directory (every `*_correct` table in it) or a single RouteLLM CSV file. */
export function loadRouteLLM(target: string): OutcomeTable {
  if (statSync(target).isFile()) {
    const contaminated = readContaminated(path.dirname(target))[path.basename(target, '.csv')] ?? [];
    return loadRouteLLMTable(target, new Set(contaminated));
  }
  const contaminated = readContaminated(target);
  const files = readdirSync(target)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => path.join(target, f))
    .filter(isRouteLLMTable);
  const tables = files.map((f) =>
    loadRouteLLMTable(f, new Set(contaminated[path.basename(f, '.csv')] ?? [])),
  );
  const names = files.map((f) => path.basename(f, '.csv'));
  return concatTables(`routellm/${names.join('+')}`, tables, target);
}

/** Loads an AlpacaEval directory: `prompts.jsonl` + `outcomes.csv`. */
export function loadAlpacaEval(dir: string): OutcomeTable {
  const promptsFile = path.join(dir, 'prompts.jsonl');
  const outcomesFile = path.join(dir, 'outcomes.csv');
  const byId = new Map<string, OutcomePrompt>();
  readText(promptsFile)
    .split('\n')
    .forEach((line, index) => {
      if (line.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (cause) {
        throw new DataFormatError({ file: promptsFile, line: index + 1, message: 'invalid JSON', cause });
      }
      const record = row as { id?: unknown; instruction?: unknown; dataset?: unknown };
      if (
        (typeof record.id !== 'number' && typeof record.id !== 'string') ||
        typeof record.instruction !== 'string'
      ) {
        throw new DataFormatError({
          file: promptsFile,
          line: index + 1,
          message: 'expected {id: number|string, instruction: string, dataset?: string}',
        });
      }
      const prompt: OutcomePrompt = { id: String(record.id), text: record.instruction };
      if (typeof record.dataset === 'string') prompt.subset = record.dataset;
      byId.set(prompt.id, prompt);
    });
  const { header, rows } = csvRows(outcomesFile);
  if (header[0] !== 'id')
    throw new DataFormatError({ file: outcomesFile, line: 1, message: "first column must be 'id'" });
  const models = header.slice(1);
  if (models.length === 0)
    throw new DataFormatError({ file: outcomesFile, line: 1, message: 'no model columns' });
  const prompts: OutcomePrompt[] = [];
  const values: number[] = [];
  for (const row of rows) {
    const id = row.fields[0]!;
    const prompt = byId.get(id);
    if (!prompt) {
      throw new DataFormatError({
        file: outcomesFile,
        line: row.line,
        message: `id ${id} is not in prompts.jsonl`,
      });
    }
    prompts.push(prompt);
    for (let m = 0; m < models.length; m++) {
      values.push(parseCell(outcomesFile, row.line, models[m]!, row.fields[m + 1]!, true));
    }
  }
  return { format: 'alpacaeval', name: 'alpacaeval', prompts, models, outcomes: Float64Array.from(values) };
}

/** Loads a generic outcome CSV (`id`, `prompt`, optional `subset`, model columns, optional `cost:<model>` columns). */
export function loadGenericTable(file: string): OutcomeTable {
  const { header, rows } = csvRows(file);
  const idColumn = header.indexOf('id');
  const promptColumn = header.indexOf('prompt');
  const subsetColumn = header.indexOf('subset');
  if (promptColumn < 0) throw new DataFormatError({ file, line: 1, message: "missing 'prompt' column" });
  const modelColumns = header.flatMap((name, index) =>
    index === idColumn || index === promptColumn || index === subsetColumn || name.startsWith('cost:')
      ? []
      : [index],
  );
  const models = modelColumns.map((index) => header[index]!);
  const costColumns = models.map((model) => header.indexOf(`cost:${model}`));
  const hasCallCosts = costColumns.some((c) => c >= 0);
  const prompts: OutcomePrompt[] = [];
  const values: number[] = [];
  const costs: number[] = [];
  rows.forEach((row, r) => {
    const prompt: OutcomePrompt = {
      id: idColumn >= 0 ? row.fields[idColumn]! : String(r),
      text: row.fields[promptColumn]!,
    };
    if (subsetColumn >= 0) prompt.subset = row.fields[subsetColumn]!;
    prompts.push(prompt);
    modelColumns.forEach((column, m) => {
      values.push(parseCell(file, row.line, header[column]!, row.fields[column]!, true));
      const costColumn = costColumns[m]!;
      if (hasCallCosts)
        costs.push(
          costColumn >= 0
            ? parseCell(file, row.line, header[costColumn]!, row.fields[costColumn]!, true)
            : Number.NaN,
        );
    });
  });
  const table: OutcomeTable = {
    format: 'generic',
    name: path.basename(file),
    prompts,
    models,
    outcomes: Float64Array.from(values),
  };
  if (hasCallCosts) table.callCosts = Float64Array.from(costs);
  const pricesFile = path.join(path.dirname(file), 'prices.json');
  if (existsSync(pricesFile)) table.modelCosts = readPrices(pricesFile, models);
  return table;
}

/** Reads `{ model: costPerCall }` for the given models (missing models are an error). */
export function readPrices(file: string, models: readonly string[]): Float64Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(file));
  } catch (cause) {
    throw new DataFormatError({ file, message: 'invalid JSON', cause });
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new DataFormatError({ file, message: 'expected an object' });
  return Float64Array.from(models, (model) => {
    const value = (parsed as Record<string, unknown>)[model];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new DataFormatError({ file, message: `no valid non-negative price for model '${model}'` });
    }
    return value;
  });
}

/** Which format a directory or file holds; throws `DataFormatError` when it is none of them. */
export function detectFormat(target: string): OutcomeTable['format'] {
  if (!existsSync(target)) throw new DataFormatError({ file: target, message: 'no such file or directory' });
  if (statSync(target).isFile()) return isRouteLLMTable(target) ? 'routellm' : 'generic';
  if (existsSync(path.join(target, 'outcomes.csv')) && existsSync(path.join(target, 'prompts.jsonl')))
    return 'alpacaeval';
  const csvs = readdirSync(target).filter((f) => f.endsWith('.csv'));
  if (csvs.some((f) => isRouteLLMTable(path.join(target, f)))) return 'routellm';
  if (csvs.length === 1) return 'generic';
  throw new DataFormatError({
    file: target,
    message:
      'not an AlpacaEval (prompts.jsonl + outcomes.csv), RouteLLM (<model>_correct tables) or generic outcome directory',
  });
}

/** Detects the format of `target` and loads it. */
export function loadOutcomes(target: string): OutcomeTable {
  const format = detectFormat(target);
  if (format === 'alpacaeval') return loadAlpacaEval(target);
  if (format === 'routellm') return loadRouteLLM(target);
  if (statSync(target).isFile()) return loadGenericTable(target);
  const csv = readdirSync(target).find((f) => f.endsWith('.csv'))!;
  return loadGenericTable(path.join(target, csv));
}
