import { describe, expect, it } from 'vitest';
import { AbortScope, follow } from './abort.js';

describe('AbortScope', () => {
  it('fires each listener once, in order, and records the reason', () => {
    const scope = new AbortScope();
    const seen: string[] = [];
    scope.addEventListener('abort', () => seen.push('a'));
    scope.addEventListener('abort', () => seen.push('b'), { once: true });
    scope.abort('why');
    scope.abort('again');
    expect(seen).toEqual(['a', 'b']);
    expect(scope.aborted).toBe(true);
    expect(scope.reason).toBe('why');
  });

  it('does not call removed listeners, and a throwing listener does not stop the others', () => {
    const scope = new AbortScope();
    const seen: string[] = [];
    const removed = (): void => {
      seen.push('removed');
    };
    scope.addEventListener('abort', () => {
      throw new Error('boom');
    });
    scope.addEventListener('abort', removed);
    scope.addEventListener('abort', () => seen.push('kept'));
    scope.removeEventListener('abort', removed);
    scope.abort();
    expect(seen).toEqual(['kept']);
  });

  it('follows a parent signal until unlinked', () => {
    const parent = new AbortController();
    const child = new AbortScope();
    const unlink = follow(child, parent.signal);
    parent.abort('parent');
    expect(child.aborted).toBe(true);
    expect(child.reason).toBe('parent');

    const other = new AbortController();
    const detached = new AbortScope();
    follow(detached, other.signal)();
    other.abort();
    expect(detached.aborted).toBe(false);
    unlink();
  });

  it('aborts at once when the parent already aborted', () => {
    const parent = new AbortScope();
    parent.abort('early');
    const child = new AbortScope();
    follow(child, parent);
    expect(child.reason).toBe('early');
    expect(follow(new AbortScope(), undefined)).toBeTypeOf('function');
  });
});
