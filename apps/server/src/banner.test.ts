import { createServerFromConfig, parseConfig } from '@openfugu/server';
import { describe, expect, it } from 'vitest';
import { renderBanner } from './banner.js';

describe('embedded default', () => {
  it('starts with no configuration, answers curl-style requests and says it is simulated', async () => {
    const server = await createServerFromConfig(parseConfig({ simulated: { latency: false } }));
    try {
      const url = await server.gateway.listen({ port: 0 });
      const banner = renderBanner({ url, server, configPath: undefined });
      expect(banner).toContain(
        'EMBEDDED SIMULATED DEFAULT: no configuration given, so the pool is 4 simulated workers',
      );
      expect(banner).toContain(`curl -s ${url}/v1/chat/completions`);
      expect(banner).toContain(`operations page (operator's view): ${url}/ui`);
      expect((await fetch(`${url}/ui`)).status).toBe(200);
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fugu', messages: [{ role: 'user', content: 'What is 17 * 23?' }] }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { choices: { message: { content: string } }[] };
      expect(body.choices[0]?.message.content).toBe('The answer is 391.');
      const health = (await (await fetch(`${url}/health`)).json()) as { description?: string };
      expect(health.description).toMatch(/simulated/);
    } finally {
      await server.close();
    }
  });
});
