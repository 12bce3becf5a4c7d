/**
 * Starting the benchmark's child processes (upstream, gateway). `processes.ts` and the package source are
 * bundled first with esbuild, the way tsup builds the published `dist` (no tsx loader, no `keepNames`
 * helpers at run time), so the gateway process runs what users run, from the current source.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
let bundled: string | undefined;

function bundle(): string {
  if (bundled) return bundled;
  // esbuild is not a direct dependency: use the copy tsup (a root devDependency) brings.
  const requireHere = createRequire(import.meta.url);
  const esbuild = createRequire(requireHere.resolve('tsup'))('esbuild') as {
    buildSync(options: Record<string, unknown>): unknown;
  };
  // Inside the package's node_modules so the bundle resolves the package's own dependencies.
  const dir = fileURLToPath(new URL('../node_modules/.cache/openfugu-bench/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const outfile = `${dir}processes.mjs`;
  esbuild.buildSync({
    entryPoints: [`${here}processes.ts`],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    outfile,
  });
  bundled = outfile;
  return outfile;
}

/** Forks `processes.ts <args>` (bundled) and resolves once it reports its URL. */
export function start(
  args: string[],
  execArgv: string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(bundle(), args, {
    execArgv: ['--expose-gc', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    child.on('message', (message: { type: string; url: string }) => {
      if (message.type === 'ready') resolve({ child, url: message.url });
    });
  });
}

function ask<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: { type: string } & T): void => {
      if (message.type !== type) return;
      child.off('message', listener);
      resolve(message);
    };
    child.on('message', listener);
    child.send({ type });
  });
}

/** The child's RSS and heap used after a full GC, in bytes. */
export function memory(child: ChildProcess): Promise<{ rss: number; heapUsed: number }> {
  return ask(child, 'mem');
}

/** The child's `process.cpuUsage()`, in µs. */
export function cpu(child: ChildProcess): Promise<{ user: number; system: number }> {
  return ask(child, 'cpu');
}

/** Asks the child to exit and waits for it (a `--cpu-prof` child writes its profile then). */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ type: 'exit' });
  await exited;
}
