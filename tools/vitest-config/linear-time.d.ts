/** Ceiling for one run on a 1 MB input (30 s): ~100× a loaded machine's linear time, ~1/10 of quadratic time. */
export declare const QUADRATIC_GUARD_MS: number;
/**
 * Runs `run(input)` once and asserts it took less than {@link QUADRATIC_GUARD_MS}: a guard against quadratic
 * blow-ups on megabyte inputs that a loaded machine cannot trip (not a speed check). Returns `run`'s result.
 */
export declare function expectNotQuadratic<T>(input: string, run: (input: string) => T): T;
