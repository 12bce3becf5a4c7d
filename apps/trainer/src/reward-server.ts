/**
 * The reward server: @openfugu/verify and @openfugu/conductor rewards over HTTP, in the request and
 * response shapes the RL engines already speak (docs/training.md cites the engine source read):
 *
 * - `POST /v1/rewards` — generic batch: `{ kind, items: [{ completion, reference, answer? }] }` →
 *   `{ kind, rewards, details }`.
 * - `POST /get_reward`, `POST /openrlhf[/KIND]` — OpenRLHF `--remote_rm_url`: `{ query, prompts, labels }`
 *   (query = prompt + response) → `{ rewards, scores, extra_logs }`.
 * - `POST /trl[/KIND]` — the arguments TRL passes a reward function, as JSON:
 *   `{ prompts, completions, reference }` (completions as strings or message lists) → `{ rewards }`.
 * - `POST /verl[/KIND]` — verl `compute_score` keyword arguments `{ data_source, solution_str,
 *   ground_truth, extra_info }` (or a list of them) → `{ score, ...details }` (or a list).
 * - `GET /health`, `GET /v1/kinds`.
 *
 * Bad requests get 4xx JSON errors `{ error: { code, message, path? } }`; rewards never throw.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REWARD_KINDS, type RewardKind, scoreItem } from './rewards.js';

/** Settings of {@link createRewardServer}. */
export interface RewardServerSettings {
  /** Kind used by `/get_reward`, `/openrlhf`, `/trl`, `/verl` without a kind in the path. Default `action`. */
  defaultKind?: string;
  /** Largest accepted request body in bytes. Default 32 MiB. */
  bodyLimit?: number;
  /** Called once per request (method, path, status, items, milliseconds). */
  onRequest?: (entry: { method: string; path: string; status: number; items: number; ms: number }) => void;
}

/** A running (or runnable) reward server. */
export interface RewardServer {
  readonly server: Server;
  /** Starts listening; resolves with the base URL (`http://host:port`). */
  listen(options: { host?: string; port?: number }): Promise<string>;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A label as sent by an engine: JSON text is decoded (gold action lists, BFCL entries), other text kept. */
export function decodeLabel(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return JSON.parse(text);
    } catch {
      return value;
    }
  }
  return value;
}

function kindOf(name: string): RewardKind {
  const kind = Object.hasOwn(REWARD_KINDS, name) ? REWARD_KINDS[name] : undefined;
  if (!kind)
    throw new HttpError(
      400,
      'unknown_kind',
      `unknown reward kind '${name}'; known kinds: ${Object.keys(REWARD_KINDS).join(', ')}`,
      'kind',
    );
  return kind;
}

function stringArray(body: Record<string, unknown>, key: string, required: boolean): string[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) {
    if (required) throw new HttpError(400, 'missing_field', `'${key}' is required (a list of strings)`, key);
    return undefined;
  }
  if (!Array.isArray(value)) throw new HttpError(400, 'invalid_field', `'${key}' must be a list`, key);
  value.forEach((v, i) => {
    if (typeof v !== 'string')
      throw new HttpError(400, 'invalid_field', `'${key}[${i}]' must be a string`, `${key}/${i}`);
  });
  return value as string[];
}

function sameLength(name: string, list: readonly unknown[] | undefined, expected: number): void {
  if (list !== undefined && list.length !== expected)
    throw new HttpError(
      400,
      'length_mismatch',
      `'${name}' has ${list.length} entries, expected ${expected}`,
      name,
    );
}

/** The completion text of a TRL completion: a string, or the content of a conversational message list. */
function trlCompletion(value: unknown, index: number): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const message of value) {
      if (!isRecord(message))
        throw new HttpError(
          400,
          'invalid_field',
          `'completions[${index}]' must hold messages`,
          `completions/${index}`,
        );
      const content = message.content;
      if (typeof content === 'string') parts.push(content);
      else if (Array.isArray(content))
        for (const part of content)
          if (isRecord(part) && typeof part.text === 'string') parts.push(part.text);
    }
    return parts.join('\n');
  }
  throw new HttpError(
    400,
    'invalid_field',
    `'completions[${index}]' must be a string or a list of messages`,
    `completions/${index}`,
  );
}

