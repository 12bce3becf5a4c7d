/** Public API of the transformers backbone (filled in by the backbone implementation). */
export {};
