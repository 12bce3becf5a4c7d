// Schema validations/s: every tau2 reference action (airline + retail, 692) validated against its
// tools.json with createToolValidator, single core. Baseline in the same run: the bare ajv function of
// the same tool (no lookup, no issue mapping) on the same calls.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GoldAction, ToolSpec } from '@openfugu/schema';
import { createAjv } from '@openfugu/schema';
import { createToolValidator } from '../src/index.js';
import { bench, dataDir, printTable } from './harness.js';

const dir = dataDir();
const calls: Array<{ name: string; arguments: Record<string, unknown>; domain: string }> = [];
const validators = new Map<string, ReturnType<typeof createToolValidator>>();
const raw = new Map<string, (value: unknown) => boolean>();
const ajv = createAjv();
for (const domain of ['airline', 'retail']) {
  const tools = JSON.parse(readFileSync(join(dir, 'tau2', domain, 'tools.json'), 'utf8')) as ToolSpec[];
  const tasks = JSON.parse(readFileSync(join(dir, 'tau2', domain, 'tasks.json'), 'utf8')) as Array<{
    evaluation_criteria?: { actions?: GoldAction[] | null } | null;
  }>;
  validators.set(domain, createToolValidator(tools, { strict: true }));
  for (const tool of tools) {
    raw.set(
      `${domain}/${tool.function.name}`,
      ajv.compile({ ...tool.function.parameters, additionalProperties: false }),
    );
  }
  for (const task of tasks)
    for (const a of task.evaluation_criteria?.actions ?? [])
      calls.push({ name: a.name, arguments: a.arguments, domain });
}
// a mixed set: every 5th call perturbed (missing a required argument or a wrong type) → issues are built
const mixed = calls.map((call, i) => {
  if (i % 5 !== 0) return call;
  const [first] = Object.keys(call.arguments);
  if (first === undefined) return { ...call, name: `${call.name}_x` };
  return { ...call, arguments: { ...call.arguments, [first]: { wrong: true } } };
});
const n = calls.length;
const rawByCall = calls.map((call) => raw.get(`${call.domain}/${call.name}`)!);
const airline = validators.get('airline')!;
const retail = validators.get('retail')!;
const pick = (domain: string) => (domain === 'airline' ? airline : retail);
const results = [
  bench(
    'baseline: bare ajv function, looked up beforehand (valid calls)',
    (i) => rawByCall[i % n]!(calls[i % n]!.arguments),
    {
      batch: 1_000_000,
    },
  ),
  bench(
    'createToolValidator.validate (valid calls)',
    (i) => pick(calls[i % n]!.domain).validate(calls[i % n]!).ok,
    { batch: 1_000_000 },
  ),
  bench(
    'createToolValidator.validate (20% invalid, issues built)',
    (i) => pick(mixed[i % n]!.domain).validate(mixed[i % n]!).ok,
    { batch: 1_000_000 },
  ),
];
console.log(`\ntau2 reference actions: ${n} (airline + retail), validators compiled once (strict: true)`);
printTable('Schema validations per second (single core)', results);
