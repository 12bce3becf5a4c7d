import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeWithData } from '@openfugu/vitest-config/data';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import {
  buildTaskPrompt,
  loadTau2Tasks,
  runRollouts,
  type Tau2Task,
  type ToolDefinition,
} from './rollouts.js';

const tools: ToolDefinition[] = [
  { type: 'function', function: { name: 'find_user_id_by_name_zip', parameters: { type: 'object' } } },
  { type: 'function', function: { name: 'get_order_details', parameters: { type: 'object' } } },
];
const task: Tau2Task = {
  id: '7',
  user_scenario: {
    persona: null,
    instructions: {
      domain: 'retail',
      reason_for_call: 'You want to know the status of order #W1.',
      known_info: 'You are Ana Lee in zip 10001.',
      unknown_info: null,
      task_instructions: 'Be brief.',
    },
  },
  evaluation_criteria: {
    actions: [
      { name: 'find_user_id_by_name_zip', arguments: { first_name: 'Ana', last_name: 'Lee', zip: '10001' } },
      { name: 'get_order_details', arguments: { order_id: '#W1' } },
    ],
  },
};
const gold = task.evaluation_criteria!.actions!;
const good = `<think>find user, then order</think><answer>${JSON.stringify(gold)}</answer>`;
const partial = `<think>x</think><answer>${JSON.stringify([gold[1]])}</answer>`;
const junk = 'Sorry, I cannot do that.';

