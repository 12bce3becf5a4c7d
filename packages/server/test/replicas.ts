/**
 * Real gateway replicas for the scale-out tests and the state bench: each one is a separate `openfugu-server`
 * process (apps/server's main, run from source with tsx) on a loopback ephemeral port, with a configuration
 * file written here. No vitest here, so the bench can use it too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER_PACKAGE = resolve(here, '..');
const MAIN = resolve(here, '../../../apps/server/src/main.ts');

/** A started replica. */
export interface Replica {
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything it wrote to stderr (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts one replica with `config` (a server configuration object) and `env` (secrets). */
export async function startReplica(
  config: unknown,
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<Replica> {
  const dir = mkdtempSync(join(tmpdir(), 'openfugu-replica-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config));
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env, INIT_CWD: dir };
  for (const name of ['PORT', 'HOST', 'OPENFUGU_CONFIG', 'OPENFUGU_REDIS_URL']) delete childEnv[name];
  const child = spawn(
    process.execPath,
    [
      '--conditions=@openfugu/source',
      '--import',
      'tsx',
      MAIN,
      '--config',
      path,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ],
    {
      cwd: SERVER_PACKAGE,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-20_000);
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`replica did not start within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica exited with ${code}: ${err}`));
    });
  });
  return {
    url,
    process: child,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fake OpenAI-compatible upstream: counts calls per model; a model in `failing` answers 500. */
export interface FakeUpstream {
  readonly baseURL: string;
  readonly hits: Map<string, number>;
  readonly failing: Set<string>;
  /** Usage it reports: `promptTokens` prompt tokens and `max_tokens` (default 8) completion tokens. */
  readonly promptTokens: number;
  close(): Promise<void>;
}

/** Starts the fake upstream on a loopback ephemeral port. */
export async function startFakeUpstream(promptTokens = 10): Promise<FakeUpstream> {
  const hits = new Map<string, number>();
  const failing = new Set<string>();
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      let parsed: { model?: string; max_tokens?: number } = {};
      try {
        parsed = JSON.parse(body) as typeof parsed;
      } catch {}
      const model = parsed.model ?? '';
      hits.set(model, (hits.get(model) ?? 0) + 1);
      if (failing.has(model)) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: 'boom', type: 'server_error' } }));
        return;
      }
      const completion = parsed.max_tokens ?? 8;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: 'up-1',
          object: 'chat.completion',
          created: 1,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: {
            prompt_tokens: promptTokens,
            completion_tokens: completion,
            total_tokens: promptTokens + completion,
          },
        }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    hits,
    failing,
    promptTokens,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
