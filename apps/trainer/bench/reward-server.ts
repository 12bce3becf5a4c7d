/**
 * Reward-server throughput on loopback: 256-item batches of tau2-shaped completions scored with the
 * `action` reward, through /v1/rewards and the OpenRLHF route, against the same scoring in-process
 * (the baseline: what the HTTP + JSON layer adds). Run: pnpm --filter trainer bench
 */
import { actionReward } from '@openfugu/verify';
import { createRewardServer } from '../src/reward-server.js';

const gold = [
  { name: 'find_user_id_by_name_zip', arguments: { first_name: 'Yusuf', last_name: 'Rossi', zip: '19122' } },
  { name: 'get_order_details', arguments: { order_id: '#W2378156' } },
  { name: 'get_product_details', arguments: { product_id: '1656367028' } },
  {
    name: 'exchange_delivered_order_items',
    arguments: {
      order_id: '#W2378156',
      item_ids: ['1151293680'],
      new_item_ids: ['7706410293'],
      payment_method_id: 'credit_card_9513926',
    },
  },
];
const variants = [
  `<think>plan the lookups</think><answer>${JSON.stringify(gold)}</answer>`,
  `<think>short</think><answer>${JSON.stringify(gold.slice(0, 2))}</answer>`,
  `<tool_call>${JSON.stringify({ name: 'get_order_details', arguments: { order_id: '#W2378156' } })}</tool_call>`,
  'I am sorry, I cannot help with that.',
];
const N = 256;
const completions = Array.from({ length: N }, (_, i) => `${variants[i % 4]}${' '.repeat(i % 7)}`);
const prompt = 'system: you are an agent\nuser: exchange my keyboard\nassistant: ';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(label: string, rounds: number, run: () => Promise<unknown> | unknown): Promise<string> {
  for (let i = 0; i < 5; i++) await run();
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  const m = median(ms);
  return `| ${label} | ${m.toFixed(2)} | ${Math.min(...ms).toFixed(2)} | ${Math.round((N / m) * 1000).toLocaleString('en-US')} |`;
}

const server = createRewardServer();
const url = await server.listen({ host: '127.0.0.1', port: 0 });
const generic = JSON.stringify({
  kind: 'action',
  items: completions.map((completion) => ({ completion, reference: gold })),
});
const openrlhf = JSON.stringify({
  query: completions.map((c) => prompt + c),
  prompts: completions.map(() => prompt),
  labels: completions.map(() => JSON.stringify(gold)),
});
const post = async (path: string, body: string): Promise<void> => {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
  await response.arrayBuffer();
};
const rows = [
  await time('baseline: in-process `actionReward.batch`', 60, () =>
    actionReward.batch(
      completions,
      completions.map(() => gold),
    ),
  ),
  await time('POST /v1/rewards (fetch, keep-alive)', 60, () => post('/v1/rewards', generic)),
  await time('POST /get_reward (OpenRLHF shape)', 60, () => post('/get_reward', openrlhf)),
];
await server.close();
process.stdout.write(
  `Node ${process.version}; ${N} completions per batch, action reward, loopback\n\n| path | median ms / batch | best ms | completions / s (median) |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`,
);
