// Types of sibling packages that this package's API takes or returns, re-exported so that users name them
// from here (checked by tools/scripts/check-reexports.mjs in `pnpm lint`).
export type { OpenFuguError, Random } from '@openfugu/schema';
export type { SparseVector } from '@openfugu/trinity';
export { type CsvIssue, type CsvRecord, parseCsv } from './csv.js';
export {
  checkDense,
  type EvaluateRoutingOptions,
  evaluateRouting,
  type Features,
  type RouterTrainer,
  type RouterTrainingInput,
  type RoutingReport,
  type ScoredMean,
  type TrainedRouter,
} from './evaluate.js';
export { knnUtilities } from './knn.js';
export {
  DataFormatError,
  detectFormat,
  loadAlpacaEval,
  loadGenericTable,
  loadOutcomes,
  loadRouteLLM,
  loadRouteLLMTable,
  readPrices,
} from './loaders.js';
export {
  aiq,
  apgr,
  argmaxChoices,
  bestSingle,
  bootstrapInterval,
  type CurvePoint,
  callsToPerformance,
  type Interval,
  mean,
  modelMeans,
  oracleValues,
  randomValues,
  routedValues,
  strongShareCurve,
} from './metrics.js';
export { SUBSET_FEATURES } from './names.js';
export { createProgress, type Progress, type ProgressSink, silentProgress } from './progress.js';
export { renderCurveSvg, renderMarkdownReport } from './report.js';
export { overlappingRows, promptKey, splitByPrompt } from './split.js';
export { describeValueHead, fitValueHead } from './supervised.js';
export { renderLineChartSvg, type SvgChart, type SvgReference, type SvgSeries } from './svg.js';
export {
  dropIncomplete,
  type OutcomePrompt,
  type OutcomeTable,
  outcomeAt,
  selectModels,
  selectPrompts,
} from './table.js';
export {
  createBackboneEmbedder,
  createRouterTrainer,
  type RouterTrainerOptions,
  seededRandom,
} from './wiring.js';
