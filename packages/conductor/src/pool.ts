/** Normalising the pool forms this package accepts (ids, `WorkerDescriptor`s, `Worker`s). */
import type { PoolInput, PoolMemberInfo } from './types.js';

/**
 * Normalises a pool given as ids and/or descriptors to `PoolMemberInfo[]` (first occurrence of an id wins).
 *
 * @example
 * ```ts
 * normalisePool(['math', { id: 'coder', model: 'qwen2.5-coder' }]) // [{ id: 'math' }, { id: 'coder', model: 'qwen2.5-coder' }]
 * ```
 */
export function normalisePool(pool: PoolInput): PoolMemberInfo[] {
  const seen = new Set<string>();
  const members: PoolMemberInfo[] = [];
  for (const entry of pool) {
    const member: PoolMemberInfo | undefined =
      typeof entry === 'string'
        ? { id: entry }
        : typeof entry === 'object' && entry !== null && typeof entry.id === 'string'
          ? entry
          : undefined;
    if (member === undefined || member.id === '' || seen.has(member.id)) continue;
    seen.add(member.id);
    members.push(member);
  }
  return members;
}

/** The set of ids of a pool. */
export function poolIds(pool: PoolInput): Set<string> {
  return new Set(normalisePool(pool).map((member) => member.id));
}
