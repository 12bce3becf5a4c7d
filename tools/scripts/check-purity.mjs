#!/usr/bin/env node
// Pure packages (schema, verify, cmaes, grpo) must not do I/O or read ambient state: no node:* imports,
// no Math.random, no Date.now, no process/console. Their CLI entry points (cli.ts, cli/) are the edge and
// are exempt, as are tests and benchmarks. Exit 1 and name every offending line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const pure = ['schema', 'verify', 'cmaes', 'grpo'];
const banned = [
  [/from\s+['"]node:/, 'imports a node: module'],
  [/import\(\s*['"]node:/, 'imports a node: module'],
  [/\bMath\.random\s*\(/, 'uses Math.random (inject a Random)'],
  [/\bDate\.now\s*\(/, 'uses Date.now (inject a clock)'],
  [/\bnew Date\s*\(\s*\)/, 'reads the clock (inject a clock)'],
  [/\bprocess\./, 'reads process (configure at the edge)'],
  [/\bconsole\./, 'writes to the console (return values instead)'],
];
const exempt = (file) =>
  /\.(test|bench)\.ts$/.test(file) || /(^|\/)cli(\.ts|\/)/.test(file) || file.includes('__fixtures__');

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) yield* walk(full);
    else if (full.endsWith('.ts')) yield full;
  }
}

let failures = 0;
for (const pkg of pure) {
  const root = path.join('packages', pkg, 'src');
  for (const file of walk(root)) {
    const rel = path.relative(root, file);
    if (exempt(rel)) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (/^\s*(\/\/|\*)/.test(line)) return;
        for (const [pattern, why] of banned) {
          if (pattern.test(line)) {
            console.error(`${file}:${index + 1}: pure package ${why}`);
            failures++;
          }
        }
      });
  }
}
if (failures > 0) process.exit(1);
console.log(`purity: ${pure.join(', ')} clean`);
