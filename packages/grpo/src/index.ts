export * from './adam.js';
export * from './advantages.js';
export * from './kl.js';
export * from './softmax-linear.js';
export * from './surrogate.js';
