// The `openfugu-verify` bin (bin/openfugu-verify.js imports the built dist/cli.js): reads stdin only for
// commands that need it, writes stdout/stderr, sets the exit code. All logic is in cli/main.ts.

import { runCli } from './cli/main.js';

/** All of stdin as raw bytes (async: works for pipes, files and non-blocking descriptors alike). */
async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

const result = await runCli(process.argv.slice(2), readStdin);
if (result.stderr !== '') process.stderr.write(result.stderr);
if (result.stdout !== '') process.stdout.write(result.stdout);
process.exitCode = result.exitCode;
