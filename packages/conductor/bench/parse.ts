/**
 * Parser figures: a typical planner reply (prose + three lists) and 1 MB adversarial inputs. Baseline in the
 * same run: `JSON.parse` of the equivalent JSON workflow (what a strict, non-tolerant reader costs).
 *
 * Run: pnpm --filter @openfugu/conductor bench
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkflow } from '../src/parse.js';

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
};

function perCallUs(iterations: number, body: () => unknown): number {
  const batches: number[] = [];
  for (let batch = 0; batch < 15; batch++) {
    const started = performance.now();
    for (let index = 0; index < iterations; index++) body();
    batches.push(((performance.now() - started) / iterations) * 1000);
  }
  return median(batches);
}

const typical = readFileSync(
  join(import.meta.dirname, '../src/__fixtures__/planner-outputs/prose-lists.txt'),
  'utf8',
);
const parsed = parseWorkflow(typical);
const json = JSON.stringify(parsed.workflow);
for (let warm = 0; warm < 2000; warm++) {
  parseWorkflow(typical);
  JSON.parse(json);
}
console.log(`## Parser (typical reply: ${typical.length} characters, 3 steps)\n`);
console.log('| input | µs per call |');
console.log('|---|---|');
console.log(
  `| JSON.parse of the same workflow as strict JSON (baseline) | ${perCallUs(2000, () => JSON.parse(json)).toFixed(2)} |`,
);
console.log(`| parseWorkflow, prose + lists | ${perCallUs(2000, () => parseWorkflow(typical)).toFixed(2)} |`);

const MB = 1 << 20;
let size = MB;
const fill = (unit: string, prefix = ''): string =>
  prefix + unit.repeat(Math.ceil((size - prefix.length) / unit.length));
const inputs = (): Record<string, string> => ({
  '`[` repeated': fill('['),
  'unterminated string after a label': `model_id: ['${fill('a')}`,
  'labels without lists, repeated': fill('model_id: subtasks: access_list: '),
  'broken lists, repeated': fill('model_id: [\'a\', subtasks: ["b", access_list: [[0, '),
  "`['it's ` repeated": fill("model_id: ['it's "),
  'valid model_id list of one-letter ids': `model_id: [${fill("'a', ")}'a']`,
  'prose, no workflow': fill('The workers should think carefully. '),
});
const timeMs = (text: string): number => {
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    parseWorkflow(text);
    times.push(performance.now() - started);
  }
  return median(times);
};
for (let warm = 0; warm < 3; warm++) for (const text of Object.values(inputs())) parseWorkflow(text);
const oneMb = Object.fromEntries(Object.entries(inputs()).map(([name, text]) => [name, timeMs(text)]));
size = 4 * MB;
console.log('\n## Parser on adversarial inputs of 1 MB and 4 MB (median of 5)\n');
console.log('| input | ms at 1 MB | ms at 4 MB | ratio (linear ≈ 4, quadratic ≈ 16) |');
console.log('|---|---|---|---|');
for (const [name, text] of Object.entries(inputs())) {
  const ms = timeMs(text);
  const small = oneMb[name]!;
  console.log(`| ${name} | ${small.toFixed(1)} | ${ms.toFixed(1)} | ${(ms / small).toFixed(1)} |`);
}
console.log(`\nNode ${process.version}; shared machine, figures are noisy.`);
