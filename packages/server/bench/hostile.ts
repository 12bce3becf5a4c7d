/**
 * Hostile-input benchmark (issue 12): each attack against a gateway in its own process, with, for each, the
 * status it got, the time to that answer (or to the cut), and the worst `/health` latency measured while it ran
 * (one `/health` after the other from this process), beside a normal request's. The gateway runs from the
 * current source, bundled like `dist` (see children.ts), over the simulated pool plus one `hostile` member whose
 * upstream (served from this process) misbehaves on purpose.
 *
 *   pnpm --filter @openfugu/server bench:hostile
 *   HOSTILE_REPEAT=5 pnpm --filter @openfugu/server bench:hostile   # median over 5 runs of each attack
 */
import type { ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import type { GatewayConfig } from '../src/index.js';
import {
  chunkEvent,
  completionJson,
  deepBody,
  emptyObjectsBody,
  type RawClient,
  rawChatRequest,
  rawClient,
  scriptedUpstream,
  streamBody,
} from '../test/hostile-helpers.js';
import { memory, start, stop } from './children.js';

const repeat = Number(process.env.HOSTILE_REPEAT ?? 3);
const KEY = 'sk-bench';
const config: GatewayConfig = {
  apiKeys: [{ name: 'bench', key: KEY }],
  requestTimeoutMs: 5_000,
  headersTimeoutMs: 2_000,
  bodyTimeoutMs: 3_000,
  // The bench sends many failed authentications on purpose from one address.
  authFailureLimit: { requestsPerMinute: 1_000_000, burst: 1_000_000 },
  // Each attack on its own: the `hostile` member's (correctly counted) failures must not cool it down for the next.
  pool: { failureThreshold: 1_000 },
};
const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

/** What one attack reports: HTTP status (or what happened), and when it was over. */
interface Outcome {
  status: string;
}

interface Row {
  attack: string;
  status: string;
  answerMs: number;
  worstHealthMs: number;
  healthSamples: number;
}

async function main(): Promise<void> {
  // The hostile upstream: what it does depends on the message content the attack sends. Its answers are built
  // once, so this process's own event loop stays free to time `/health`.
  const hugeAnswer = Buffer.from(completionJson('x'.repeat(64 * 1024 * 1024)));
  const endlessLine = Buffer.from(`data: ${'x'.repeat(8 * 1024 * 1024)}`);
  const hostile = await scriptedUpstream((_request, response, body) => {
    response.on('error', () => undefined);
    if (body.includes('"huge-answer"')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(hugeAnswer);
    } else if (body.includes('"endless-line"')) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(endlessLine); // no newline; the socket stays open
    } else {
      // A big, fast stream (32 MiB) for the client that stops reading.
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const piece = chunkEvent('x'.repeat(64 * 1024));
      let sent = 0;
      const pump = (): void => {
        while (sent < 512) {
          sent++;
          if (!response.write(piece)) {
            response.once('drain', pump);
            return;
          }
        }
        response.end(`${chunkEvent('', 'stop')}data: [DONE]\n\n`);
      };
      response.on('error', () => undefined);
      pump();
    }
  });
  const upstream = await start(['upstream']);
  const gateway = await start([
    'gateway',
    upstream.url,
    JSON.stringify({ config, hostileURL: hostile.baseURL }),
  ]);
  const base = gateway.url.replace(/\/v1$/, '');

  const post = async (body: string, headers: Record<string, string> = auth): Promise<Outcome> => {
    const response = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers, body });
    await response.arrayBuffer();
    return { status: String(response.status) };
  };
  const normal = JSON.stringify({ model: 'math', messages: [{ role: 'user', content: 'What is 2+3?' }] });
  const messages4mb = emptyObjectsBody('math', 'messages', 1_390_000);
  const tools4mb = emptyObjectsBody('math', 'tools', 1_390_000);
  const deep = deepBody('math', 100_000);
  const keyless4mb = `{"model":"math","messages":[{"role":"user","content":"${'x'.repeat(4_000_000)}"}]}`;
  const raw = (head: string): Promise<RawClient> => rawClient(base, head);

  const attacks: [string, () => Promise<Outcome>][] = [
    ['normal request (baseline)', () => post(normal)],
    ['4 MB `messages: [{},{},…]` (1.39 M objects)', () => post(messages4mb)],
    ['4 MB `tools: [{},{},…]`', () => post(tools4mb)],
    [
      '8 × 4 MB `messages: [{},…]` at once',
      async () => {
        const all = await Promise.all(Array.from({ length: 8 }, () => post(messages4mb)));
        return { status: [...new Set(all.map((o) => o.status))].join('/') };
      },
    ],
    ['body nested 100 000 levels', () => post(deep)],
    ['keyless 4 MB body', () => post(keyless4mb, { 'content-type': 'application/json' })],
    [
      'keyless headers, body never sent',
      async () => {
        const client = await raw(
          'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n',
        );
        await client.waitFor('\r\n\r\n', 30_000);
        client.socket.destroy();
        return { status: client.received().slice(9, 12) };
      },
    ],
    [
      'model id of 5 000 characters (URL)',
      async () => {
        const response = await fetch(`${base}/v1/models/${'m'.repeat(5_000)}`, { headers: auth });
        await response.arrayBuffer();
        return { status: String(response.status) };
      },
    ],
    [
      '`GET /v1/models/%zz`',
      async () => {
        const response = await fetch(`${base}/v1/models/%zz`, { headers: auth });
        await response.arrayBuffer();
        return { status: String(response.status) };
      },
    ],
    [
      'slow body (1 byte / 200 ms)',
      () =>
        slow(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
          ' ',
        ),
    ],
    ['slow headers (1 line / 200 ms)', () => slow('GET /health HTTP/1.1\r\nHost: x\r\n', 'X-A: b\r\n')],
    [
      'client stops reading a 32 MiB stream',
      async () => {
        const client = await raw(
          rawChatRequest(streamBody('hostile', 'big'), { Authorization: `Bearer ${KEY}` }),
        );
        await client.waitFor('text/event-stream', 10_000);
        client.socket.pause();
        // Over when the gateway has freed the request.
        for (;;) {
          await sleep(50);
          const health = (await (await fetch(`${base}/health`)).json()) as { inFlight: number };
          if (health.inFlight === 0) break;
        }
        client.socket.destroy();
        return { status: 'freed' };
      },
    ],
    [
      'SSE with `Connection: close`',
      async () => {
        const client = await raw(
          rawChatRequest(streamBody('math'), { Connection: 'close', Authorization: `Bearer ${KEY}` }),
        );
        await client.closed;
        return { status: `${client.received().slice(9, 12)}, closed` };
      },
    ],
    [
      'upstream answers 64 MiB',
      () => post(JSON.stringify({ model: 'hostile', messages: [{ role: 'user', content: 'huge-answer' }] })),
    ],
    [
      'upstream SSE line never ends',
      async () => {
        const response = await fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({
            model: 'hostile',
            stream: true,
            messages: [{ role: 'user', content: 'endless-line' }],
          }),
        });
        const text = await response.text();
        return {
          status: `${response.status}${text.includes('upstream_error') ? ' + in-band upstream_error' : ''}`,
        };
      },
    ],
  ];

  async function slow(head: string, drip: string): Promise<Outcome> {
    const client = await raw(head);
    const timer = setInterval(() => client.socket.write(drip), 200);
    await client.closed;
    clearInterval(timer);
    const status = client.received().slice(9, 12);
    return { status: status === '' ? 'closed' : `${status}, closed` };
  }

  const rows: Row[] = [];
  for (const [name, attack] of attacks) {
    const runs: Row[] = [];
    for (let i = 0; i < repeat; i++) runs.push(await measure(base, name, attack));
    runs.sort((a, b) => a.answerMs - b.answerMs);
    const median = runs[Math.floor(runs.length / 2)]!;
    rows.push({ ...median, worstHealthMs: Math.max(...runs.map((run) => run.worstHealthMs)) });
  }
  const mem = await memory(gateway.child);

  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  console.log(
    `\nbench:hostile — ${new Date().toISOString()} — ${cpus().length} CPUs, load average ${load}; ` +
      `median of ${repeat} runs per attack (worst /health: max over the runs)\n` +
      `gateway: requestTimeoutMs ${config.requestTimeoutMs}, headersTimeoutMs ${config.headersTimeoutMs}, ` +
      `bodyTimeoutMs ${config.bodyTimeoutMs}, pool.failureThreshold 1000, other limits default\n`,
  );
  console.log('| attack | status | answer / cut (ms) | worst /health during it (ms) | /health samples |');
  console.log('|---|---|---:|---:|---:|');
  for (const row of rows) {
    console.log(
      `| ${row.attack} | ${row.status} | ${row.answerMs.toFixed(0)} | ${row.worstHealthMs.toFixed(1)} | ${row.healthSamples} |`,
    );
  }
  console.log(`\ngateway RSS after the run (after GC): ${(mem.rss / 2 ** 20).toFixed(0)} MiB`);
  await stop(gateway.child);
  await stop(upstream.child as ChildProcess);
  await hostile.close();
}

/** Runs `attack` while polling `/health` one request after the other; at least 3 polls. */
async function measure(base: string, attack: string, run: () => Promise<Outcome>): Promise<Row> {
  let done = false;
  const started = performance.now();
  let answerMs = 0;
  const outcome = run().then((value) => {
    answerMs = performance.now() - started;
    done = true;
    return value;
  });
  const latencies: number[] = [];
  while (!done || latencies.length < 3) {
    const at = performance.now();
    const response = await fetch(`${base}/health`);
    await response.arrayBuffer();
    latencies.push(performance.now() - at);
  }
  const { status } = await outcome;
  return { attack, status, answerMs, worstHealthMs: Math.max(...latencies), healthSamples: latencies.length };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

await main();
