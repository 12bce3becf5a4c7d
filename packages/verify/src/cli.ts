// The `openfugu-verify` bin (bin/openfugu-verify.js imports the built dist/cli.js): reads stdin only for
// commands that need it, writes stdout/stderr, sets the exit code. All logic is in cli/main.ts.

import { readFileSync } from 'node:fs';
import { runCli } from './cli/main.js';

const result = await runCli(process.argv.slice(2), () => readFileSync(0, 'utf8'));
if (result.stderr !== '') process.stderr.write(result.stderr);
if (result.stdout !== '') process.stdout.write(result.stdout);
process.exitCode = result.exitCode;
