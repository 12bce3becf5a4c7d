import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, redisStateSettings } from './config.js';
import { adminMasterKey, createStateFromConfig } from './state/from-config.js';

describe('state.redis in the configuration', () => {
  it('stays in memory without state.redis and without OPENFUGU_REDIS_URL', () => {
    expect(redisStateSettings(parseConfig({}), {})).toBeUndefined();
  });

  it('takes the URL from OPENFUGU_REDIS_URL alone', () => {
    expect(redisStateSettings(parseConfig({}), { OPENFUGU_REDIS_URL: 'redis://10.0.0.5:6379' })).toEqual({
      url: 'redis://10.0.0.5:6379',
    });
  });

  it('reads url, prefix, timeouts and per-concern policies', () => {
    const config = parseConfig({
      state: {
        redis: {
          urlEnv: 'MY_REDIS',
          keyPrefix: 'openfugu:prod:',
          commandTimeoutMs: 250,
          failurePolicy: { budgets: 'local', keys: 'closed' },
        },
      },
    });
    expect(redisStateSettings(config, { MY_REDIS: 'rediss://:secret@cache:6380/1' })).toEqual({
      url: 'rediss://:secret@cache:6380/1',
      keyPrefix: 'openfugu:prod:',
      commandTimeoutMs: 250,
      failurePolicy: { budgets: 'local', keys: 'closed' },
    });
  });

  it('names the bad field and the missing URL', () => {
    expect(() => parseConfig({ state: { redis: { url: 'http://x' } } })).toThrow(/state\.redis\.url/);
    expect(() => parseConfig({ state: { redis: { failurePolicy: { budgets: 'open' } } } })).toThrow(
      /state\.redis\.failurePolicy\.budgets/,
    );
    expect(() => redisStateSettings(parseConfig({ state: { redis: {} } }), {})).toThrow(ConfigError);
    expect(() => redisStateSettings(parseConfig({ state: { redis: {} } }), {})).toThrow(/OPENFUGU_REDIS_URL/);
  });
});

describe('createStateFromConfig and adminMasterKey', () => {
  it('builds the memory state by default and the Redis state when asked', async () => {
    const memory = createStateFromConfig(parseConfig({}), {});
    expect(memory.backend).toBe('memory');
    const redis = createStateFromConfig(parseConfig({}), { OPENFUGU_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(redis.backend).toBe('redis');
    await redis.close();
  });

  it('reads the master key from the named variable and names the field when it is missing', () => {
    expect(adminMasterKey(parseConfig({}), {})).toBeUndefined();
    const config = parseConfig({ admin: { masterKeyEnv: 'ADMIN_KEY' } });
    expect(adminMasterKey(config, { ADMIN_KEY: 'k'.repeat(20) })).toBe('k'.repeat(20));
    expect(() => adminMasterKey(config, {})).toThrow(/admin\.masterKeyEnv/);
  });
});
