export {
  hashSecret,
  KeyLimitsSchema,
  KeyPatchSchema,
  keyScope,
  NewKeySchema,
  windowSlots,
} from './common.js';
export * from './from-config.js';
export * from './memory-state.js';
export * from './redis-state.js';
export * from './state-metrics.js';
export * from './types.js';
