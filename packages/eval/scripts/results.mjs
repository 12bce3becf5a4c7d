#!/usr/bin/env node
// Runs the routing evaluations behind docs/results.md with the built `openfugu-eval` CLI and writes the
// report (tables, commands, seeds, run times) plus one SVG per run into docs/img/results/.
//
//   pnpm build && node packages/eval/scripts/results.mjs [--only gsm8k,mmlu,alpacaeval,alpacaeval-b]
//     [--backbones hashing,glove] [--trainers cmaes,grpo] [--seeds 1,2,3] [--generations 100]
//     [--section black-box|supervised] [--reuse] [--reuse-only]
//
// --section supervised (issue 16) runs the supervised trainers (ridge, knn, ridge+cmaes, ridge+cmaes-head,
// and `ridge+meta` = ridge with the subset as request metadata, MMLU only) on the composed `concat` backbone,
// ridge on `concat-glove`, and ridge / ridge-idf / ridge+meta / knn on the wide sparse `concat-sparse` (ridge there
// cross-validates the IDF scaling; ridge-idf always applies it), seeds 1–3 on every dataset,
// and writes its own generated block. A trainer
// entry `name@backbone` runs only with that backbone. --reuse takes a run's JSON from
// $TMPDIR/openfugu-results when it exists and was written by the same command (so interrupted or parallel
// regenerations can be assembled); the table says which runs were reused. --reuse-only runs nothing and lists
// the runs without a matching JSON as not run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const data = path.relative(root, path.resolve(root, process.env.OPENFUGU_DATA_DIR ?? '../shared/data'));
const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'gsm8k,mmlu,alpacaeval,alpacaeval-b' },
    backbones: { type: 'string', default: 'hashing,glove' },
    trainers: { type: 'string', default: 'cmaes,grpo' },
    seeds: { type: 'string' },
    generations: { type: 'string', default: '100' },
    out: { type: 'string', default: 'docs/results.md' },
    section: { type: 'string', default: 'black-box' },
    reuse: { type: 'boolean', default: false },
    'reuse-only': { type: 'boolean', default: false },
  },
});
const supervised = values.section === 'supervised';
if (supervised) {
  if (values.backbones === 'hashing,glove') values.backbones = 'concat,concat-glove,concat-sparse';
  if (values.trainers === 'cmaes,grpo') {
    values.trainers =
      'ridge@concat,ridge+meta@concat,knn@concat,ridge+cmaes@concat,ridge+cmaes-head@concat,ridge@concat-glove,' +
      'ridge@concat-sparse,ridge-idf@concat-sparse,ridge+meta@concat-sparse,knn@concat-sparse';
  }
}

const alpacaPool = [
  'FuseChat-Gemma-2-9B-Instruct',
  'FuseChat-Llama-3.2-1B-Instruct',
  'claude-2',
  'OpenHermes-2.5-Mistral-7B',
  'gpt-3.5-turbo-1106',
  'gemma-2b-it',
  'alpaca-7b',
  'falcon-7b-instruct',
];
const alpacaPoolB = [
  'claude-2',
  'claude-instant-1.2',
  'gpt-3.5-turbo-1106',
  'OpenHermes-2.5-Mistral-7B',
  'Mixtral-8x7B-Instruct-v0.1_concise',
];
const datasets = {
  gsm8k: {
    label: 'RouteLLM GSM8K (gpt4 vs mixtral)',
    args: ['--train', `${data}/routellm/gsm8k.csv`, '--split', '0.7'],
  },
  mmlu: {
    label: 'RouteLLM MMLU (gpt4 vs mixtral)',
    args: ['--train', `${data}/routellm/mmlu.csv`, '--split', '0.7'],
  },
  alpacaeval: {
    label: 'AlpacaEval 2.0 dev, pool A: the 8 models with output files',
    args: ['--train', `${data}/alpacaeval`, '--split', '0.7', '--models', alpacaPool.join(',')],
  },
  'alpacaeval-b': {
    label: 'AlpacaEval 2.0 dev, pool B: 5 mid-tier models (no FuseChat), more headroom',
    args: ['--train', `${data}/alpacaeval`, '--split', '0.7', '--models', alpacaPoolB.join(',')],
  },
};
// MMLU runs take minutes each; the cheaper tables get three seeds.
const defaultSeeds = supervised
  ? { gsm8k: '1,2,3', mmlu: '1,2,3', alpacaeval: '1,2,3', 'alpacaeval-b': '1,2,3' }
  : { gsm8k: '1,2,3', mmlu: '1', alpacaeval: '1,2,3', 'alpacaeval-b': '1,2,3' };

