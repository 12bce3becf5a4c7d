/**
 * The embedded simulated pool (no upstreams, no API keys needed) on the Redis state: `OPENFUGU_REDIS_URL` alone
 * turns it on, and the configured key's limit is counted in Redis.
 */
import { expect, it } from 'vitest';
import { createServerFromConfig, parseConfig } from '../src/index.js';
import { describeWithRedis, startRedis } from './redis-server.js';

describeWithRedis('the embedded simulated pool on the Redis state', () => {
  it('serves fugu, limits the key in Redis, and reports the state in /health', async () => {
    const redis = await startRedis();
    const key = 'sk-test-embedded-0123';
    const config = parseConfig({
      simulated: { latency: false },
      auth: { keys: [{ name: 'k', keyEnv: 'K', rateLimit: { requestsPerMinute: 0.1, burst: 2 } }] },
    });
    const server = await createServerFromConfig(config, { env: { OPENFUGU_REDIS_URL: redis.url, K: key } });
    try {
      expect(server.state.backend).toBe('redis');
      const url = await server.gateway.listen({ port: 0 });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ model: 'fugu', messages: [{ role: 'user', content: 'What is 17 * 23?' }] }),
        });
        statuses.push(response.status);
      }
      expect(statuses).toEqual([200, 200, 429]);
      const health = (await (await fetch(`${url}/health`)).json()) as {
        state: { backend: string; connected: boolean };
      };
      expect(health.state).toMatchObject({ backend: 'redis', connected: true });
    } finally {
      await server.close();
      await redis.stop();
    }
  }, 120_000);
});
