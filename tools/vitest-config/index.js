// Shared vitest preset: tests resolve sibling workspace packages from their TypeScript
// source (the "@openfugu/source" export condition), so `test` never waits for `build`.
import { defineProject } from 'vitest/config';

const conditions = ['@openfugu/source', 'import', 'module', 'node', 'default'];

/** @param {string} name @param {import('vitest/config').UserWorkspaceConfig['test']} [test] */
export function openfuguProject(name, test = {}) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@openfugu/source'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      // Watchdogs for hangs, not speed limits: generous enough for a fully loaded 2-core machine (a test that
      // starts the embedded default trains a head first: ~3 s idle, 30 s and more under load).
      testTimeout: 120_000,
      hookTimeout: 120_000,
      ...test,
    },
  });
}
