/**
 * `openfugu-train` — train TRINITY router heads on recorded outcomes, serve rewards to RL engines, and
 * sample scored rollouts for LLM GRPO. Exit codes: 0 success, 2 bad usage or bad input, 1 unexpected failure.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { OpenFuguError } from '@openfugu/schema';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runCompareCommand } from './compare.js';
import { HEAD_BACKBONES } from './data.js';
import { runHeadCommand } from './head-command.js';
import { createProgress, type ProgressSink } from './progress.js';
import { createRewardServer } from './reward-server.js';
import { REWARD_KINDS } from './rewards.js';
import { buildDatasetRows, loadTau2Tasks, runRollouts } from './rollouts.js';

/** Where the CLI writes; tests pass buffers. */
export interface CliIo {
  stdout: ProgressSink;
  stderr: ProgressSink;
  env: Readonly<Record<string, string | undefined>>;
  /** Called with the running reward server so a caller (or a test) can stop it. */
  onServer?: (server: { url: string; close(): Promise<void> }) => void;
}

const integer =
  (name: string, min = 0) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
const fraction =
  (name: string, lo: number, hi: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!(n >= lo && n < hi)) throw new InvalidArgumentError(`${name} must be a number in [${lo}, ${hi})`);
    return n;
  };
const positive =
  (name: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!(n > 0 && Number.isFinite(n))) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

class UsageError extends Error {}

/** `head` options (commander key, flag) that `--trainer ridge` refuses: it has no generations. */
const RIDGE_REFUSED: readonly (readonly [string, string])[] = [
  ['generations', '--generations'],
  ['validation', '--validation'],
  ['checkpoint', '--checkpoint'],
  ['checkpointEvery', '--checkpoint-every'],
  ['resume', '--resume'],
  ['groupSize', '--group-size'],
  ['batchSize', '--batch-size'],
  ['learningRate', '--learning-rate'],
];

