/**
 * A real headless Chromium for the operations-page tests: the system's (Debian `chromium`), driven by
 * playwright-core (which never downloads a browser). Like `describeWithData`: the suite runs when the browser is
 * there, is skipped with a message on a machine without it, and FAILS in CI (CI=true), where `.ci/run` installs it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { describe, it } from 'vitest';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser executable: `CHROMIUM_PATH`, else the usual system paths; undefined when none exists. */
export function findChromium(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return existsSync(configured) ? configured : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/** `describe` that needs a browser (see the file comment). */
export function describeWithBrowser(name: string, fn: (executablePath: string) => void): void {
  const executablePath = findChromium();
  if (executablePath) {
    describe(name, () => fn(executablePath));
    return;
  }
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      it('has a browser', () => {
        throw new Error('chromium missing in CI (apt-get install -y chromium, or set CHROMIUM_PATH)');
      });
    });
    return;
  }
  console.warn(
    `[openfugu] skipping "${name}": no chromium found (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
  describe.skip(name, () => fn(''));
}

/** Launches headless Chromium (no sandbox: CI containers run as root). */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** Where screenshots go (gitignored; CI keeps them as artefacts). */
export function artifactDir(): string {
  const dir = fileURLToPath(new URL('../test-artifacts/ui/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return dir;
}
