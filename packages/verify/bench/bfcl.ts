// BFCL throughput: in-process verdicts/s on every line of oracle_dev.jsonl (entries pre-parsed, checker
// calls only), the per-line CLI path in-process (parse + check + serialise), and the CLI end to end
// (a spawned process: start-up, reading stdin, JSON I/O). Run: `pnpm --filter @openfugu/verify bench` (all
// verify benches) or, in packages/verify, `node --import tsx bench/bfcl.ts`.
// Timings on shared machines are noisy: each row is the median of several rounds.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BfclEntry, checkBfcl, checkBfclVerdictOnly } from '../src/bfcl/checker.js';
import { parseJsonLossless } from '../src/bfcl/lossless-json.js';
import { checkBfclLine, createBfclLineChecker, runBfclCommand } from '../src/cli/bfcl.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..');
const repo = path.resolve(pkg, '..', '..');
const dataDir = path.resolve(repo, process.env.OPENFUGU_DATA_DIR ?? '../shared/data');
const oracle = path.join(dataDir, 'bfcl', 'oracle_dev.jsonl');
if (!existsSync(oracle)) {
  console.error(`bench:bfcl needs ${oracle} (set OPENFUGU_DATA_DIR)`);
  process.exit(1);
}

const PYTHON_CHECKER_PER_S = 85_000; // the official checker's calls on these machines (issue #2), not measured here

