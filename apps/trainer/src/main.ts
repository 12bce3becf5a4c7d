#!/usr/bin/env node
/** `openfugu-train` entry point (see cli.ts). */
import { runCli } from './cli.js';

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    // The reward server keeps the process alive; every other command exits with its code.
    if (code !== 0 || process.argv[2] !== 'reward-server') process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`openfugu-train: ${String(error)}\n`);
    process.exit(1);
  },
);
