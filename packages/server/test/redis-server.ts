/**
 * Suites that need a real `redis-server` use `describeWithRedis`: they run when `redis-server` is installed,
 * are skipped with a message on a contributor's machine without it, and FAIL in CI (CI=true), like
 * `describeWithData`. The server itself is started by `startRedis` (redis-process.ts).
 */
import { describe, it } from 'vitest';
import { hasRedisServer, REDIS_SERVER } from './redis-process.js';

export { startRedis, type TestRedis } from './redis-process.js';

/** `describe` that needs a `redis-server` binary. */
export function describeWithRedis(name: string, fn: () => void): void {
  if (hasRedisServer()) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      it('has redis-server', () => {
        throw new Error(`redis-server missing in CI (${REDIS_SERVER}): .ci/run installs it with apt-get`);
      });
    });
    return;
  }
  console.warn(`[openfugu] skipping "${name}": redis-server not found (apt-get install redis-server)`);
  describe.skip(name, fn);
}
