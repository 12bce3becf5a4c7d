/** The shared state and the admin master key a configuration asks for. */
import { redisStateSettings, type ServerConfig, secretFromEnv } from '../config.js';
import { createMemoryState } from './memory-state.js';
import { createRedisState } from './redis-state.js';
import type { SharedState } from './types.js';

/**
 * The Redis state when `state.redis` or `OPENFUGU_REDIS_URL` says so, else the in-memory state. It connects in
 * the background: await `ready()` on a Redis state to wait for the first connection.
 *
 * @example
 * ```ts
 * const state = createStateFromConfig(config, process.env);
 * ```
 */
export function createStateFromConfig(
  config: ServerConfig,
  env: Readonly<Record<string, string | undefined>>,
): SharedState {
  const settings = redisStateSettings(config, env);
  return settings ? createRedisState(settings) : createMemoryState();
}

/** The admin API's master key from `admin.masterKeyEnv`, or undefined when the admin API is off. */
export function adminMasterKey(
  config: ServerConfig,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const name = config.admin?.masterKeyEnv;
  return name === undefined ? undefined : secretFromEnv(env, name, 'admin.masterKeyEnv');
}
