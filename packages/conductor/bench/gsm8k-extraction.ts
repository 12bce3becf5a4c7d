/**
 * How well `numericAnswerScore` grades real maths answers: RouteLLM's recorded GPT-4 and Mixtral GSM8K
 * responses (../shared/data/routellm) scored against the gold answers, next to the upstream rule
 * ("last run of digits equals gold") that produced RouteLLM's stored labels.
 *
 * Run: pnpm --filter @openfugu/conductor bench (needs ../shared/data/routellm or OPENFUGU_DATA_DIR)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { numericAnswerScore } from '../src/rewards.js';
import { readCsv } from './csv.js';

export interface ExtractionFigures {
  model: string;
  rows: number;
  upstreamRule: number;
  ours: number;
  agreeWithStoredLabels: number;
}

export function upstreamRule(response: string, gold: number): number {
  const digits = response.replace(/,/g, '').match(/\d+/g);
  return digits && Number(digits.at(-1)) === gold ? 1 : 0;
}

export function measureExtraction(dataDir: string): ExtractionFigures[] {
  const rows = readCsv(readFileSync(join(dataDir, 'gsm8k.csv'), 'utf8'));
  const gold = new Map(
    readCsv(readFileSync(join(dataDir, 'gsm8k_gold.csv'), 'utf8')).map((row) => [
      row.id!,
      Number(row.answer),
    ]),
  );
  return (['gpt4', 'mixtral'] as const).map((model) => {
    let upstream = 0;
    let ours = 0;
    let agree = 0;
    for (const row of rows) {
      const answer = gold.get(row.id!)!;
      const response = row[`${model}_response`] ?? '';
      upstream += upstreamRule(response, answer);
      const score = numericAnswerScore(response, answer);
      ours += score;
      if (String(score) === row[`${model}_correct`]) agree++;
    }
    return {
      model,
      rows: rows.length,
      upstreamRule: upstream / rows.length,
      ours: ours / rows.length,
      agreeWithStoredLabels: agree / rows.length,
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = resolve(
    process.env.OPENFUGU_DATA_DIR ?? join(import.meta.dirname, '../../../../shared/data'),
    'routellm',
  );
  const percent = (value: number): string => `${(100 * value).toFixed(2)} %`;
  if (!existsSync(join(dir, 'gsm8k.csv'))) {
    console.log(`\n(skipped GSM8K grading: no data at ${dir}; set OPENFUGU_DATA_DIR)`);
    process.exit(0);
  }
  console.log('\n## Numeric answer grading on recorded GSM8K answers (RouteLLM, 1,319 questions)\n');
  console.log(
    '| model | rows | upstream rule (last digits) | numericAnswerScore | agreement with stored labels |',
  );
  console.log('|---|---|---|---|---|');
  for (const figure of measureExtraction(dir)) {
    console.log(
      `| ${figure.model} | ${figure.rows} | ${percent(figure.upstreamRule)} | ${percent(figure.ours)} | ${percent(figure.agreeWithStoredLabels)} |`,
    );
  }
}
