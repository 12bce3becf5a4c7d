/**
 * The CLI's backbone and trainer names, kept apart from the wiring so that `openfugu-eval` checks its
 * arguments before it loads the training stack (trinity, cmaes, grpo).
 */

/** Names of the supervised trainers. */
export const SUPERVISED_TRAINERS = [
  'ridge',
  'ridge-idf',
  'ridge-fine',
  'logistic',
  'knn',
  'ridge+cmaes',
  'ridge+cmaes-head',
] as const;
export type SupervisedTrainerName = (typeof SUPERVISED_TRAINERS)[number];

/**
 * Backbones of the CLI: `concat` is the composed default of issue 16 (no download), `concat-glove` adds GloVe,
 * `concat-wide` doubles the hashed-word block (1024 instead of 512; dimension 1556), `concat-sparse` is the
 * wide composition (2^15 word + 2^16 character buckets; dimension 98,324) handed to the trainers as sparse
 * vectors — the ridge value heads only.
 */
export const BACKBONE_NAMES = [
  'hashing',
  'glove',
  'concat',
  'concat-glove',
  'concat-wide',
  'concat-sparse',
] as const;
export type BackboneName = (typeof BACKBONE_NAMES)[number];

/** Trainers of the CLI. */
export const TRAINER_NAMES = ['cmaes', 'grpo', ...SUPERVISED_TRAINERS] as const;
export type TrainerName = (typeof TRAINER_NAMES)[number];

/**
 * Size of the hashed request-category block that `--metadata subset` appends to the text features (trinity
 * `categoryFeatures`; the head's backbone id gains `&category-v1:d256`) — in `openfugu-eval routing` and in
 * `openfugu-train head`.
 */
export const SUBSET_FEATURES = 256;
