/**
 * Every shell command in every README (root, packages/*, apps/*) and docs page is checked against the built
 * repository: the scripts, packages, files and bins it names exist; every bin answers `--help` with exit 0;
 * the cheap documented commands actually run and print what the docs say. A command of a shape this test
 * does not know fails the test, so a new kind of command in the docs gets a check too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');
const json = (file: string) => JSON.parse(read(file)) as { name: string; scripts?: Record<string, string> };

/** Workspace packages by name, with their folder. */
const workspace = new Map<string, { dir: string; scripts: Record<string, string> }>();
for (const group of ['packages', 'apps', 'tools']) {
  for (const name of readdirSync(path.join(root, group))) {
    const file = path.join(group, name, 'package.json');
    if (!existsSync(path.join(root, file))) continue;
    const pkg = json(file);
    workspace.set(pkg.name, { dir: path.join(group, name), scripts: pkg.scripts ?? {} });
  }
}
const rootScripts = json('package.json').scripts ?? {};

const docs = [
  'README.md',
  ...['packages', 'apps'].flatMap((group) =>
    readdirSync(path.join(root, group))
      .map((name) => path.join(group, name, 'README.md'))
      .filter((file) => existsSync(path.join(root, file))),
  ),
  ...readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => path.join('docs', name)),
];

