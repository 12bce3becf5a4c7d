/**
 * Train/test separation by prompt. Rows whose prompt text is the same (after trimming and collapsing
 * whitespace) are one group and always land on the same side — MMLU holds 105 duplicated prompt strings,
 * so splitting rows alone would leak prompts into the test set.
 */
import { InvalidArgumentError, type Random } from '@openfugu/schema';
import type { OutcomeTable } from './table.js';

/** Normalised prompt key used for grouping and overlap checks. */
export function promptKey(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

/** Splits row indices into train/test so that `fraction` of the prompt groups are in train (seeded shuffle). */
export function splitByPrompt(
  table: OutcomeTable,
  fraction: number,
  random: Random,
): { train: number[]; test: number[] } {
  if (!(fraction > 0 && fraction < 1)) {
    throw new InvalidArgumentError({
      argument: 'split',
      message: `split fraction must be in (0, 1), got ${fraction}`,
    });
  }
  const groups = new Map<string, number[]>();
  table.prompts.forEach((prompt, row) => {
    const key = promptKey(prompt.text);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  });
  const keys = [...groups.keys()];
  // Fisher–Yates with the injected generator: the same seed gives the same split.
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  const cut = Math.round(keys.length * fraction);
  const collect = (part: string[]): number[] => part.flatMap((key) => groups.get(key)!).sort((a, b) => a - b);
  return { train: collect(keys.slice(0, cut)), test: collect(keys.slice(cut)) };
}

/** Rows of `train` whose prompt also occurs in `test` (to be removed from train). */
export function overlappingRows(train: OutcomeTable, test: OutcomeTable): number[] {
  const testKeys = new Set(test.prompts.map((p) => promptKey(p.text)));
  return train.prompts.flatMap((p, row) => (testKeys.has(promptKey(p.text)) ? [row] : []));
}
