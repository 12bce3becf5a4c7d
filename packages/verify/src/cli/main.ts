// Argument handling of the `openfugu-verify` bin, free of I/O so it can be tested: `runCli(argv, input)`
// returns what to write and the exit code. `src/cli.ts` does the reading and writing.

import { parseArgs } from 'node:util';

/** Result of a CLI command: what to write, and the exit code. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Reward kinds the CLI knows. `action`, `format` and `bfcl` are the contract; the `openfugu-*` ones are the reference formulas. */
export const REWARD_KINDS = ['action', 'format', 'bfcl', 'openfugu-action', 'openfugu-format'] as const;
/** One of {@link REWARD_KINDS}. */
export type RewardKind = (typeof REWARD_KINDS)[number];

const KIND_LIST = REWARD_KINDS.join('|');

export const HELP = `openfugu-verify — check tool calls and compute rewards (JSON Lines on stdin, JSON Lines on stdout)

Usage:
  openfugu-verify bfcl [--underscore-to-dot] < in.jsonl > out.jsonl
      Each line like a line of BFCL oracle_dev.jsonl: {id, category, function, possible_answer, model_output}
      (model_output = list of {name: {args}}). Writes {"id", "valid", "error_type"} per line, in order.
  openfugu-verify reward --kind ${KIND_LIST} < in.jsonl > out.jsonl
      Each line {completion: string, reference}. Writes {"reward", "details"} per line, in order.
        action           reference = gold actions [{name, arguments, compare_args?}] or {actions, tools?}
        format           reference ignored (<think>…</think><answer>[json]</answer> format)
        bfcl             reference = {category, function, possible_answer}
        openfugu-action  as action, with the reference OpenFugu formula
        openfugu-format  as format, with the reference OpenFugu formula
  openfugu-verify --help

Exit codes: 0 ok; 2 bad usage or a malformed input line (stderr names the line number; earlier lines
are already written).
`;

/** Stdin: all of it (text or bytes), or its chunks as they arrive. */
export type CliInput = string | Uint8Array | AsyncIterable<Uint8Array | string>;

function isChunks(input: CliInput): input is AsyncIterable<Uint8Array | string> {
  return typeof input === 'object' && Symbol.asyncIterator in input;
}

const encoder = new TextEncoder();

async function readAll(input: CliInput): Promise<string | Uint8Array> {
  if (!isChunks(input)) return input;
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/**
 * What the CLI does with `argv` (arguments after the program name) and the whole of stdin (text, or raw
 * UTF-8 bytes: `bfcl` decodes line by line, which is cheaper than decoding the whole input first). Command
 * modules are imported on demand, so `bfcl` never loads the reward code (start-up time matters there).
 * Given chunks and `writeStdout`, `bfcl` streams: it judges lines as chunks arrive and writes verdicts
 * through `writeStdout` as it goes (the result's `stdout` then holds only what was not yet written).
 */
export async function runCli(
  argv: readonly string[],
  readInput: () => CliInput | Promise<CliInput>,
  writeStdout?: (text: string) => void,
): Promise<CommandResult> {
  const [command, ...rest] = argv;
  if (command === undefined) return { stdout: '', stderr: HELP, exitCode: 2 };
  if (command === '--help' || command === '-h' || command === 'help')
    return { stdout: HELP, stderr: '', exitCode: 0 };
  const usage = (message: string): CommandResult => ({
    stdout: '',
    stderr: `openfugu-verify: ${message}\nRun 'openfugu-verify --help' for usage.\n`,
    exitCode: 2,
  });
  let values: Record<string, string | boolean | undefined>;
  try {
    const options =
      command === 'bfcl'
        ? {
            'underscore-to-dot': { type: 'boolean' as const },
            help: { type: 'boolean' as const, short: 'h' },
          }
        : { kind: { type: 'string' as const }, help: { type: 'boolean' as const, short: 'h' } };
    values = parseArgs({ args: [...rest], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { stdout: HELP, stderr: '', exitCode: 0 };
  switch (command) {
    case 'bfcl': {
      const options = { underscoreToDot: values['underscore-to-dot'] === true };
      const input = await readInput();
      if (!isChunks(input) || writeStdout === undefined) {
        const { runBfclCommand } = await import('./bfcl.js');
        return runBfclCommand(await readAll(input), options);
      }
      const { createBfclCommandStream } = await import('./bfcl-batch.js');
      const stream = createBfclCommandStream(options);
      for await (const chunk of input) {
        const out = stream.push(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
        if (out !== '') writeStdout(out);
        if (stream.failed) break; // stop reading after a malformed line
      }
      return stream.end();
    }
    case 'reward': {
      const kind = values.kind;
      if (typeof kind !== 'string') return usage(`reward needs --kind ${KIND_LIST}`);
      if (!(REWARD_KINDS as readonly string[]).includes(kind)) {
        return usage(`unknown reward kind '${kind}' (expected one of ${REWARD_KINDS.join(', ')})`);
      }
      const { runRewardCommand } = await import('./reward.js');
      const input = await readAll(await readInput());
      return runRewardCommand(
        typeof input === 'string' ? input : new TextDecoder().decode(input),
        kind as RewardKind,
      );
    }
    default:
      return usage(`unknown command '${command}'`);
  }
}