/** The commands of a doc's sh/bash blocks: continuations joined, quoted newlines kept, `&&` chains split. */
function commandsOf(text: string): string[] {
  const commands: string[] = [];
  for (const block of text.matchAll(/```(?:sh|bash|shell|console)\n([\s\S]*?)```/g)) {
    let pending = '';
    for (const raw of (block[1] ?? '').split('\n')) {
      const line = pending === '' ? raw.trim() : `${pending}\n${raw}`;
      if (line.startsWith('#') || line === '') continue;
      const quotes = (line.match(/'/g) ?? []).length;
      if (line.endsWith('\\') || quotes % 2 === 1) {
        pending = line.endsWith('\\') ? line.slice(0, -1) : line;
        continue;
      }
      pending = '';
      const command = line.replace(/\s+#[^'"]*$/, '').trim();
      commands.push(...command.split(/\s+&&\s+/).map((part) => part.trim()));
    }
  }
  return commands;
}

const words = (command: string): string[] => command.split(/\s+/).filter(Boolean);

/** What a command needs to be true; undefined when it is fine, else the reason. */
function problem(command: string): string | undefined {
  let argv = words(command);
  while (argv[0] && /^[A-Z_]+=/.test(argv[0])) argv = argv.slice(1); // HOST=0.0.0.0 pnpm …
  const [tool, first, second, third] = argv;
  if (tool === 'pnpm') {
    if (first === 'install' || first === 'exec' || first === 'turbo') return undefined;
    if (first === '-r')
      return argv.includes('pack') || argv.includes('exec') ? undefined : 'unknown pnpm -r form';
    if (first === 'add') return workspacePackages(argv.slice(2));
    if (first === '--filter') {
      const target = second ?? '';
      const pkg = workspace.get(target) ?? workspace.get(`@openfugu/${target}`);
      if (!pkg) return `no workspace package '${target}'`;
      if (third === 'exec') {
        const file = argv.find((word) => /\.(ts|js|mjs)$/.test(word));
        return file && !existsSync(path.join(root, pkg.dir, file)) ? `no file ${pkg.dir}/${file}` : undefined;
      }
      if (
        third === 'test' ||
        third === 'build' ||
        third === 'start' ||
        third === 'bench' ||
        /^[\w:-]+$/.test(third ?? '')
      )
        return pkg.scripts[third ?? ''] === undefined ? `${target} has no script '${third}'` : undefined;
      return `unknown pnpm --filter form`;
    }
    return first !== undefined && rootScripts[first] !== undefined ? undefined : `no root script '${first}'`;
  }
  if (tool === 'npm' && (first === 'install' || first === 'i')) return workspacePackages(argv.slice(2));
  if (tool === 'node') {
    const file = argv.find((word, index) => index > 0 && !word.startsWith('-'));
    return file && existsSync(path.join(root, file)) ? undefined : `no file ${file} (run pnpm build first)`;
  }
  if (tool?.startsWith('openfugu-'))
    return existsSync(path.join(root, 'node_modules/.bin', tool)) ? undefined : `no bin ${tool} at the root`;
  if (tool === 'bash') return first && existsSync(path.join(root, first)) ? undefined : `no script ${first}`;
  // Commands against a running server or an external engine: documented for the reader, not runnable here.
  if (tool === 'curl')
    return /\s(https?:\/\/)?(127\.0\.0\.1|localhost)[:/]/.test(command)
      ? undefined
      : 'curl to a non-local address';
  if (tool === 'vllm') return undefined;
  return `unknown command shape '${tool}'`;
}

/** `@openfugu/*` names must be workspace packages; others must be pinned (`name@x.y.z`). */
function workspacePackages(names: string[]): string | undefined {
  for (const name of names.filter((word) => !word.startsWith('-'))) {
    if (name.startsWith('@openfugu/')) {
      if (!workspace.has(name)) return `no workspace package ${name}`;
    } else if (!/@\d+\.\d+\.\d+$/.test(name)) return `external package ${name} is not pinned`;
  }
  return undefined;
}

function run(command: string, args: string[], input?: string) {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    timeout: 110_000,
    ...(input === undefined ? {} : { input }),
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('every command in every README and docs page', () => {
  const all = docs.flatMap((file) => commandsOf(read(file)).map((command) => ({ file, command })));

  it('finds the commands (the parser did not lose the docs)', () => {
    expect(all.length).toBeGreaterThan(50);
    expect(all.map((entry) => entry.command)).toContain('pnpm test');
  });

  it.each(docs)('%s: every command names scripts, packages, files and bins that exist', (file) => {
    const problems = commandsOf(read(file))
      .map((command) => ({ command, problem: problem(command) }))
      .filter((entry) => entry.problem !== undefined);
    expect(problems).toEqual([]);
  });
});

describe('the documented CLIs, from the repository root', () => {
  it.each(['openfugu-eval', 'openfugu-verify', 'openfugu-train'])('pnpm exec %s --help exits 0', (bin) => {
    const result = run('pnpm', ['exec', bin, '--help']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/usage/i);
  });

  it('every `node <bin>` path in the docs answers --help with exit 0', () => {
    const bins = new Set(
      docs
        .flatMap((file) => commandsOf(read(file)))
        .map(words)
        .filter((argv) => argv[0] === 'node' && /bin\/|dist\/main\.js/.test(argv[1] ?? ''))
        .map((argv) => argv[1]!),
    );
    expect(bins.size).toBeGreaterThanOrEqual(3);
    for (const bin of bins) expect(run('node', [bin, '--help']).code, bin).toBe(0);
  });

  it("verify's quick start prints the official checker's verdicts", () => {
    const input = read('packages/verify/examples/bfcl-sample.jsonl');
    const result = run('node', ['packages/verify/bin/openfugu-verify.js', 'bfcl'], input);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(read('packages/verify/examples/bfcl-sample.expected.jsonl'));
  });

  it("trinity's quick start routes as its comments say ('Write a poem about the sea.' → writer)", () => {
    // The README gives the command inline, in backticks.
    const command = /`(pnpm --filter @openfugu\/trinity exec tsx [^`]*quick-start\.ts)`/.exec(
      read('packages/trinity/README.md'),
    )?.[1];
    expect(command).toBe(
      'pnpm --filter @openfugu/trinity exec tsx --conditions=@openfugu/source examples/quick-start.ts',
    );
    expect(problem(command!)).toBeUndefined();
    const result = run('pnpm', words(command!).slice(1));
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').slice(0, 2)).toEqual(['math', 'writer']);
  });
});

describe('releases', () => {
  const publishable = [...workspace.entries()]
    .filter(
      ([, pkg]) => !(JSON.parse(read(path.join(pkg.dir, 'package.json'))) as { private?: boolean }).private,
    )
    .map(([name]) => name)
    .sort();

  it('every published package is in the one fixed changesets group, at one version', () => {
    const config = JSON.parse(read('.changeset/config.json')) as { fixed: string[][] };
    expect(config.fixed).toHaveLength(1);
    expect([...config.fixed[0]!].sort()).toEqual(publishable);
    const versions = new Set(
      publishable.map(
        (name) =>
          (JSON.parse(read(path.join(workspace.get(name)!.dir, 'package.json'))) as { version: string })
            .version,
      ),
    );
    expect(versions.size).toBe(1);
    expect(read('.github/workflows/release.yml')).toContain('changesets/action');
  });

  it("the README's pnpm pack command makes one tarball per package, with no workspace: ranges left", () => {
    const command = commandsOf(read('README.md')).find((line) => line.includes(' pack '));
    expect(command).toBe('pnpm -r --filter "./packages/*" pack --pack-destination /tmp/openfugu-tarballs');
    const out = mkdtempSync(path.join(tmpdir(), 'openfugu-pack-'));
    try {
      const result = run('pnpm', ['-r', '--filter', './packages/*', 'pack', '--pack-destination', out]);
      expect(result.code, result.stderr).toBe(0);
      const tarballs = readdirSync(out).sort();
      expect(tarballs).toEqual(
        publishable.map((name) => `${name.slice(1).replace('/', '-')}-0.1.0.tgz`).sort(),
      );
      for (const tarball of tarballs) {
        const manifest = run('tar', ['-xzOf', path.join(out, tarball), 'package/package.json']);
        expect(manifest.code).toBe(0);
        expect(manifest.stdout, tarball).not.toContain('workspace:');
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
