export { BackboneLoadError } from './backbone-load-error.js';
export {
  createOnnxDecoderBackbone,
  type HiddenStateSource,
  type OnnxDecoderBackbone,
  type OnnxDecoderBackboneSettings,
} from './onnx-decoder.js';
