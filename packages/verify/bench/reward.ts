// Parse + reward throughput on ~1 KB completions built from tau2 gold action lists (exact, padded,
// reordered, single-quoted JSON, Hermes <tool_call> form), single core. Baseline in the same run:
// JSON.parse of the same answer text (what any reward must at least do).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GoldAction } from '@openfugu/schema';
import {
  actionReward,
  composeRewards,
  formatReward,
  openfuguActionReward,
  parseToolCalls,
} from '../src/index.js';
import { bench, dataDir, printTable } from './harness.js';

const dir = dataDir();
const filler =
  'The user wants to change the reservation. I first look up the user, then check the reservation details, ' +
  'confirm the policy allows the change, and only then call the write tool with the exact arguments. ';
type Item = { completion: string; reference: { actions: GoldAction[]; tools: string[] }; answer: string };
const items: Item[] = [];
for (const domain of ['airline', 'retail']) {
  const tools = (
    JSON.parse(readFileSync(join(dir, 'tau2', domain, 'tools.json'), 'utf8')) as Array<{
      function: { name: string };
    }>
  ).map((t) => t.function.name);
  const tasks = JSON.parse(readFileSync(join(dir, 'tau2', domain, 'tasks.json'), 'utf8')) as Array<{
    evaluation_criteria?: { actions?: GoldAction[] | null } | null;
  }>;
  for (const task of tasks) {
    const actions = task.evaluation_criteria?.actions ?? [];
    if (actions.length === 0) continue;
    const calls = actions.map((a) => ({ name: a.name, arguments: a.arguments }));
    const variants = [calls, [...calls, { name: 'refund_everything', arguments: {} }], [...calls].reverse()];
    variants.forEach((variant, v) => {
      let answer = JSON.stringify(variant);
      if (v === 1) answer = answer.replace(/"/g, "'");
      let think = filler;
      while (think.length + answer.length < 900) think += filler;
      const completion = `<think>${think}</think>\n<answer>${answer}</answer>`;
      items.push({ completion, reference: { actions, tools }, answer });
    });
    const hermes = calls.map((c) => `<tool_call>\n${JSON.stringify(c)}\n</tool_call>`).join('\n');
    items.push({
      completion: `${filler}\n${hermes}`,
      reference: { actions, tools },
      answer: JSON.stringify(calls),
    });
  }
}
const n = items.length;
const meanBytes = items.reduce((sum, item) => sum + item.completion.length, 0) / n;
const composed = composeRewards([
  { fn: formatReward, weight: 0.2 },
  { fn: actionReward, weight: 0.8 },
]);
const results = [
  bench('baseline: JSON.parse of the answer text', (i) => {
    try {
      return JSON.parse(items[i % n]!.answer);
    } catch {
      return undefined;
    }
  }),
  bench('parseToolCalls', (i) => parseToolCalls(items[i % n]!.completion).ok),
  bench('formatReward', (i) => formatReward(items[i % n]!.completion, null)),
  bench('actionReward (default)', (i) => actionReward(items[i % n]!.completion, items[i % n]!.reference)),
  bench('openfuguActionReward (reference formula)', (i) =>
    openfuguActionReward(items[i % n]!.completion, items[i % n]!.reference),
  ),
  bench('0.2·format + 0.8·action (composeRewards)', (i) =>
    composed(items[i % n]!.completion, items[i % n]!.reference),
  ),
];
console.log(
  `\n${n} completions from tau2 airline + retail gold lists, mean ${Math.round(meanBytes)} characters`,
);
const meanAnswer = items.reduce((sum, item) => sum + item.answer.length, 0) / n;
printTable('Parse + reward throughput (single core)', results, (r) =>
  r.name.startsWith('baseline')
    ? `answer text only (mean ${Math.round(meanAnswer)} characters)`
    : `${((r.opsPerSecond * meanBytes) / 1e6).toFixed(0)} MB/s of completion text`,
);
