/** Public API of the onnx backbone (filled in by the backbone implementation). */
export {};
