/**
 * The HTTP transport behind upstream workers. The default is an undici `Pool` per upstream origin
 * (keep-alive, no connection cap, Nagle off): it is the cheapest client Node has per call, and the gateway's
 * overhead budget is about a millisecond (see the package README's Benchmark section). Tests inject `fetch`
 * instead, which is adapted here.
 */
import { Pool } from 'undici';

/** What a worker needs from an HTTP response. */
export interface TransportResponse {
  readonly status: number;
  header(name: string): string | null;
  /** The whole body as text (UTF-8). */
  text(): Promise<string>;
  /** The body as byte chunks. */
  chunks(): AsyncIterator<Uint8Array>;
  /** Drops the rest of the body. */
  discard(): void;
}

/** What an upstream call can be aborted by: a DOM `AbortSignal` or anything shaped like one. */
export interface TransportSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A POST to an upstream. Rejects on connection errors and aborts. */
export type Transport = (
  url: string,
  init: { headers: Record<string, string>; body: string; signal: TransportSignal },
) => Promise<TransportResponse>;

interface Target {
  pool: Pool;
  path: string;
}

const targets = new Map<string, Target>();
const pools = new Map<string, Pool>();
const noop = (): void => undefined;

function targetOf(url: string): Target {
  let target = targets.get(url);
  if (target === undefined) {
    const parsed = new URL(url);
    let pool = pools.get(parsed.origin);
    if (pool === undefined) {
      // Timeouts are the worker's (per attempt, stream idle); undici's own 300 s ones would only interfere.
      // Idle sockets close after undici's default 4 s (or the server's `Keep-Alive: timeout` hint), under the
      // 5 s many upstream servers (uvicorn: LiteLLM, vLLM) use, so a reused socket is rarely one they closed.
      pool = new Pool(parsed.origin, { headersTimeout: 0, bodyTimeout: 0 });
      pools.set(parsed.origin, pool);
    }
    target = { pool, path: `${parsed.pathname}${parsed.search}` };
    targets.set(url, target);
  }
  return target;
}

/** The default transport: undici keep-alive pools shared per origin. */
export const undiciTransport: Transport = async (url, init) => {
  const target = targetOf(url);
  const response = await target.pool.request({
    path: target.path,
    method: 'POST',
    headers: init.headers,
    body: init.body,
    signal: init.signal,
  });
  const body = response.body;
  // Errors after an abort are reported through text()/chunks(); never let them go unhandled.
  body.on('error', noop);
  const headers = response.headers;
  return {
    status: response.statusCode,
    header(name) {
      const value = headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
    text: () => body.text(),
    chunks: () => body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>,
    discard() {
      body.dump().catch(noop);
    },
  };
};

/** Adapts a WHATWG `fetch` (tests, custom dispatchers) to a transport. */
export function fetchTransport(doFetch: typeof fetch): Transport {
  return async (url, init) => {
    // fetch wants a DOM AbortSignal: bridge the caller's (possibly lightweight) one.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    if (init.signal.aborted) controller.abort();
    else init.signal.addEventListener('abort', onAbort, { once: true });
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: init.headers,
        body: init.body,
        signal: controller.signal,
      });
    } catch (error) {
      init.signal.removeEventListener('abort', onAbort);
      throw error;
    }
    return {
      status: response.status,
      header: (name) => response.headers.get(name),
      text: () => response.text(),
      chunks() {
        const body = response.body;
        if (!body) return (async function* empty() {})();
        return (body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      },
      discard() {
        response.body?.cancel().catch(() => undefined);
      },
    };
  };
}
