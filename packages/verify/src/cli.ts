// The `openfugu-verify` bin (bin/openfugu-verify.js imports the built dist/cli.js): reads stdin only for
// commands that need it, writes stdout/stderr, sets the exit code. All logic is in cli/main.ts.

import { createReadStream } from 'node:fs';
import { runCli } from './cli/main.js';

// Stdin as raw byte chunks as they arrive (files, pipes and non-blocking descriptors alike); 1 MiB reads
// rather than the default 64 KiB, so big inputs take fewer trips through the event loop.
const stdinChunks = (): AsyncIterable<Uint8Array> =>
  createReadStream('', { fd: 0, highWaterMark: 1 << 20, autoClose: false });

const result = await runCli(process.argv.slice(2), stdinChunks, (text) => process.stdout.write(text));
if (result.stderr !== '') process.stderr.write(result.stderr);
if (result.stdout !== '') process.stdout.write(result.stdout);
process.exitCode = result.exitCode;