function requireReference(kind: RewardKind, reference: unknown, where: string): void {
  // An empty label (OpenRLHF without --label_key sends "") is missing, not an empty gold list.
  if (kind.needsReference && (reference === undefined || reference === null || reference === ''))
    throw new HttpError(400, 'missing_reference', `this reward kind needs a reference (${where})`, where);
}

/** Creates the reward server (node:http; nothing listens until `listen`). */
export function createRewardServer(settings: RewardServerSettings = {}): RewardServer {
  const defaultKind = settings.defaultKind ?? 'action';
  kindOf(defaultKind);
  const bodyLimit = settings.bodyLimit ?? 32 * 1024 * 1024;

  const readBody = (req: IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length']);
      let tooLarge = Number.isFinite(declared) && declared > bodyLimit;
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > bodyLimit) tooLarge = true;
        if (!tooLarge) chunks.push(chunk);
      });
      req.on('error', reject);
      req.on('end', () => {
        if (tooLarge) {
          reject(new HttpError(413, 'body_too_large', `request body exceeds ${bodyLimit} bytes`));
          return;
        }
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') {
          reject(new HttpError(400, 'empty_body', 'request body is empty; send JSON'));
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(
            new HttpError(400, 'invalid_json', `request body is not valid JSON: ${(error as Error).message}`),
          );
        }
      });
    });

  const handle = async (
    route: string,
    kindName: string | undefined,
    body: unknown,
  ): Promise<{ payload: unknown; items: number }> => {
    if (route === 'v1/rewards') {
      if (!isRecord(body)) throw new HttpError(400, 'invalid_body', 'body must be a JSON object');
      if (typeof body.kind !== 'string')
        throw new HttpError(
          400,
          'missing_field',
          `'kind' is required (one of ${Object.keys(REWARD_KINDS).join(', ')})`,
          'kind',
        );
      const kind = kindOf(body.kind);
      if (!Array.isArray(body.items))
        throw new HttpError(400, 'missing_field', `'items' must be a list`, 'items');
      const items = body.items as unknown[];
      items.forEach((item, i) => {
        if (!isRecord(item))
          throw new HttpError(400, 'invalid_item', `'items[${i}]' must be an object`, `items/${i}`);
        if (typeof item.completion !== 'string')
          throw new HttpError(
            400,
            'invalid_item',
            `'items[${i}].completion' must be a string`,
            `items/${i}/completion`,
          );
        requireReference(kind, item.reference, `items/${i}/reference`);
      });
      const rewards: number[] = [];
      const details: unknown[] = [];
      for (const item of items as Record<string, unknown>[]) {
        const scored = scoreItem(kind, item.completion as string, item.reference, item);
        rewards.push(scored.reward);
        details.push(scored.details);
      }
      return { payload: { kind: body.kind, rewards, details }, items: items.length };
    }
    const kind = kindOf(kindName ?? defaultKind);
    const name = kindName ?? defaultKind;
    if (route === 'openrlhf') {
      if (!isRecord(body)) throw new HttpError(400, 'invalid_body', 'body must be a JSON object');
      const queries = stringArray(body, 'query', true)!;
      const prompts = stringArray(body, 'prompts', false);
      sameLength('prompts', prompts, queries.length);
      const labels = body.labels;
      if (labels !== undefined && labels !== null && !Array.isArray(labels))
        throw new HttpError(400, 'invalid_field', `'labels' must be a list`, 'labels');
      sameLength('labels', labels as unknown[] | undefined, queries.length);
      const rewards = queries.map((query, i) => {
        // OpenRLHF sends query = prompt + response; score the response part.
        const prompt = prompts?.[i];
        const completion =
          prompt !== undefined && query.startsWith(prompt) ? query.slice(prompt.length) : query;
        const reference = decodeLabel((labels as unknown[] | undefined)?.[i]);
        requireReference(kind, reference, `labels/${i}`);
        return scoreItem(kind, completion, reference).reward;
      });
      return {
        payload: { rewards, scores: rewards, extra_logs: { [name]: rewards } },
        items: queries.length,
      };
    }
    if (route === 'trl') {
      if (!isRecord(body)) throw new HttpError(400, 'invalid_body', 'body must be a JSON object');
      if (!Array.isArray(body.completions))
        throw new HttpError(400, 'missing_field', `'completions' is required (a list)`, 'completions');
      const completions = (body.completions as unknown[]).map(trlCompletion);
      const key = typeof body.reference_key === 'string' ? body.reference_key : 'reference';
      const references = body[key];
      if (references !== undefined && !Array.isArray(references))
        throw new HttpError(400, 'invalid_field', `'${key}' must be a list (one per completion)`, key);
      sameLength(key, references as unknown[] | undefined, completions.length);
      if (body.prompts !== undefined && !Array.isArray(body.prompts))
        throw new HttpError(400, 'invalid_field', `'prompts' must be a list`, 'prompts');
      const rewards = completions.map((completion, i) => {
        const reference = decodeLabel((references as unknown[] | undefined)?.[i]);
        requireReference(kind, reference, `${key}/${i}`);
        return scoreItem(kind, completion, reference).reward;
      });
      return { payload: { rewards }, items: completions.length };
    }
    if (route === 'verl') {
      const one = (entry: unknown, path: string): Record<string, unknown> => {
        if (!isRecord(entry))
          throw new HttpError(400, 'invalid_body', `${path || 'body'} must be an object`, path);
        if (typeof entry.solution_str !== 'string')
          throw new HttpError(
            400,
            'missing_field',
            `'solution_str' must be a string`,
            `${path}/solution_str`,
          );
        const reference = decodeLabel(entry.ground_truth);
        requireReference(kind, reference, `${path}/ground_truth`);
        const scored = scoreItem(kind, entry.solution_str, reference);
        return { score: scored.reward, kind: name };
      };
      if (Array.isArray(body))
        return { payload: body.map((entry, i) => one(entry, `${i}`)), items: body.length };
      return { payload: one(body, ''), items: 1 };
    }
    throw new HttpError(404, 'not_found', `no route /${route}`);
  };

  const server = createServer((req, res: ServerResponse) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname.split('/').filter((s) => s.length > 0);
    let items = 0;
    const send = (status: number, payload: unknown): void => {
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
      settings.onRequest?.({
        method: req.method ?? '',
        path: url.pathname,
        status,
        items,
        ms: performance.now() - started,
      });
    };
    const fail = (error: unknown): void => {
      if (error instanceof HttpError)
        send(error.status, {
          error: {
            code: error.code,
            message: error.message,
            ...(error.path === undefined ? {} : { path: error.path }),
          },
        });
      else
        send(500, {
          error: { code: 'internal', message: error instanceof Error ? error.message : String(error) },
        });
    };
    let route: string | undefined;
    let kindName: string | undefined;
    const [first, second, third] = segments;
    if (req.method === 'GET') {
      req.resume();
      if (url.pathname === '/health') return send(200, { ok: true, default_kind: defaultKind });
      if (url.pathname === '/v1/kinds')
        return send(200, {
          default_kind: defaultKind,
          kinds: Object.entries(REWARD_KINDS).map(([name, k]) => ({
            name,
            description: k.description,
            needs_reference: k.needsReference,
          })),
        });
    }
    if (first === 'v1' && second === 'rewards' && third === undefined) route = 'v1/rewards';
    else if (first === 'get_reward' && second === undefined) route = 'openrlhf';
    else if ((first === 'openrlhf' || first === 'trl' || first === 'verl') && third === undefined) {
      route = first;
      kindName = second ?? url.searchParams.get('kind') ?? undefined;
    }
    if (route === undefined) {
      req.resume();
      return fail(new HttpError(404, 'not_found', `no route ${req.method} ${url.pathname}`));
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'POST');
      return fail(new HttpError(405, 'method_not_allowed', `${url.pathname} accepts POST`));
    }
    readBody(req)
      .then((body) => handle(route!, kindName, body))
      .then((result) => {
        items = result.items;
        send(200, result.payload);
      })
      .catch(fail);
  });
  server.keepAliveTimeout = 65_000;

  return {
    server,
    listen({ host = '127.0.0.1', port = 8000 }) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve(`http://${shown}:${address.port}`);
        });
      });
    },
    close() {
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
    },
  };
}
