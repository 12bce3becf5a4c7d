// Runs every verify benchmark one after the other (each in its own process, so they don't share JIT
// state): ours, then BFCL's (bench/bfcl*.ts) when present.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const files = [
  'validate.ts',
  'reward.ts',
  ...readdirSync(here)
    .filter((f) => /^bfcl.*\.ts$/.test(f))
    .sort(),
];
let failed = false;
for (const file of files) {
  console.log(`\n## bench/${file}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
