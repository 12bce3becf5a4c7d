#!/usr/bin/env node
/** `openfugu-train` entry point (see cli.ts). */
import { runCli } from './cli.js';

let stopping = false;
// `pnpm --filter trainer start -- head …` forwards the `--`; drop it.
const argv = process.argv.slice(2);
if (argv[0] === '--') argv.shift();
runCli(argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  onServer: (server) => {
    // The reward server keeps the process alive until SIGINT/SIGTERM; then it drains and exits.
    const stop = (signal: string): void => {
      if (stopping) process.exit(1);
      stopping = true;
      process.stderr.write(`${signal}: closing the reward server\n`);
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  },
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`openfugu-train: ${String(error)}\n`);
    process.exit(1);
  },
);
