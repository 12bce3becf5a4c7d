// Locating ../shared/data for tests. Tests that need it call `describeWithData`: the suite runs when the
// data is there, is skipped with a clear message on a contributor's machine without it, and FAILS in CI
// (CI=true), where missing data must never pass silently.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of the shared data directory (OPENFUGU_DATA_DIR, relative to the repo root; default ../shared/data). */
export function dataDir() {
  return path.resolve(repoRoot, process.env.OPENFUGU_DATA_DIR ?? '../shared/data');
}

/** Absolute path of a file or folder inside the data directory, or undefined when it is absent. */
export function dataPath(...segments) {
  const p = path.join(dataDir(), ...segments);
  return existsSync(p) ? p : undefined;
}

/** `describe` that needs `segments` inside the data directory. */
export function describeWithData(name, segments, fn) {
  const p = dataPath(...segments);
  if (p) return describe(name, () => fn(p));
  const where = path.join(dataDir(), ...segments);
  if (process.env.CI === 'true' || process.env.CI === '1') {
    return describe(name, () => {
      it('has its data', () => {
        throw new Error(`data missing in CI: ${where} (set OPENFUGU_DATA_DIR)`);
      });
    });
  }
  console.warn(`[openfugu] skipping "${name}": data not found at ${where} (set OPENFUGU_DATA_DIR)`);
  return describe.skip(name, () => fn(where));
}
