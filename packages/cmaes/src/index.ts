// Types of sibling packages that this package's API takes or returns, re-exported so that users name them
// from here (checked by tools/scripts/check-reexports.mjs in `pnpm lint`).
export type { AbortSignalLike } from '@openfugu/schema';
export {
  type BestSolution,
  type Bounds,
  type Cmaes,
  type CmaesKind,
  type CmaesSettings,
  type CmaesState,
  createCmaes,
  createSepCmaes,
  fromState,
  type TerminationReason,
} from './cmaes.js';
export { createEigenWorkspace, type EigenWorkspace, symmetricEigen } from './eigen.js';
export {
  type FitnessContext,
  type FitnessFunction,
  type MinimizeOptions,
  type MinimizeProgress,
  type MinimizeResult,
  maximize,
  minimize,
} from './minimize.js';
export { ellipsoid, rastrigin, rosenbrock, sphere } from './objectives.js';
export { createRng, type Rng, type RngState } from './random.js';