/** A stand-in OpenAI-compatible server; `honourN` false answers one choice per request like servers without n. */
type Body = { model?: string; n?: number; temperature?: number };
function standIn(honourN: boolean): Promise<{ url: string; server: Server; bodies: Body[] }> {
  const bodies: Body[] = [];
  const canned = [good, partial, junk, good];
  let counter = 0;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      const body = JSON.parse(text);
      bodies.push(body);
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404).end('{}');
        return;
      }
      const n = honourN ? (body.n ?? 1) : 1;
      const choices = Array.from({ length: n }, (_, index) => ({
        index,
        message: { role: 'assistant', content: canned[counter++ % canned.length] },
        finish_reason: 'stop',
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', model: body.model, choices }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, server, bodies }),
    ),
  );
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('runRollouts against a stand-in policy server', () => {
  it('samples G per prompt with n=G, scores, computes group advantages and statistics', async () => {
    const stand = await standIn(true);
    servers.push(stand.server);
    const { records, stats } = await runRollouts({
      tasks: [task, { ...task, id: '8' }],
      tools,
      groupSize: 4,
      concurrency: 1,
      policy: { url: stand.url, model: 'policy', temperature: 0.7 },
    });
    expect(stand.bodies).toHaveLength(2);
    expect(stand.bodies[0]).toMatchObject({ model: 'policy', n: 4, temperature: 0.7 });
    expect(records).toHaveLength(8);
    const rewards = records.slice(0, 4).map((r) => r.reward);
    expect(rewards[0]).toBe(1);
    expect(rewards[2]).toBe(0);
    expect(rewards[1]).toBeGreaterThan(0);
    expect(rewards[1]).toBeLessThan(1);
    // Group advantages: (r − mean)/(std + 1e-4) with the sample std, per task.
    const mean = rewards.reduce((s, r) => s + r, 0) / 4;
    const std = Math.sqrt(rewards.reduce((s, r) => s + (r - mean) ** 2, 0) / 3);
    records.slice(0, 4).forEach((r, i) => {
      expect(r.advantage).toBeCloseTo((rewards[i]! - mean) / (std + 1e-4), 12);
    });
    expect(records.slice(0, 4).reduce((s, r) => s + r.advantage, 0)).toBeCloseTo(0, 10);
    expect(stats).toMatchObject({ tasks: 2, group_size: 4, samples: 8, requests: 2, fallback_requests: 0 });
    expect(stats.parse_failure_rate).toBe(2 / 8);
    expect(stats.exact_match_rate).toBe(4 / 8);
    expect(stats.zero_variance_fraction).toBe(0);
    expect(stats.reward_mean).toBeCloseTo(records.reduce((s, r) => s + r.reward, 0) / 8, 12);
  });

  it('falls back to one request per missing sample when the server ignores n', async () => {
    const stand = await standIn(false);
    servers.push(stand.server);
    const { records, stats } = await runRollouts({
      tasks: [task],
      tools,
      groupSize: 3,
      policy: { url: `${stand.url}/chat/completions`, model: 'm' },
    });
    expect(records).toHaveLength(3);
    expect(stats).toMatchObject({ requests: 3, fallback_requests: 2 });
    expect(stand.bodies.map((b) => b.n)).toEqual([3, 1, 1]);
  });

  it('a policy server error is reported, not swallowed', async () => {
    const stand = await standIn(true);
    servers.push(stand.server);
    await expect(
      runRollouts({ tasks: [task], tools, groupSize: 2, policy: { url: `${stand.url}/wrong`, model: 'm' } }),
    ).rejects.toThrow(/404/);
  });
});

describe('buildTaskPrompt', () => {
  it('drops example values from tool descriptions', () => {
    const [system] = buildTaskPrompt(task, [
      {
        function: {
          name: 'f',
          description: "Product id, e.g. '6086499569' (not an item id).",
          parameters: {},
        },
      },
    ]);
    expect(system!.content).toContain('Product id (not an item id).');
    expect(system!.content).not.toContain('6086499569');
  });

  it('shows the scenario and the tool list, never the gold actions', () => {
    const prompt = buildTaskPrompt(task, tools);
    const text = prompt.map((m) => m.content).join('\n');
    expect(text).toContain('order #W1');
    expect(text).toContain('find_user_id_by_name_zip');
    expect(text).not.toContain('evaluation_criteria');
    expect(text).not.toContain('"first_name":"Ana"');
  });
});

describeWithData('rollouts on tau2 retail', ['tau2'], (dir) => {
  it('no prompt leaks gold: no gold tool name outside the shared tool list, no gold argument value the user does not state', () => {
    for (const domain of ['retail', 'airline']) {
      const { tasks, tools: domainTools } = loadTau2Tasks(path.join(dir, domain));
      const offered = new Set(domainTools.map((t) => t.function.name));
      // Enumerated argument values (e.g. cancel reasons) are part of the schema every task is offered.
      const enums = new Set<string>();
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object')
          for (const [key, inner] of Object.entries(v)) {
            if (key === 'enum' && Array.isArray(inner)) for (const e of inner) enums.add(String(e));
            else walk(inner);
          }
      };
      walk(domainTools);
      const systemPrompts = new Set<string>();
      let checkedValues = 0;
      const inToolList = new Set<string>();
      for (const t of tasks) {
        const [system, user] = buildTaskPrompt(t, domainTools);
        systemPrompts.add(system!.content);
        // The user message is built from the user scenario only; it names no tool.
        const scenarioText = JSON.stringify(t.user_scenario ?? {});
        // A tool name may appear there only as an ordinary word of the scenario ("calculate").
        for (const name of offered)
          if (user!.content.includes(name))
            expect(scenarioText.includes(name), `${domain}/${t.id} user message names ${name}`).toBe(true);
        const prompt = `${system!.content}\n${user!.content}`;
        for (const action of t.evaluation_criteria?.actions ?? []) {
          // Gold tool names: only those offered to every task may appear (in the shared tool list).
          if (!offered.has(action.name)) expect(prompt.includes(action.name)).toBe(false);
          // Gold argument values that the customer's scenario does not state (ids found by lookups,
          // item ids, payment ids) must not appear anywhere in the prompt.
          const values: string[] = [];
          const collect = (v: unknown): void => {
            if (typeof v === 'string' || typeof v === 'number') values.push(String(v));
            else if (Array.isArray(v)) v.forEach(collect);
            else if (v && typeof v === 'object') Object.values(v).forEach(collect);
          };
          collect(action.arguments);
          for (const value of values) {
            if (value.length < 4 || scenarioText.includes(value) || enums.has(value)) continue;
            checkedValues++;
            // The shared tool list may state literal choices ("must be exactly 'no longer needed' or
            // 'ordered by mistake'"); anything else found in the prompt is a leak.
            if (prompt.includes(value)) inToolList.add(value);
            expect(user!.content.includes(value), `${domain}/${t.id} leaks ${value}`).toBe(false);
          }
        }
      }
      expect([...inToolList].sort()).toEqual(
        domain === 'retail' ? ['no longer needed', 'ordered by mistake'] : [],
      );
      // One system prompt (tools + format) shared by every task of the domain.
      expect(systemPrompts.size).toBe(1);
      expect(checkedValues).toBeGreaterThan(100);
    }
  });

  it('openfugu-train dataset writes prompts with references kept apart from the prompt', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'openfugu-dataset-'));
    const file = path.join(out, 'train.jsonl');
    expect(
      await runCli(['dataset', '--tasks', path.join(dir, 'retail'), '--split', 'train', '--out', file], {
        stdout: { write: () => {} },
        stderr: { write: () => {} },
        env: {},
      }),
    ).toBe(0);
    const rows = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(74);
    const row = rows[0];
    expect(row.prompt.map((m: { role: string }) => m.role)).toEqual(['system', 'user']);
    expect(row.reward_model.ground_truth).toBe(row.reference);
    const reference = JSON.parse(row.reference);
    expect(reference.actions.length).toBeGreaterThan(0);
    expect(reference.tools).toHaveLength(16);
    // The gold's first action arguments are not in the prompt unless the scenario states them.
    const promptText = JSON.stringify(row.prompt);
    expect(promptText.includes(JSON.stringify(reference.actions))).toBe(false);
  });

  it('openfugu-train rollouts writes JSONL and statistics (stand-in server, train split, 3 tasks)', async () => {
    const stand = await standIn(true);
    servers.push(stand.server);
    const out = mkdtempSync(path.join(tmpdir(), 'openfugu-rollouts-'));
    const stderr: string[] = [];
    const code = await runCli(
      [
        'rollouts',
        '--tasks',
        path.join(dir, 'retail'),
        '--split',
        'train',
        '--limit',
        '3',
        '--policy-url',
        stand.url,
        '--model',
        'stand-in',
        '--group-size',
        '4',
        '--out',
        path.join(out, 'rollouts.jsonl'),
        '--stats',
        path.join(out, 'stats.json'),
      ],
      { stdout: { write: () => {} }, stderr: { write: (t) => stderr.push(t) }, env: {} },
    );
    expect(code, stderr.join('')).toBe(0);
    const lines = readFileSync(path.join(out, 'rollouts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(12);
    expect(Object.keys(lines[0]).sort()).toEqual(
      [
        'advantage',
        'completion',
        'details',
        'finish_reason',
        'group',
        'prompt',
        'reward',
        'sample',
        'task_id',
      ].sort(),
    );
    const stats = JSON.parse(readFileSync(path.join(out, 'stats.json'), 'utf8'));
    expect(stats).toMatchObject({ tasks: 3, samples: 12, group_size: 4 });
    expect(stats.parse_failure_rate).toBe(3 / 12);
    // Train split ids come from split_tasks.json.
    const splits = JSON.parse(readFileSync(path.join(dir, 'retail/split_tasks.json'), 'utf8'));
    expect(splits.train.slice(0, 3).map(String)).toEqual([...new Set(lines.map((l) => l.task_id))]);
  });
});
