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
      testTimeout: 30_000,
      ...test,
    },
  });
}
