#!/usr/bin/env node
import { dirname, resolve } from 'node:path';
/**
 * `openfugu-server`: the OpenAI-compatible gateway. With no configuration it starts the embedded default
 * (a simulated pool on loopback) so `curl` works at once; `--config <file>` (or OPENFUGU_CONFIG) points it
 * at real upstreams.
 */
import { createServerFromConfig, loadConfigFile, parseConfig } from '@openfugu/server';
import { Command, InvalidArgumentError } from 'commander';
import { renderBanner } from './banner.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('not a port number');
  return port;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('openfugu-server')
    .description('OpenAI-compatible gateway in front of a hidden pool (TRINITY router / Conductor).')
    .option('-c, --config <file>', 'JSON or YAML configuration file (env OPENFUGU_CONFIG)')
    .option('--host <host>', 'address to listen on (env HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (env PORT, default 8088)', parsePort)
    .option('--ui', 'serve the operations page at /ui (on by default for the embedded simulated pool)')
    .option('--no-ui', 'do not serve the operations page');
  // `pnpm --filter server start -- --port 9000` passes the `--` through; drop it.
  const argv = process.argv.slice(2);
  program.parse(argv[0] === '--' ? argv.slice(1) : argv, { from: 'user' });
  const flags = program.opts<{ config?: string; host?: string; port?: number; ui?: boolean }>();
  // pnpm runs the script in apps/server; resolve a relative path against where the user typed the command.
  const given = flags.config ?? process.env.OPENFUGU_CONFIG;
  const configPath = given === undefined ? undefined : resolve(process.env.INIT_CWD ?? process.cwd(), given);
  const config = configPath ? await loadConfigFile(configPath) : parseConfig({});
  // A head file named in the configuration is relative to the configuration file.
  if (configPath && config.router?.headPath)
    config.router.headPath = resolve(dirname(configPath), config.router.headPath);
  if (configPath && config.ui?.reportDir)
    config.ui.reportDir = resolve(dirname(configPath), config.ui.reportDir);
  if (flags.ui !== undefined) config.ui = { ...config.ui, enabled: flags.ui };
  const host = flags.host ?? process.env.HOST ?? config.server?.host ?? '127.0.0.1';
  const envPort =
    process.env.PORT === undefined || process.env.PORT === '' ? undefined : parsePort(process.env.PORT);
  const port = flags.port ?? envPort ?? config.server?.port ?? 8088;

  const server = await createServerFromConfig(config, { env: process.env });
  const url = await server.gateway.listen({ host, port });
  process.stdout.write(renderBanner({ url, server, configPath }));

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${signal}: finishing in-flight requests, then exiting\n`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`openfugu-server: ${message}\n`);
  process.exit(1);
});
