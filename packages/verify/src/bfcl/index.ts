// Public API of the BFCL part of @openfugu/verify.

export {
  type BfclCommandResult,
  type BfclLineChecker,
  type BfclLineResult,
  checkBfclLine,
  createBfclLineChecker,
  runBfclCommand,
} from '../cli/bfcl.js';
export { type BfclCommandStream, createBfclCommandStream } from '../cli/bfcl-batch.js';
export type { BfclLineScannerOptions } from '../cli/bfcl-scan.js';
export {
  type BfclCheckOptions,
  type BfclEntry,
  type BfclFunction,
  type BfclLanguage,
  type BfclModelCall,
  type BfclParameter,
  type BfclPossibleAnswer,
  type BfclVerdict,
  bfclLanguageOf,
  bfclReward,
  checkBfcl,
  isBfclCallList,
} from './checker.js';
export {
  type LosslessJson,
  type LosslessJsonOptions,
  type LosslessJsonResult,
  parseJsonLossless,
  stringifyJsonLossless,
} from './lossless-json.js';
export { JsonFloat } from './python.js';
