/**
 * GRPO vs sep-CMA-ES on recorded routing outcomes (AlpacaEval, RouteLLM GSM8K and MMLU): the same
 * routing task, the same budget of reward evaluations, held-out reward curves, three seeds.
 *
 * The comparison itself is `openfugu-train compare` (apps/trainer/src/compare.ts): it needs
 * @openfugu/eval and @openfugu/trinity, which depend on this package, so this bench drives the built
 * CLI instead of importing them (no dependency cycle). Build first:
 *
 *   pnpm turbo run build --filter trainer...
 *   pnpm --filter @openfugu/grpo exec tsx bench/compare.ts [--quick]
 *
 * Writes docs/img/grpo-vs-cmaes-<dataset>.svg and prints one Markdown table per dataset.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = path.join(root, 'apps/trainer/dist/main.js');
const data = path.resolve(root, process.env.OPENFUGU_DATA_DIR ?? '../shared/data');
const quick = process.argv.includes('--quick');

const ALPACA_POOL = [
  'claude-2',
  'gpt-3.5-turbo-1106',
  'OpenHermes-2.5-Mistral-7B',
  'FuseChat-Gemma-2-9B-Instruct',
  'FuseChat-Llama-3.2-1B-Instruct',
  'gemma-2b-it',
  'falcon-7b-instruct',
  'alpaca-7b',
];

const runs = [
  { name: 'alpacaeval', data: path.join(data, 'alpacaeval'), extra: ['--models', ALPACA_POOL.join(',')] },
  { name: 'routellm-gsm8k', data: path.join(data, 'routellm/gsm8k.csv'), extra: [] },
  { name: 'routellm-mmlu', data: path.join(data, 'routellm/mmlu.csv'), extra: ['--max-prompts', '4000'] },
];

if (!existsSync(cli)) {
  process.stderr.write(
    `build the trainer first: pnpm turbo run build --filter trainer... (${cli} missing)\n`,
  );
  process.exit(2);
}
const out = mkdtempSync(path.join(tmpdir(), 'openfugu-compare-'));
mkdirSync(path.join(root, 'docs/img'), { recursive: true });
process.stdout.write(
  `GRPO vs sep-CMA-ES — Node ${process.version}, ${new Date().toISOString()}; results JSON in ${out}\n\n`,
);
for (const run of runs) {
  const json = path.join(out, `${run.name}.json`);
  const markdown = path.join(out, `${run.name}.md`);
  const svg = path.join(root, `docs/img/grpo-vs-cmaes-${run.name}${quick ? '-quick' : ''}.svg`);
  const args = [
    cli,
    'compare',
    '--data',
    run.data,
    '--name',
    run.name,
    '--seeds',
    '1,2,3',
    '--generations',
    quick ? '8' : '60',
    '--json',
    json,
    '--svg',
    svg,
    '--markdown',
    markdown,
    ...run.extra,
  ];
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    process.stderr.write(`${run.name}: openfugu-train compare exited ${result.status}\n`);
    process.exit(1);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `\n${readFileSync(markdown, 'utf8')}\n(wall time ${seconds.toFixed(0)} s; SVG ${path.relative(root, svg)})\n\n`,
  );
}
