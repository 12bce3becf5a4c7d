/**
 * A real OpenAI-compatible HTTP server on loopback that plays several simulated models, with fault
 * injection. It backs the embedded default, the end-to-end tests and the benchmarks.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSeededRandom, hashString, type SimulatedModelSpec, simulatedReply } from './skills.js';

/** Faults injected into a model's answers; rates are probabilities per request, drawn from a seeded RNG. */
export interface FaultSpec {
  /** Answer 429 with `Retry-After: 0`. */
  rate429?: number;
  /** Answer 500. */
  rate500?: number;
  /** Answer 200 with a truncated JSON body (or, streaming, a malformed chunk). */
  malformedRate?: number;
  /** Destroy the connection (non-stream: before answering; stream: after the first chunk). */
  dropRate?: number;
  /** Never finish (non-stream: no answer; stream: stop after the first chunk) until `stallMs`. */
  stallRate?: number;
  /** How long a stall lasts before the socket is destroyed (default 60 000). */
  stallMs?: number;
  /** Latency added to every answer, ms. */
  extraLatencyMs?: number;
}

/** Settings of `createSimulatedUpstream`. */
export interface SimulatedUpstreamSettings {
  models: readonly SimulatedModelSpec[];
  /** Seed of answers, latencies and fault draws (default 1). */
  seed?: number;
  /** Faults per model name; `'*'` applies to every model. */
  faults?: Record<string, FaultSpec>;
  /** Require `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string;
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
}

/** A running simulated upstream. */
export interface SimulatedUpstream {
  /** e.g. `http://127.0.0.1:41234/v1`. */
  readonly baseURL: string;
  readonly port: number;
  /** Requests received per model name. */
  readonly requests: Map<string, number>;
  /** Replaces the faults of one model (or `'*'`). */
  setFaults(model: string, faults: FaultSpec | undefined): void;
  close(): Promise<void>;
}

interface SimRequestBody {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  tools?: unknown;
  tool_choice?: unknown;
}

interface SimMessage {
  role?: unknown;
  content?: unknown;
}

interface SimTool {
  type?: unknown;
  function?: {
    name?: unknown;
    parameters?: { properties?: Record<string, { type?: unknown }>; required?: unknown };
  };
}

/**
 * Starts the simulated upstream.
 *
 * @example
 * ```ts
 * const upstream = await createSimulatedUpstream({ models: [{ model: 'sim-math', skill: { math: 0.95 } }] });
 * // POST `${upstream.baseURL}/chat/completions` with { model: 'sim-math', messages: [...] }
 * await upstream.close();
 * ```
 */
export async function createSimulatedUpstream(
  settings: SimulatedUpstreamSettings,
): Promise<SimulatedUpstream> {
  const seed = settings.seed ?? 1;
  const models = new Map(settings.models.map((spec) => [spec.model, spec]));
  const faults = new Map(Object.entries(settings.faults ?? {}));
  const requests = new Map<string, number>();
  const faultRandom = createSeededRandom(seed ^ 0x5bd1e995);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let counter = 0;

  const later = (ms: number): Promise<void> =>
    ms <= 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, ms);
          timers.add(timer);
        });

  const sendJson = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };
  const sendError = (
    res: ServerResponse,
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ): void =>
    sendJson(res, status, { error: { message, type: 'api_error', code: null, param: null } }, headers);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    if (settings.apiKey && req.headers.authorization !== `Bearer ${settings.apiKey}`) {
      sendError(res, 401, 'bad api key');
      req.resume();
      return;
    }
    if (req.method === 'GET' && url.startsWith('/v1/models')) {
      sendJson(res, 200, {
        object: 'list',
        data: [...models.keys()].map((id) => ({ id, object: 'model', created: 0, owned_by: 'simulator' })),
      });
      return;
    }
    if (req.method !== 'POST' || !url.startsWith('/v1/chat/completions')) {
      req.resume();
      sendError(res, 404, 'not found');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: SimRequestBody;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SimRequestBody;
    } catch {
      sendError(res, 400, 'invalid json');
      return;
    }
    const model = typeof body.model === 'string' ? body.model : '';
    const spec = models.get(model);
    if (!spec) {
      sendError(res, 404, `model ${model} not found`);
      return;
    }
    requests.set(model, (requests.get(model) ?? 0) + 1);
    const messages = Array.isArray(body.messages) ? (body.messages as SimMessage[]) : [];
    const prompt = messages
      .map((message) => `${String(message.role)}: ${textOf(message.content)}`)
      .join('\n');
    const lastUser = [...messages].reverse().find((message) => message.role === 'user');
    const question = lastUser ? textOf(lastUser.content) : prompt;
    const stream = body.stream === true;
    const fault = faults.get(model) ?? faults.get('*') ?? {};
    const draw = faultRandom();
    const requestRandom = createSeededRandom(hashString(`${model}\u0000${prompt}`, seed) ^ counter++);

    // Faults that happen before any answer.
    let threshold = 0;
    const hit = (rate: number | undefined): boolean => {
      const from = threshold;
      threshold += rate ?? 0;
      return draw >= from && draw < threshold;
    };
    const is429 = hit(fault.rate429);
    const is500 = hit(fault.rate500);
    const isMalformed = hit(fault.malformedRate);
    const isDrop = hit(fault.dropRate);
    const isStall = hit(fault.stallRate);
    const stallMs = fault.stallMs ?? 60_000;

    const latency =
      (spec.latencyMs ?? 0) +
      (fault.extraLatencyMs ?? 0) +
      -Math.log(1 - requestRandom()) * (spec.latencyJitterMs ?? 0);
    await later(latency);
    if (is429) return sendError(res, 429, 'rate limited', { 'retry-after': '0' });
    if (is500) return sendError(res, 500, 'internal error');
    if (isDrop && !stream) {
      req.socket.destroy();
      return;
    }
    if (isStall && !stream) {
      await later(stallMs);
      req.socket.destroy();
      return;
    }

    // The answer.
    const tools = Array.isArray(body.tools) ? (body.tools as SimTool[]) : [];
    const lastRole = messages.at(-1)?.role;
    const toolCall =
      tools.length > 0 && body.tool_choice !== 'none' && lastRole !== 'tool'
        ? chooseToolCall(tools, body.tool_choice, question, counter)
        : undefined;
    let content = toolCall
      ? ''
      : lastRole === 'tool'
        ? `Based on the tool result: ${textOf(messages.at(-1)?.content)}`
        : simulatedReply(
            spec,
            messages.map((message) => ({ role: String(message.role), text: textOf(message.content) })),
            seed,
          );
    const maxTokens =
      typeof body.max_tokens === 'number'
        ? body.max_tokens
        : typeof body.max_completion_tokens === 'number'
          ? body.max_completion_tokens
          : undefined;
    let finish: 'stop' | 'length' | 'tool_calls' = toolCall ? 'tool_calls' : 'stop';
    if (maxTokens !== undefined && content.length > maxTokens * 4) {
      content = content.slice(0, maxTokens * 4);
      finish = 'length';
    }
    const promptTokens = Math.ceil(prompt.length / 4) + 3;
    const completionTokens =
      Math.ceil((content.length + (toolCall ? JSON.stringify(toolCall).length : 0)) / 4) || 1;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const id = `chatcmpl-sim${counter}`;
    const created = Math.floor(Date.now() / 1000);

    if (!stream) {
      // The same generation time as the stream would take: one chunk delay per chunk.
      if (spec.chunkDelayMs && !toolCall) await later(spec.chunkDelayMs * splitForStream(content).length);
      if (isMalformed) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"chatcmpl-broken","choices":[{"message":');
        return;
      }
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: toolCall ? null : content,
              ...(toolCall ? { tool_calls: [toolCall] } : {}),
            },
            finish_reason: finish,
            logprobs: null,
          },
        ],
        usage,
      });
      return;
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const write = (payload: unknown): void => {
      res.write(`data: ${JSON.stringify(payload)}\n\n`);
    };
    const chunk = (delta: Record<string, unknown>, finishReason: string | null): Record<string, unknown> => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    });
    write(chunk({ role: 'assistant', content: '' }, null));
    if (isDrop) {
      req.socket.destroy();
      return;
    }
    if (isStall) {
      await later(stallMs);
      req.socket.destroy();
      return;
    }
    if (isMalformed) {
      res.write('data: {"id": broken\n\n');
    }
    if (toolCall) {
      write(
        chunk(
          {
            tool_calls: [
              {
                index: 0,
                id: toolCall.id,
                type: 'function',
                function: { name: toolCall.function.name, arguments: '' },
              },
            ],
          },
          null,
        ),
      );
      write(
        chunk({ tool_calls: [{ index: 0, function: { arguments: toolCall.function.arguments } }] }, null),
      );
    } else {
      for (const piece of splitForStream(content)) {
        if (res.destroyed) return;
        await later(spec.chunkDelayMs ?? 0);
        write(chunk({ content: piece }, null));
      }
    }
    write(chunk({}, finish));
    if (body.stream_options?.include_usage === true) {
      write({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
    }
    res.end('data: [DONE]\n\n');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'simulator failure');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port ?? 0, settings.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = settings.host ?? '127.0.0.1';
  return {
    baseURL: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/v1`,
    port: address.port,
    requests,
    setFaults(model, spec) {
      if (spec) faults.set(model, spec);
      else faults.delete(model);
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : ''))
      .join('');
  }
  return '';
}

function splitForStream(content: string): string[] {
  const pieces = content.match(/\S+\s*/g) ?? [content];
  const out: string[] = [];
  for (let i = 0; i < pieces.length; i += 3) out.push(pieces.slice(i, i + 3).join(''));
  const leading = /^\s*/.exec(content)?.[0] ?? '';
  if (leading && out.length > 0) out[0] = leading + out[0];
  return out.length > 0 ? out : [''];
}

function chooseToolCall(
  tools: readonly SimTool[],
  choice: unknown,
  question: string,
  counter: number,
): { id: string; type: 'function'; function: { name: string; arguments: string } } | undefined {
  const named =
    typeof choice === 'object' && choice !== null
      ? (choice as { function?: { name?: unknown } }).function?.name
      : undefined;
  const names = tools.map((tool) => (typeof tool.function?.name === 'string' ? tool.function.name : ''));
  let index = typeof named === 'string' ? names.indexOf(named) : -1;
  if (index < 0)
    index = names.findIndex((name) => name !== '' && question.toLowerCase().includes(name.toLowerCase()));
  if (index < 0) index = 0;
  const tool = tools[index];
  const name = names[index];
  if (!tool || !name) return undefined;
  const properties = tool.function?.parameters?.properties ?? {};
  const required = Array.isArray(tool.function?.parameters?.required)
    ? (tool.function?.parameters?.required as unknown[])
    : Object.keys(properties);
  const args: Record<string, unknown> = {};
  const number = /-?\d+(?:\.\d+)?/.exec(question)?.[0];
  const quoted = /"([^"]+)"|'([^']+)'/.exec(question);
  for (const key of required) {
    if (typeof key !== 'string') continue;
    const type = properties[key]?.type;
    if (type === 'number' || type === 'integer') args[key] = number === undefined ? 1 : Number(number);
    else if (type === 'boolean') args[key] = true;
    else if (type === 'array') args[key] = [];
    else if (type === 'object') args[key] = {};
    else
      args[key] = quoted
        ? (quoted[1] ?? quoted[2])
        : (question
            .split(/\s+/)
            .at(-1)
            ?.replace(/[?.!,]$/, '') ?? 'value');
  }
  return { id: `call_sim${counter}`, type: 'function', function: { name, arguments: JSON.stringify(args) } };
}
