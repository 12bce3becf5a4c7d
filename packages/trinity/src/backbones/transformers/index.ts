export {
  createTransformersBackbone,
  type TransformersBackbone,
  type TransformersBackboneSettings,
  type TransformersDtype,
  type TransformersPooling,
} from './transformers-backbone.js';
