/** Who may open the operations page, and that API clients still never see pool identities. */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const alice = { key: 'sk-alice-123', name: 'alice' };

describe('operations page access', () => {
  it('is off unless enabled', async () => {
    harness = await startHarness();
    expect((await fetch(`${harness.url}/ui`)).status).toBe(404);
    expect((await fetch(`${harness.url}/ui/events`)).status).toBe(404);
  });

  it('answers loopback clients when no key is configured', async () => {
    harness = await startHarness({ config: { ui: { enabled: true } } });
    const page = await fetch(`${harness.url}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain("Operator's view");
    expect((await fetch(`${harness.url}/ui/api/pool`)).status).toBe(200);
  });

  it('with client keys: a key in a header, or once in the address for an HttpOnly session cookie', async () => {
    harness = await startHarness({ config: { apiKeys: [alice], ui: { enabled: true } } });
    const { url } = harness;
    const anonymous = await fetch(`${url}/ui`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toContain('<form method="get" action="/ui">');
    const api = await fetch(`${url}/ui/api/requests`);
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    expect((await fetch(`${url}/ui/events`)).status).toBe(401);
    expect(
      (await fetch(`${url}/ui/api/pool`, { headers: { authorization: 'Bearer sk-alice-123' } })).status,
    ).toBe(200);
    expect((await fetch(`${url}/ui?key=sk-wrong`, { redirect: 'manual' })).status).toBe(401);

    const login = await fetch(`${url}/ui?key=sk-alice-123`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/ui');
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^openfugu_ui=[0-9a-f]{64}; Path=\/ui; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain('sk-alice');
    const session = cookie.split(';')[0] ?? '';
    expect((await fetch(`${url}/ui`, { headers: { cookie: session } })).status).toBe(200);
    expect((await fetch(`${url}/ui/api/spend`, { headers: { cookie: session } })).status).toBe(200);
    expect((await fetch(`${url}/ui/api/spend`, { headers: { cookie: 'openfugu_ui=forged' } })).status).toBe(
      401,
    );
  });

  it('with an operator key, client keys do not open it', async () => {
    harness = await startHarness({
      config: { apiKeys: [alice], ui: { enabled: true, adminKey: 'sk-operator-9' } },
    });
    const { url } = harness;
    expect(
      (await fetch(`${url}/ui/api/pool`, { headers: { authorization: 'Bearer sk-alice-123' } })).status,
    ).toBe(401);
    expect((await fetch(`${url}/ui/api/pool`, { headers: { 'x-api-key': 'sk-operator-9' } })).status).toBe(
      200,
    );
    // The operator key is not a client key.
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-operator-9', maxRetries: 0 });
    await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('records requests by key name; API answers still carry no worker ids', async () => {
    harness = await startHarness({ config: { apiKeys: [alice], ui: { enabled: true } } });
    const client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: 'sk-alice-123', maxRetries: 0 });
    const answer = await client.chat.completions.create({
      model: 'fugu',
      messages: [{ role: 'user', content: 'What is 2 + 2?' }],
    });
    expect(JSON.stringify(answer)).not.toMatch(/"(math|coder|writer|generalist)"/);
    const headers = { authorization: 'Bearer sk-alice-123' };
    const trace = (await (
      await fetch(`${harness.url}/ui/api/requests/${answer.id}`, { headers })
    ).json()) as {
      key: string;
      workers: string[];
      status: number;
    };
    expect(trace).toMatchObject({ key: 'alice', workers: ['math'], status: 200 });
    const missing = await fetch(`${harness.url}/ui/api/requests/chatcmpl-nope`, { headers });
    expect(missing.status).toBe(404);
  });

  it('names a key stored through /admin/keys in the spend view and the trace (not "unknown")', async () => {
    const master = 'master-key-for-tests-0123456789';
    harness = await startHarness({
      config: { apiKeys: [alice], adminMasterKey: master, ui: { enabled: true, adminKey: 'sk-operator-9' } },
    });
    const { url } = harness;
    const created = await fetch(`${url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'team-stored' }),
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const answers = [];
    for (const apiKey of [key, 'sk-alice-123']) {
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
      answers.push(
        await client.chat.completions.create({
          model: 'fugu',
          messages: [{ role: 'user', content: 'Hi 1' }],
        }),
      );
    }
    const headers = { 'x-api-key': 'sk-operator-9' };
    const spend = (await (await fetch(`${url}/ui/api/spend`, { headers })).json()) as {
      byKey: Record<string, { requests: number }>;
    };
    expect(spend.byKey).toEqual({
      'team-stored': expect.objectContaining({ requests: 1 }),
      alice: expect.objectContaining({ requests: 1 }),
    });
    const trace = (await (await fetch(`${url}/ui/api/requests/${answers[0]?.id}`, { headers })).json()) as {
      key: string;
    };
    expect(trace.key).toBe('team-stored');
  });
});
