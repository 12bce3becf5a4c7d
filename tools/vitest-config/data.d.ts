/** Absolute path of the shared data directory (OPENFUGU_DATA_DIR relative to the repo root; default ../shared/data). */
export declare function dataDir(): string;
/** Absolute path inside the data directory, or undefined when absent. */
export declare function dataPath(...segments: string[]): string | undefined;
/** `describe` that needs data: runs when present, skips locally with a message, fails in CI. */
export declare function describeWithData(name: string, segments: string[], fn: (path: string) => void): void;
