import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRewardServer, type RewardServer } from './reward-server.js';

const gold = [
  { name: 'find_user_id_by_name_zip', arguments: { first_name: 'Yusuf', last_name: 'Rossi', zip: '19122' } },
  { name: 'get_order_details', arguments: { order_id: '#W2378156' } },
];
const perfect = `<think>look up the user, then the order</think><answer>${JSON.stringify(gold)}</answer>`;
const half = `<think>x</think><answer>${JSON.stringify([gold[0]])}</answer>`;

let server: RewardServer;
let url: string;
beforeAll(async () => {
  server = createRewardServer({ defaultKind: 'action', bodyLimit: 64 * 1024 });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server.close();
});

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON responses
async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe('reward server — engine shapes', () => {
  it('OpenRLHF remote RM: {query, prompts, labels} → {rewards, scores, extra_logs}', async () => {
    // openrlhf/utils/remote_rm_utils.py posts {"query": queries, "prompts": prompts, "labels": labels}
    // where each query is the templated prompt followed by the response, and reads response["rewards"].
    const prompt = '<|im_start|>user\nExchange my keyboard<|im_end|>\n<|im_start|>assistant\n';
    const body = {
      query: [prompt + perfect, prompt + half, `${prompt}I cannot help.`],
      prompts: [prompt, prompt, prompt],
      labels: [JSON.stringify(gold), JSON.stringify(gold), JSON.stringify(gold)],
    };
    const { status, json } = await post('/get_reward', body);
    expect(status).toBe(200);
    expect(json.rewards).toHaveLength(3);
    expect(json.rewards[0]).toBe(1);
    expect(json.rewards[1]).toBeGreaterThan(0);
    expect(json.rewards[1]).toBeLessThan(1);
    expect(json.rewards[2]).toBe(0);
    expect(json.scores).toEqual(json.rewards);
    expect(json.extra_logs).toEqual({ action: json.rewards });
    // The older client sends only {"query": [...]}: the query is scored whole.
    const legacy = await post('/openrlhf/format', { query: [perfect, 'no format'] });
    expect(legacy.json.rewards).toEqual([1, 0]);
  });

  it('OpenRLHF with a kind in the path (openfugu reference reward, 0–2)', async () => {
    const { json } = await post('/openrlhf/openfugu', {
      query: [perfect],
      prompts: [''],
      labels: [JSON.stringify(gold)],
    });
    expect(json.rewards[0]).toBeCloseTo(2, 10);
  });

  it('TRL reward-function arguments: {prompts, completions, reference} with standard and conversational completions', async () => {
    const standard = await post('/trl/action', {
      prompts: ['p1', 'p1'],
      completions: [perfect, half],
      reference: [gold, JSON.stringify(gold)],
    });
    expect(standard.status).toBe(200);
    expect(standard.json.rewards[0]).toBe(1);
    expect(standard.json.rewards[1]).toBeGreaterThan(0);
    const conversational = await post('/trl/action', {
      prompts: [[{ role: 'user', content: 'p1' }]],
      completions: [[{ role: 'assistant', content: perfect }]],
      gold: [gold],
      reference_key: 'gold',
    });
    expect(conversational.json.rewards).toEqual([1]);
  });

  it('verl compute_score arguments → {score}, single and batched', async () => {
    const one = await post('/verl/numeric', {
      data_source: 'openai/gsm8k',
      solution_str: 'She pays 9 * 2 = 18 dollars.\n#### 18',
      ground_truth: '18',
      extra_info: { split: 'train', index: 0 },
    });
    expect(one.status).toBe(200);
    expect(one.json.score).toBe(1);
    const batch = await post('/verl/numeric', [
      { data_source: 'openai/gsm8k', solution_str: '#### 17', ground_truth: '18', extra_info: null },
      { data_source: 'openai/gsm8k', solution_str: 'The answer is 18.', ground_truth: '18' },
    ]);
    expect(batch.json.map((r: { score: number }) => r.score)).toEqual([0, 1]);
  });

  it('generic batch API with details, including BFCL and Conductor rewards', async () => {
    const bfclRef = {
      category: 'simple_python',
      function: [
        {
          name: 'calc_area',
          description: 'area',
          parameters: { type: 'dict', properties: { r: { type: 'integer' } }, required: ['r'] },
        },
      ],
      possible_answer: [{ calc_area: { r: [3] } }],
    };
    const bfcl = await post('/v1/rewards', {
      kind: 'bfcl',
      items: [
        { completion: '[calc_area(r=3)]', reference: bfclRef },
        { completion: '[calc_area(r=4)]', reference: bfclRef },
      ],
    });
    expect(bfcl.status).toBe(200);
    expect(bfcl.json.rewards).toEqual([1, 0]);
    expect(bfcl.json.details).toHaveLength(2);
    const workflow = "model_id: ['a', 'b']\nsubtasks: ['Solve it', 'Check it']\naccess_list: [[], 'all']";
    const conductor = await post('/v1/rewards', {
      kind: 'conductor',
      items: [
        {
          completion: workflow,
          answer: '#### 18',
          reference: { reference: 18, scorer: 'numeric', pool: ['a', 'b'] },
        },
      ],
    });
    expect(conductor.json.rewards).toEqual([2]);
    expect(conductor.json.details[0]).toMatchObject({ format: 1, answer: 1, steps: 2 });
    const format = await post('/v1/rewards', {
      kind: 'conductor_format',
      items: [{ completion: 'prose only' }],
    });
    expect(format.json.rewards).toEqual([0]);
  });

  it('lists kinds and health', async () => {
    const kinds = (await (await fetch(`${url}/v1/kinds`)).json()) as { kinds: { name: string }[] };
    expect(kinds.kinds.map((k: { name: string }) => k.name)).toEqual(
      expect.arrayContaining(['action', 'openfugu_action', 'format', 'bfcl', 'numeric', 'conductor']),
    );
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});

describe('reward server — bad requests are clear 4xx errors', () => {
  it.each([
    ['invalid JSON', '/v1/rewards', '{"kind": "action", "items": [', 400, 'invalid_json'],
    ['empty body', '/v1/rewards', '', 400, 'empty_body'],
    ['unknown kind', '/v1/rewards', { kind: 'nope', items: [] }, 400, 'unknown_kind'],
    ['missing kind', '/v1/rewards', { items: [] }, 400, 'missing_field'],
    ['items not a list', '/v1/rewards', { kind: 'format', items: {} }, 400, 'missing_field'],
    [
      'completion not a string',
      '/v1/rewards',
      { kind: 'format', items: [{ completion: 3 }] },
      400,
      'invalid_item',
    ],
    [
      'missing reference',
      '/v1/rewards',
      { kind: 'action', items: [{ completion: 'x' }] },
      400,
      'missing_reference',
    ],
    ['OpenRLHF without query', '/get_reward', { prompts: [] }, 400, 'missing_field'],
    [
      'OpenRLHF with empty labels',
      '/get_reward',
      { query: ['a'], prompts: [''], labels: [''] },
      400,
      'missing_reference',
    ],
    [
      'OpenRLHF length mismatch',
      '/get_reward',
      { query: ['a', 'b'], prompts: ['a'], labels: ['[]', '[]'] },
      400,
      'length_mismatch',
    ],
    ['OpenRLHF non-string query', '/get_reward', { query: [1] }, 400, 'invalid_field'],
    ['TRL completion of wrong type', '/trl/format', { completions: [42] }, 400, 'invalid_field'],
    ['verl without solution_str', '/verl/numeric', { ground_truth: '1' }, 400, 'missing_field'],
    ['unknown path kind', '/trl/bogus', { completions: ['x'] }, 400, 'unknown_kind'],
    ['unknown route', '/nowhere', {}, 404, 'not_found'],
  ])('%s', async (_name, path, body, status, code) => {
    const response = await post(path, body);
    expect(response.status).toBe(status);
    expect(response.json.error.code).toBe(code);
    expect(typeof response.json.error.message).toBe('string');
  });

  it('405 for GET on a POST route, 413 over the body limit', async () => {
    const get = await fetch(`${url}/v1/rewards`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const big = await post('/v1/rewards', { kind: 'format', items: [{ completion: 'x'.repeat(70 * 1024) }] });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('body_too_large');
    // The server still answers afterwards.
    expect(
      (await post('/v1/rewards', { kind: 'format', items: [{ completion: perfect }] })).json.rewards,
    ).toEqual([1]);
  });

  it('any completion and any JSON reference give a finite reward and never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'action',
          'openfugu_action',
          'format',
          'openfugu',
          'bfcl',
          'numeric',
          'conductor',
          'conductor_format',
        ),
        fc.array(fc.tuple(fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 3 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (kind, pairs) => {
          const items = pairs.map(([completion, reference]) => ({
            completion,
            reference: reference === null || reference === '' ? 0 : reference,
          }));
          const { status, json } = await post('/v1/rewards', { kind, items });
          expect(status).toBe(200);
          expect(json.rewards).toHaveLength(items.length);
          for (const r of json.rewards) expect(Number.isFinite(r)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