const text = readFileSync(oracle, 'utf8');
const lines = text.split('\n').filter((l) => l !== '');
const entries = lines.map((l) => {
  const r = parseJsonLossless(l);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as unknown as BfclEntry;
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Median items/s over `rounds` timed passes (after one warm-up pass): [wall-clock, CPU-time]. */
function rate(items: number, rounds: number, pass: () => void): [number, number] {
  pass();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    pass();
    cpu.push(items / ((cpuMs() - c0) / 1000));
    wall.push(items / ((performance.now() - t0) / 1000));
  }
  return [median(wall), median(cpu)];
}

let sink = 0;
const rows: [string, string, number, number][] = [];
const row = (name: string, unit: string, [wall, cpu]: [number, number]): void => {
  rows.push([name, unit, wall, cpu]);
};

// Settle first: the entries were just parsed (the heap still owes the GC for them) and the checker is cold, which
// slowed whichever row ran first by a third; run the checker untimed for about a second.
for (const settleUntil = performance.now() + 1000; performance.now() < settleUntil; ) {
  for (const e of entries) sink += checkBfcl(e).valid ? 1 : 0;
}
row(
  'checkBfcl, pre-parsed oracle entries',
  'verdicts/s',
  rate(entries.length, 15, () => {
    for (const e of entries) sink += checkBfcl(e).valid ? 1 : 0;
  }),
);
row(
  'checkBfcl { underscoreToDot: true }',
  'verdicts/s',
  rate(entries.length, 15, () => {
    for (const e of entries) sink += checkBfcl(e, { underscoreToDot: true }).valid ? 1 : 0;
  }),
);
row(
  'checkBfclVerdictOnly (the CLI path: no messages)',
  'verdicts/s',
  rate(entries.length, 15, () => {
    for (const e of entries) sink += checkBfclVerdictOnly(e).valid ? 1 : 0;
  }),
);
row(
  'baseline: JSON.parse of each line (native)',
  'lines/s',
  rate(lines.length, 7, () => {
    for (const l of lines) sink += JSON.parse(l) === null ? 0 : 1;
  }),
);
row(
  'parseJsonLossless of each line',
  'lines/s',
  rate(lines.length, 7, () => {
    for (const l of lines) sink += parseJsonLossless(l).ok ? 1 : 0;
  }),
);
row(
  'baseline: checkBfclLine, whole-line parse + check + serialise (the CLI before the scanner)',
  'lines/s',
  rate(lines.length, 7, () => {
    for (let i = 0; i < lines.length; i++) sink += checkBfclLine(lines[i]!, i + 1).ok ? 1 : 0;
  }),
);
row(
  'createBfclLineChecker: scan + cached docs + check + serialise (the CLI path)',
  'lines/s',
  rate(lines.length, 7, () => {
    const check = createBfclLineChecker();
    for (let i = 0; i < lines.length; i++) sink += check(lines[i]!, i + 1).ok ? 1 : 0;
  }),
);
row(
  'runBfclCommand on the whole file text',
  'lines/s',
  rate(lines.length, 7, () => {
    sink += runBfclCommand(text).exitCode;
  }),
);
const fileBytes = readFileSync(oracle);
row(
  'runBfclCommand on the file bytes (decoded line by line)',
  'lines/s',
  rate(lines.length, 7, () => {
    sink += runBfclCommand(fileBytes).exitCode;
  }),
);

// --- end to end: spawned processes ----------------------------------------------------------------
// Preloaded into each spawned process: reports its total CPU time (start-up included) on exit.
const CPU_HOOK =
  'data:text/javascript,process.on("exit",()=>{const u=process.cpuUsage();' +
  'process.stderr.write("CPU_MS "+((u.user+u.system)/1000)+"\\n")})';

const tmp = mkdtempSync(path.join(tmpdir(), 'openfugu-bfcl-bench-'));
try {
  const big = path.join(tmp, 'oracle_x10.jsonl');
  writeFileSync(big, `${lines.join('\n')}\n`.repeat(10));

  // Baseline: what the CLI did before the line scanner — stdin bytes, each line parsed whole (native
  // JSON.parse, lossless where a number's text matters) and judged with checkBfclLine.
  const entryWhole = path.join(tmp, 'entry-whole.ts');
  writeFileSync(
    entryWhole,
    `import { readFileSync, writeSync } from 'node:fs';
import { checkBfclLine } from ${JSON.stringify(path.join(pkg, 'src/cli/bfcl.ts'))};
const bytes = readFileSync(0); const dec = new TextDecoder('utf-8', { ignoreBOM: true });
let out = ''; let n = 0;
for (let s = 0; s < bytes.length; ) { let e = bytes.indexOf(10, s); if (e === -1) e = bytes.length;
  const r = checkBfclLine(dec.decode(bytes.subarray(s, e)), ++n); if (!r.ok) { process.exitCode = 2; break; }
  out += r.output + '\\n'; s = e + 1; }
writeSync(1, out);\n`,
  );
  // esbuild is not a direct dependency: use the copy tsup (a root devDependency) brings.
  const requireHere = createRequire(import.meta.url);
  const esbuild = createRequire(requireHere.resolve('tsup'))('esbuild') as {
    buildSync(options: Record<string, unknown>): unknown;
  };
  const bundle = (from: string, to: string): string => {
    esbuild.buildSync({
      entryPoints: [from],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
      outfile: to,
    });
    return to;
  };
  const bundledWhole = bundle(entryWhole, path.join(tmp, 'bfcl-whole.mjs'));
  // The bin's own code (src/cli.ts: streamed stdin → scanner → stdout) in one file, to see what loading
  // the package's modules costs at start-up.
  const bundledCli = bundle(path.join(pkg, 'src', 'cli.ts'), path.join(tmp, 'cli.mjs'));

  const packageCli = path.join(pkg, 'bin', 'openfugu-verify.js');
  const commands: [string, string[]][] = [['baseline: node -e 0 (start-up only)', ['-e', '0']]];
  const probe = existsSync(path.join(pkg, 'dist', 'cli.js'))
    ? spawnSync(process.execPath, [packageCli, 'bfcl'], { input: `${lines[0]}\n`, encoding: 'utf8' })
    : undefined;
  const packageCliWorks = probe?.status === 0 && probe.stdout.startsWith('{"id"');
  if (packageCliWorks) commands.push(['`openfugu-verify bfcl` (built package bin)', [packageCli, 'bfcl']]);
  commands.push(['baseline: bundled whole-line parse per line (the CLI before the scanner)', [bundledWhole]]);
  commands.push(['src/cli.ts bundled into one file', [bundledCli, 'bfcl']]);

  for (const [input, count, label] of [
    [oracle, lines.length, 'oracle_dev'],
    [big, lines.length * 10, 'oracle_dev ×10'],
  ] as const) {
    const bytes = readFileSync(input);
    for (const [name, args] of commands) {
      const walls: number[] = [];
      const cpus: number[] = [];
      for (let r = 0; r < 7; r++) {
        const t0 = performance.now();
        const p = spawnSync(process.execPath, ['--import', CPU_HOOK, ...args], {
          input: bytes,
          maxBuffer: 1 << 30,
        });
        walls.push(performance.now() - t0);
        if (p.status !== 0) throw new Error(`${name} failed: ${p.stderr}`);
        const cpu = /CPU_MS (\d+(?:\.\d+)?)/.exec(p.stderr.toString());
        if (cpu !== null) cpus.push(Number(cpu[1]));
        if (args[0] !== '-e') {
          const out = p.stdout.toString().split('\n').length - 1;
          if (out !== count) throw new Error(`${name}: ${out} output lines for ${count} inputs`);
        }
      }
      const wall = median(walls);
      const cpu = median(cpus);
      rows.push([
        `${name}, ${label}: ${count} lines, ${wall.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU`,
        'lines/s',
        count / (wall / 1000),
        count / (cpu / 1000),
      ]);
    }
  }
  if (!packageCliWorks) {
    rows.push([
      '`openfugu-verify bfcl`: not measured (build the package first)',
      '-',
      Number.NaN,
      Number.NaN,
    ]);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const fmt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
console.log(
  `BFCL bench — ${lines.length} oracle_dev lines, node ${process.version}. Medians of several rounds; the machine ` +
    'is shared, so wall-clock rates swing with its load; CPU-time rates (process.cpuUsage) are steadier.',
);
console.log(
  `| measurement | unit | wall-clock rate | CPU-time rate | CPU-time rate ÷ Python checker (${fmt(PYTHON_CHECKER_PER_S)}/s) |`,
);
console.log('|---|---|---:|---:|---:|');
for (const [name, unit, wall, cpu] of rows) {
  const ratio = Number.isFinite(cpu) ? `${(cpu / PYTHON_CHECKER_PER_S).toFixed(2)}×` : '-';
  console.log(`| ${name} | ${unit} | ${fmt(wall)} | ${fmt(cpu)} | ${ratio} |`);
}
if (sink === 0.5) console.log(sink);