const runs = [];
mkdirSync(path.join(root, 'docs/img/results'), { recursive: true });
const tmp = path.join(os.tmpdir(), 'openfugu-results');
mkdirSync(tmp, { recursive: true });
for (const name of values.only.split(',')) {
  for (const backbone of values.backbones.split(',')) {
    for (const spec of values.trainers.split(',')) {
      // `trainer@backbone` runs only with that backbone; a plain trainer name with every listed backbone.
      const [trainer, only] = spec.split('@');
      if (only !== undefined && only !== backbone) continue;
      // `ridge+meta`: the subset (MMLU subject) as request metadata — only MMLU has a subject per prompt.
      if (trainer.endsWith('+meta') && name !== 'mmlu') continue;
      for (const seed of (values.seeds ?? defaultSeeds[name]).split(',')) {
        const id = `${name}-${backbone}-${trainer}-s${seed}`;
        const json = path.join(tmp, `${id}.json`);
        const svg = `docs/img/results/${id}.svg`;
        const args = [
          'routing',
          ...datasets[name].args,
          '--backbone',
          backbone,
          '--trainer',
          trainer.replace(/\+meta$/, ''),
          ...(trainer.endsWith('+meta') ? ['--metadata', 'subset'] : []),
          '--seed',
          seed,
          '--generations',
          values.generations,
          '--json',
          json,
          '--svg',
          svg,
          '--quiet',
        ];
        if (values.reuse || values['reuse-only']) {
          try {
            const previous = JSON.parse(readFileSync(json, 'utf8'));
            const command = `openfugu-eval routing ${args.slice(1).join(' ')}`;
            // The same run whatever relative path reached the data (a run made from a git worktree one level
            // deeper reads `../../shared/data`).
            const sameData = (c) => c.replace(/--train \S*?shared\/data\//, '--train DATA/');
            if (sameData(previous.command) === sameData(command)) {
              runs.push({
                id,
                name,
                backbone,
                trainer,
                seed,
                report: previous,
                args,
                seconds: previous.wall_ms / 1000,
                svg,
                reused: true,
              });
              console.error(`${id}: reused ${json}`);
              continue;
            }
          } catch {}
        }
        if (values['reuse-only']) {
          runs.push({
            id,
            name,
            backbone,
            trainer,
            seed,
            args,
            seconds: 0,
            error: 'not run in this regeneration (--reuse-only)',
          });
          console.error(`${id}: not run (--reuse-only)`);
          continue;
        }
        const started = Date.now();
        const result = spawnSync(process.execPath, ['packages/eval/bin/openfugu-eval.js', ...args], {
          cwd: root,
          encoding: 'utf8',
        });
        const seconds = (Date.now() - started) / 1000;
        if (result.status !== 0) {
          console.error(`${id}: exit ${result.status}\n${result.stderr}`);
          runs.push({
            id,
            name,
            backbone,
            trainer,
            seed,
            error: result.stderr.trim().split('\n')[0],
            args,
            seconds,
          });
          continue;
        }
        const report = JSON.parse(readFileSync(json, 'utf8'));
        runs.push({ id, name, backbone, trainer, seed, report, args, seconds, svg });
        console.error(
          `${id}: router ${report.router.mean.toFixed(4)} best ${report.best_single.mean.toFixed(4)} oracle ${report.oracle.mean.toFixed(4)} apgr ${report.apgr?.toFixed(3)} (${seconds.toFixed(1)} s)`,
        );
      }
    }
  }
}

const f3 = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const ci = (s) => `${f3(s.mean)} [${f3(s.ci95[0])}, ${f3(s.ci95[1])}]`;
const lines = supervised ? supervisedSection(runs) : [];
if (!supervised) {
  lines.push(
    '## Tables',
    '',
    'Generated by `node packages/eval/scripts/results.mjs` (after `pnpm build`) on a 2-core, 24 GiB machine, Node',
    `${process.version}; run times are wall-clock seconds for the whole CLI run (load, embed, train, evaluate) and were measured`,
    'while other jobs shared the machine, so treat them as rough. Held-out means with 95% percentile-bootstrap',
    'intervals (1,000 resamples over test prompts). Splits are by prompt text (duplicates stay on one side),',
    '70% train / 30% test, seeded; each trainer keeps 20% of the *training* prompts for model selection, and the',
    'test prompts are never seen before the final evaluation. "best single" is the model with the highest mean on',
    'the **test** prompts (the hardest single-model comparator); APGR uses the best model on the *training*',
    'prompts as "strong" and the best other model on the training prompts as "weak" (both then scored on the test',
    'prompts; APGR is n/a when the test set reverses them). RouteLLM tables drop the rows listed in',
    '`contaminated_ids.json`, as RouteLLM does.',
    '',
    '| dataset | backbone | trainer | seed | n test | router | best single | kNN | random | oracle | router − best | APGR | AIQ | time (s) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const run of runs) {
    if (run.error) {
      lines.push(
        `| ${run.name} | ${run.backbone} | ${run.trainer} | ${run.seed} | — | failed: ${run.error} | | | | | | | | ${run.seconds.toFixed(0)} |`,
      );
      continue;
    }
    const r = run.report;
    lines.push(
      `| ${run.name} | ${run.backbone} | ${run.trainer} | ${run.seed} | ${r.n_test} | ${ci(r.router)} | ${f3(r.best_single.mean)} (${r.best_single.model}) | ${f3(r.knn.mean)} | ${f3(r.random.mean)} | ${f3(r.oracle.mean)} | ${ci(r.router_minus_best_single)} | ${f3(r.apgr)} | ${f3(r.aiq)} | ${run.seconds.toFixed(0)} |`,
    );
  }
  lines.push('', '## Runs', '');
  for (const run of runs) {
    lines.push(`### ${datasets[run.name].label} — ${run.backbone} / ${run.trainer} / seed ${run.seed}`, '');
    lines.push(
      '```sh',
      `node packages/eval/bin/openfugu-eval.js ${run.args.join(' ').replace(/--json \S+/, '--json OUT.json')}`,
      '```',
      '',
    );
    if (run.error) {
      lines.push(`Failed: ${run.error}`, '');
      continue;
    }
    const r = run.report;
    lines.push(
      `Router choices: ${Object.entries(r.router.choice_share)
        .filter(([, s]) => s > 0)
        .map(([m, s]) => `${m} ${(s * 100).toFixed(1)}%`)
        .join(
          ', ',
        )}. CPT(50%) ${r.cpt50 === null ? 'not reached' : `${(r.cpt50 * 100).toFixed(1)}%`}, CPT(80%) ${r.cpt80 === null ? 'not reached' : `${(r.cpt80 * 100).toFixed(1)}%`}.`,
      '',
      `![${run.id}](${path.relative('docs', run.svg)})`,
      '',
    );
  }
}
// Only the part between the markers is generated; text around it (the findings) is kept.
const target = path.join(root, values.out);
const start = supervised
  ? '<!-- generated:supervised:start (node packages/eval/scripts/results.mjs --section supervised) -->'
  : '<!-- generated:start (node packages/eval/scripts/results.mjs) -->';
const end = supervised ? '<!-- generated:supervised:end -->' : '<!-- generated:end -->';
const generated = `${start}\n${lines.join('\n')}\n${end}`;
let previous = '';
try {
  previous = readFileSync(target, 'utf8');
} catch {}
const from = previous.indexOf(start);
const to = previous.indexOf(end);
writeFileSync(
  target,
  from >= 0 && to > from
    ? `${previous.slice(0, from)}${generated}${previous.slice(to + end.length)}`
    : `${generated}\n`,
);
console.error(`wrote ${values.out}`);

/** The supervised section: per-run table, per-configuration summary over seeds, operating points, subsets. */
function supervisedSection(runs) {
  const label = (run) => (run.backbone === 'concat' ? run.trainer : `${run.trainer} (${run.backbone})`);
  const pct = (x) => (typeof x === 'number' && Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : 'n/a');
  const out = [
    '## Supervised value heads, kNN and refinements (issue 16)',
    '',
    `Generated by \`node packages/eval/scripts/results.mjs --section supervised\` (after \`pnpm build\`), Node ${process.version},`,
    'on a shared 2-core machine (times are wall-clock for the whole CLI run, including the k = 20 kNN baseline,',
    'and rough). Backbone `concat` = hashed words (512) + hashed character 3–5-grams (512) + 20 prompt',
    'statistics. Same splits and metrics as the black-box table below (70/30 by prompt, seeded; 95% bootstrap',
    'intervals, 1,000 resamples). `ridge+meta` adds the MMLU subject as request metadata (hashed, 256 features).',
    'On `concat-sparse`, `ridge` cross-validates the IDF feature scaling (kept when its held-out loss is lower) and',
    '`ridge-idf` always applies it.',
    'Operating point "CPT(80%) on train → test": the strong-call share at which the *out-of-fold* training curve',
    'recovers 80% of the gap, turned into a margin threshold on the training prompts and applied to the test',
    'prompts (target: test share within ±0.05 of the train share, test PGR near 0.80).',
    '',
    '| dataset | trainer | seed | n test | router | router − best single | APGR | CPT(50%) | CPT(80%) | CPT(95%) | cost at best-single quality | CPT(80%) op. point: train → test share, test PGR | time (s) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const run of runs) {
    if (run.error) {
      out.push(
        `| ${run.name} | ${label(run)} | ${run.seed} | — | ${run.error.startsWith('not run') ? run.error : `failed: ${run.error}`} | | | | | | | | — |`,
      );
      continue;
    }
    const r = run.report;
    const op = r.operating_points?.find((o) => o.kind === 'pgr' && o.target === 0.8);
    const opText = op ? `${pct(op.train_share)} → ${pct(op.test_share)}, ${f3(op.test_pgr)}` : '—';
    out.push(
      `| ${run.name} | ${label(run)} | ${run.seed} | ${r.n_test} | ${ci(r.router)} | ${ci(r.router_minus_best_single)} | ${f3(r.apgr)} | ${pct(r.cpt50)} | ${pct(r.cpt80)} | ${pct(r.cpt95)} | ${pct(r.cost_at_equal_quality)} | ${opText} | ${run.seconds.toFixed(0)}${run.reused ? '*' : ''} |`,
    );
  }
  if (runs.some((r) => r.reused))
    out.push('', '\\* taken from an earlier run of the same command in this regeneration (`--reuse`).');
  // Summary over seeds.
  const groups = new Map();
  for (const run of runs) {
    if (run.error) continue;
    const key = `${run.name}|${label(run)}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(run.report);
  }
  const meanSd = (xs) => {
    const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
    if (v.length === 0) return 'n/a';
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1));
    return `${m.toFixed(3)} ± ${sd.toFixed(3)}`;
  };
  out.push(
    '',
    '### Summary over seeds (mean ± sd)',
    '',
    '| dataset | trainer | seeds | APGR | CPT(50%) | CPT(80%) | router − best single | seeds with interval above 0 / below 0 |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [key, reports] of groups) {
    const [name, trainer] = key.split('|');
    const above = reports.filter((r) => r.router_minus_best_single.ci95[0] > 0).length;
    const below = reports.filter((r) => r.router_minus_best_single.ci95[1] < 0).length;
    out.push(
      `| ${name} | ${trainer} | ${reports.length} | ${meanSd(reports.map((r) => r.apgr))} | ${meanSd(reports.map((r) => r.cpt50))} | ${meanSd(reports.map((r) => r.cpt80))} | ${meanSd(reports.map((r) => r.router_minus_best_single.mean))} | ${above} / ${below} |`,
    );
  }
  // Where the argmax gain lives: the subsets with the largest |router − best single| × n, ridge seed 1.
  for (const run of runs) {
    if (run.error || label(run) !== 'ridge' || run.seed !== '1' || run.report.subsets.length < 2) continue;
    const subsets = [...run.report.subsets]
      .map((s) => ({ ...s, gain: (s.router - s.best_single) * s.n }))
      .sort((a, b) => Math.abs(b.gain) - Math.abs(a.gain))
      .slice(0, 8);
    out.push(
      '',
      `### ${datasets[run.name].label}, ridge, seed 1: subsets with the largest argmax gain or loss`,
      '',
      '| subset | n | router | best single | router − best | oracle | strong share |',
      '|---|---|---|---|---|---|---|',
      ...subsets.map(
        (s) =>
          `| ${s.subset} | ${s.n} | ${f3(s.router)} | ${f3(s.best_single)} | ${f3(s.router - s.best_single)} | ${f3(s.oracle)} | ${pct(s.strong_share)} |`,
      ),
    );
  }
  out.push('', '### Commands and curves', '');
  for (const run of runs) {
    const curve = run.svg ? ` ([curve](${path.relative('docs', run.svg)}))` : '';
    out.push(
      `- \`node packages/eval/bin/openfugu-eval.js ${run.args.join(' ').replace(/--json \S+/, '--json OUT.json')}\`${curve}`,
    );
  }
  return out;
}
