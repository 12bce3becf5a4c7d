/**
 * The outcome table every evaluation works on: prompts × models, one recorded outcome per cell
 * (correctness 0/1, a win probability, a judge score...). Missing cells are NaN.
 */
import { InvalidArgumentError } from '@openfugu/schema';

/** One prompt of an outcome table. */
export interface OutcomePrompt {
  /** Stable id from the source file. */
  id: string;
  /** The prompt text the router sees. */
  text: string;
  /** Optional subset label for breakdowns (MMLU subject, AlpacaEval source dataset). */
  subset?: string;
}

/** A prompt × model table of recorded outcomes, row-major, NaN for missing cells. */
export interface OutcomeTable {
  /** Where it came from: `routellm`, `alpacaeval`, `generic`. */
  format: 'routellm' | 'alpacaeval' | 'generic';
  /** Human label, e.g. `routellm/gsm8k`. */
  name: string;
  prompts: OutcomePrompt[];
  models: string[];
  /** outcomes[p * models.length + m]. */
  outcomes: Float64Array;
  /** Optional cost of one call per model (USD or any unit), from a price table. */
  modelCosts?: Float64Array;
  /** Optional per-cell cost (same layout as outcomes). Wins over modelCosts when present. */
  callCosts?: Float64Array;
}

/** The outcome of model `m` on prompt `p` (NaN when missing). */
export function outcomeAt(table: OutcomeTable, p: number, m: number): number {
  return table.outcomes[p * table.models.length + m]!;
}

/** Restricts a table to the named models (in the given order); unknown names are an error listing the known ones. */
export function selectModels(table: OutcomeTable, models: readonly string[]): OutcomeTable {
  const indices = models.map((name) => {
    const index = table.models.indexOf(name);
    if (index < 0) {
      throw new InvalidArgumentError({
        argument: 'models',
        message: `unknown model '${name}' in ${table.name}; known models: ${table.models.join(', ')}`,
      });
    }
    return index;
  });
  if (new Set(indices).size !== indices.length) {
    throw new InvalidArgumentError({ argument: 'models', message: 'a model is listed twice' });
  }
  const k = indices.length;
  const width = table.models.length;
  const pick = (source: Float64Array): Float64Array => {
    const out = new Float64Array(table.prompts.length * k);
    for (let p = 0; p < table.prompts.length; p++) {
      for (let j = 0; j < k; j++) out[p * k + j] = source[p * width + indices[j]!]!;
    }
    return out;
  };
  const selected: OutcomeTable = {
    format: table.format,
    name: table.name,
    prompts: table.prompts,
    models: indices.map((i) => table.models[i]!),
    outcomes: pick(table.outcomes),
  };
  if (table.modelCosts) selected.modelCosts = Float64Array.from(indices, (i) => table.modelCosts![i]!);
  if (table.callCosts) selected.callCosts = pick(table.callCosts);
  return selected;
}

/** Keeps the given prompt rows (indices into `table.prompts`), in order. */
export function selectPrompts(table: OutcomeTable, rows: readonly number[]): OutcomeTable {
  const k = table.models.length;
  const pick = (source: Float64Array): Float64Array => {
    const out = new Float64Array(rows.length * k);
    rows.forEach((row, r) => {
      out.set(source.subarray(row * k, row * k + k), r * k);
    });
    return out;
  };
  const selected: OutcomeTable = {
    ...table,
    prompts: rows.map((row) => table.prompts[row]!),
    outcomes: pick(table.outcomes),
  };
  if (table.callCosts) selected.callCosts = pick(table.callCosts);
  return selected;
}

/** Drops prompts on which any of the table's models has no outcome; returns the count dropped. */
export function dropIncomplete(table: OutcomeTable): { table: OutcomeTable; dropped: number } {
  const keep: number[] = [];
  for (let p = 0; p < table.prompts.length; p++) {
    let complete = true;
    for (let m = 0; m < table.models.length; m++) if (Number.isNaN(outcomeAt(table, p, m))) complete = false;
    if (complete) keep.push(p);
  }
  return { table: selectPrompts(table, keep), dropped: table.prompts.length - keep.length };
}
