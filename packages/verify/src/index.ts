// Types of sibling packages that this package's API takes or returns, re-exported so that users name them
// from here (checked by tools/scripts/check-reexports.mjs in `pnpm lint`).
export type { GoldAction, ToolCall, ToolSpec, ValidationIssue } from '@openfugu/schema';
export * from './bfcl/index.js';
export * from './bfcl-reward.js';
export * from './json.js';
export * from './match.js';
export * from './parse.js';
export * from './python-repr.js';
export * from './pythonic.js';
export * from './reward.js';
export * from './rewards.js';
export * from './validate.js';
