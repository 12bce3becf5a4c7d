import { defineConfig } from 'vitest/config';

// One root config: `pnpm vitest` here runs every workspace project; `pnpm test` runs them through turbo.
export default defineConfig({
  test: { projects: ['packages/*', 'apps/*', 'tools/docs-check'] },
});
