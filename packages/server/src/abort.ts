/**
 * A lightweight abort signal for the request hot path. Node's `AbortController` builds a full `EventTarget`
 * per instance (a measurable share of a passthrough request's CPU); this one is a plain object with a
 * listener array. It satisfies `AbortSignalLike` (workers, modes) and undici's signal contract.
 */
import type { AbortSignalLike } from '@openfugu/schema';

/** An abortable signal: `abort()` fires every listener once, in registration order. */
export class AbortScope implements AbortSignalLike {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] | undefined = undefined;

  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (this.aborted) return;
    if (this.#listeners === undefined) this.#listeners = [listener];
    else this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    const index = listeners.lastIndexOf(listener);
    if (index !== -1) listeners.splice(index, 1);
  }

  /** Aborts once; later calls do nothing. A throwing listener does not stop the others. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the abort still reaches everyone else.
      }
    }
  }
}

/**
 * Aborts `scope` when `parent` aborts; returns the function that stops listening.
 *
 * @example
 * ```ts
 * const scope = new AbortScope();
 * const unlink = follow(scope, request.signal); // …later: unlink()
 * ```
 */
export function follow(scope: AbortScope, parent: AbortSignalLike | undefined): () => void {
  if (parent === undefined) return noop;
  if (parent.aborted) {
    scope.abort(parent.reason);
    return noop;
  }
  const onAbort = (): void => scope.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return () => parent.removeEventListener('abort', onAbort);
}

function noop(): void {}
