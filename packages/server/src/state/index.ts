export {
  hashSecret,
  KeyLimitsSchema,
  KeyPatchSchema,
  NewKeySchema,
  windowSlots,
} from './common.js';
export * from './memory-state.js';
export * from './redis-state.js';
export * from './types.js';
