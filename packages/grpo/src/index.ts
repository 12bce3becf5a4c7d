// Types of sibling packages that this package's API takes or returns, re-exported so that users name them
// from here (checked by tools/scripts/check-reexports.mjs in `pnpm lint`).
export type { Policy, Random } from '@openfugu/schema';
export * from './adam.js';
export * from './advantages.js';
export * from './kl.js';
export * from './softmax-linear.js';
export * from './surrogate.js';