/** Runs the CLI with `argv` (without `node` and the script); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('openfugu-train')
    .description('Train TRINITY router heads, serve rewards to RL engines, sample scored rollouts.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  program
    .command('head')
    .description(
      'train a router head on recorded outcomes: sep-CMA-ES, GRPO, or the supervised ridge value head',
    )
    .requiredOption('--data <dir>', 'AlpacaEval dir, RouteLLM dir/table, or generic outcome CSV')
    .option('--models <a,b,...>', 'pool (default: every model of the data)', list)
    .addOption(
      new Option(
        '--backbone <name>',
        'text → vector backbone (concat: composed default; concat-sparse: wide sparse, ridge only)',
      )
        .choices(HEAD_BACKBONES)
        .default('hashing'),
    )
    .addOption(
      new Option('--trainer <name>', 'cmaes, grpo, or ridge (supervised value head, λ by 5-fold CV)')
        .choices(['cmaes', 'grpo', 'ridge'])
        .default('cmaes'),
    )
    .addOption(
      new Option(
        '--metadata <column>',
        "ridge: the prompts' subset label (MMLU subject, AlpacaEval source, a CSV's subset column) as request-category features",
      ).choices(['subset']),
    )
    .option('--seed <n>', 'seed of splits, CMA-ES and sampling', integer('--seed'), 0)
    .option(
      '--generations <n>',
      'CMA-ES generations (GRPO: the same budget of reward evaluations)',
      integer('--generations', 1),
      100,
    )
    .requiredOption('--out <file>', 'head file: .json, .npy or .safetensors')
    .option(
      '--holdout <fraction>',
      'prompts held out as a test set (by prompt text); 0 = none',
      fraction('--holdout', 0, 1),
      0.2,
    )
    .option(
      '--validation <fraction>',
      'training prompts used for model selection',
      fraction('--validation', 0, 1),
      0.2,
    )
    .option('--checkpoint <file>', 'write a JSON checkpoint here every --checkpoint-every generations')
    .option('--checkpoint-every <n>', 'generations between checkpoints', integer('--checkpoint-every', 1), 10)
    .option('--resume <file>', 'continue from a checkpoint (same data and settings)')
    .option('--json <file>', 'results JSON (curve, selected generation, held-out reward, timing)')
    .option('--svg <file>', 'SVG learning curve (train/validation reward per generation)')
    .option('--group-size <n>', 'GRPO: samples per prompt', integer('--group-size', 2))
    .option('--batch-size <n>', 'GRPO: prompts per step', integer('--batch-size', 1))
    .option('--learning-rate <lr>', 'GRPO: Adam learning rate', positive('--learning-rate'))
    .option(
      '--no-roles',
      'write agent rows only (default: agent rows + 3 zero role rows, the TRINITY layout)',
    )
    .action(async (opts, command: Command) => {
      if (opts.trainer === 'ridge') {
        // One supervised fit: nothing iterates, so the iteration flags would be silently meaningless.
        const given = RIDGE_REFUSED.filter(([key]) => command.getOptionValueSource(key) === 'cli');
        if (given.length > 0)
          throw new UsageError(
            `--trainer ridge fits once (λ by 5-fold CV on the training prompts): ${given.map(([, flag]) => flag).join(', ')} ${given.length === 1 ? 'does' : 'do'} not apply`,
          );
      } else if (opts.metadata !== undefined) {
        throw new UsageError(`--metadata applies to --trainer ridge, not --trainer ${opts.trainer}`);
      } else if (opts.backbone === 'concat-sparse') {
        throw new UsageError(
          `--backbone concat-sparse yields sparse vectors, which only --trainer ridge fits (--trainer ${opts.trainer} needs hashing, glove or concat)`,
        );
      }
      await runHeadCommand(
        {
          data: opts.data,
          ...(opts.models ? { models: opts.models } : {}),
          backbone: opts.backbone,
          trainer: opts.trainer,
          seed: opts.seed,
          generations: opts.generations,
          out: opts.out,
          holdout: opts.holdout,
          validationFraction: opts.validation,
          checkpointEvery: opts.checkpointEvery,
          ...(opts.checkpoint ? { checkpoint: opts.checkpoint } : {}),
          ...(opts.resume ? { resume: opts.resume } : {}),
          ...(opts.json ? { json: opts.json } : {}),
          ...(opts.svg ? { svg: opts.svg } : {}),
          ...(opts.groupSize === undefined ? {} : { groupSize: opts.groupSize }),
          ...(opts.batchSize === undefined ? {} : { batchSize: opts.batchSize }),
          ...(opts.learningRate === undefined ? {} : { learningRate: opts.learningRate }),
          roles: opts.roles !== false,
          ...(opts.metadata ? { metadata: opts.metadata } : {}),
        },
        io.stderr,
      );
    });

  program
    .command('reward-server')
    .description('serve @openfugu/verify and conductor rewards over HTTP (OpenRLHF, TRL, verl, generic)')
    .option('--host <host>', 'address to listen on (env HOST, default 127.0.0.1)')
    .option('--port <port>', 'port (env PORT, default 8000; 0 = any free port)', integer('--port'))
    .addOption(
      new Option(
        '--kind <kind>',
        'reward of /get_reward, /openrlhf, /trl and /verl without a kind in the path',
      )
        .choices(Object.keys(REWARD_KINDS))
        .default('action'),
    )
    .option('--body-limit <bytes>', 'largest request body', integer('--body-limit', 1), 32 * 1024 * 1024)
    .option('--quiet', 'no request log')
    .action(async (opts) => {
      const envPort = io.env.PORT;
      let port: number = opts.port ?? 8000;
      if (opts.port === undefined && envPort !== undefined && envPort !== '') {
        const n = Number(envPort);
        if (!Number.isSafeInteger(n) || n < 0 || n > 65535)
          throw new UsageError(`PORT='${envPort}' is not a port`);
        port = n;
      }
      if (port > 65535) throw new UsageError('--port must be ≤ 65535');
      const host: string = opts.host ?? io.env.HOST ?? '127.0.0.1';
      const server = createRewardServer({
        defaultKind: opts.kind,
        bodyLimit: opts.bodyLimit,
        ...(opts.quiet
          ? {}
          : {
              onRequest: (e) =>
                io.stderr.write(`${e.method} ${e.path} ${e.status} ${e.items} items ${e.ms.toFixed(1)} ms\n`),
            }),
      });
      const url = await server.listen({ host, port });
      io.stdout.write(
        `openfugu-train reward-server listening on ${url} (default kind '${opts.kind}')\n` +
          `  POST ${url}/v1/rewards          generic batch {kind, items:[{completion, reference}]}\n` +
          `  POST ${url}/get_reward          OpenRLHF --remote_rm_url ({query, prompts, labels}); /openrlhf/<kind> too\n` +
          `  POST ${url}/trl/<kind>          TRL reward-function arguments {prompts, completions, reference}\n` +
          `  POST ${url}/verl/<kind>         verl compute_score arguments {data_source, solution_str, ground_truth, extra_info}\n` +
          `  GET  ${url}/v1/kinds            kinds: ${Object.keys(REWARD_KINDS).join(', ')}\n`,
      );
      io.onServer?.({ url, close: () => server.close() });
    });

  program
    .command('rollouts')
    .description(
      'sample G completions per tau2 task from an OpenAI-compatible policy, score, compute advantages',
    )
    .requiredOption('--tasks <dir>', 'tau2 domain folder (tasks.json + tools.json [+ split_tasks.json])')
    .option('--split <name>', 'split of split_tasks.json (train, test, base)')
    .option('--limit <n>', 'only the first N tasks', integer('--limit', 1))
    .requiredOption('--policy-url <url>', 'OpenAI-compatible base URL, e.g. http://127.0.0.1:8001/v1')
    .requiredOption('--model <name>', 'model name sent to the policy server')
    .option('--group-size <n>', 'G, completions per prompt', integer('--group-size', 1), 8)
    .option('--temperature <t>', 'sampling temperature', Number, 1)
    .option('--max-tokens <n>', 'max_tokens per completion', integer('--max-tokens', 1))
    .option('--concurrency <n>', 'prompts in flight', integer('--concurrency', 1), 4)
    .requiredOption('--out <file>', 'JSONL of {task_id, prompt, completion, reward, advantage, details}')
    .option('--stats <file>', 'statistics JSON')
    .action(async (opts) => {
      const { tasks: all, tools } = loadTau2Tasks(opts.tasks, opts.split);
      const tasks = opts.limit === undefined ? all : all.slice(0, opts.limit);
      if (tasks.length === 0) throw new UsageError('no tasks selected');
      const progress = createProgress('rollouts', tasks.length, io.stderr);
      const apiKey = io.env.OPENAI_API_KEY;
      const { records, stats } = await runRollouts({
        tasks,
        tools,
        groupSize: opts.groupSize,
        concurrency: opts.concurrency,
        policy: {
          url: opts.policyUrl,
          model: opts.model,
          temperature: opts.temperature,
          ...(opts.maxTokens === undefined ? {} : { maxTokens: opts.maxTokens }),
          ...(apiKey ? { apiKey } : {}),
        },
        onTaskDone: (done) => progress.update(done),
      });
      progress.stop();
      const out = createWriteStream(opts.out);
      for (const record of records) out.write(`${JSON.stringify(record)}\n`);
      await new Promise<void>((resolve, reject) =>
        out.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
      if (opts.stats) writeFileSync(opts.stats, `${JSON.stringify(stats, null, 2)}\n`);
      io.stderr.write(
        `${stats.samples} samples from ${stats.tasks} tasks: reward mean ${stats.reward_mean.toFixed(4)} std ${stats.reward_std.toFixed(4)}, zero-variance groups ${(100 * stats.zero_variance_fraction).toFixed(1)}%, parse failures ${(100 * stats.parse_failure_rate).toFixed(1)}%; ${stats.requests} requests (${stats.fallback_requests} fallback) in ${stats.seconds.toFixed(1)} s → ${opts.out}\n`,
      );
    });

  program
    .command('dataset')
    .description('write tau2 tasks as a JSONL training set (prompt + reference) for TRL, OpenRLHF or verl')
    .requiredOption('--tasks <dir>', 'tau2 domain folder (tasks.json + tools.json [+ split_tasks.json])')
    .option('--split <name>', 'split of split_tasks.json (train, test, base)')
    .option('--data-source <name>', 'verl data_source field', 'openfugu/tau2')
    .requiredOption('--out <file>', 'JSONL of {task_id, prompt, reference, data_source, reward_model}')
    .action((opts) => {
      const { tasks, tools } = loadTau2Tasks(opts.tasks, opts.split);
      if (tasks.length === 0) throw new UsageError('no tasks selected');
      const rows = buildDatasetRows(tasks, tools, opts.dataSource);
      writeFileSync(opts.out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      io.stderr.write(`${rows.length} rows → ${opts.out}\n`);
    });

  program
    .command('compare')
    .description(
      'GRPO vs sep-CMA-ES on the same routing task and budget of reward evaluations, several seeds',
    )
    .requiredOption('--data <dir>', 'outcome data (as for head)')
    .option('--models <a,b,...>', 'pool', list)
    .option('--name <label>', 'label in the outputs')
    .option('--seeds <a,b,...>', 'seeds', (v) => list(v).map((s) => integer('--seeds')(s)), [1, 2, 3])
    .option(
      '--generations <n>',
      'CMA-ES generations (GRPO gets the same evaluations)',
      integer('--generations', 1),
      60,
    )
    .option('--holdout <fraction>', 'held-out test prompts', fraction('--holdout', 0.01, 1), 0.3)
    .option(
      '--max-prompts <n>',
      'subsample the data to N prompts first (seeded)',
      integer('--max-prompts', 10),
    )
    .option('--json <file>', 'results JSON')
    .option('--svg <file>', 'SVG of held-out reward vs reward evaluations')
    .option('--markdown <file>', 'Markdown table')
    .action(async (opts) => {
      await runCompareCommand(
        {
          data: opts.data,
          ...(opts.models ? { models: opts.models } : {}),
          ...(opts.name ? { name: opts.name } : {}),
          seeds: opts.seeds,
          generations: opts.generations,
          holdout: opts.holdout,
          ...(opts.maxPrompts === undefined ? {} : { maxPrompts: opts.maxPrompts }),
          ...(opts.json ? { json: opts.json } : {}),
          ...(opts.svg ? { svg: opts.svg } : {}),
          ...(opts.markdown ? { markdown: opts.markdown } : {}),
        },
        io.stderr,
      );
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      exitCode = error.exitCode === 0 ? 0 : 2;
      if (
        error.code === 'commander.help' ||
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version'
      )
        exitCode = 0;
    } else if (error instanceof UsageError) {
      io.stderr.write(`openfugu-train: ${error.message}\n`);
      exitCode = 2;
    } else if (
      error instanceof OpenFuguError ||
      (error as { code?: string }).code === 'ENOENT' ||
      error instanceof SyntaxError
    ) {
      io.stderr.write(`openfugu-train: ${(error as Error).message}\n`);
      exitCode = 2;
    } else {
      io.stderr.write(
        `openfugu-train: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      exitCode = 1;
    }
  }
  return exitCode;
}
