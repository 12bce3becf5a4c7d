/**
 * The HTTP transport behind upstream workers. The default is node:http/https with keep-alive agents:
 * on Node 20 it is about 4× cheaper per call than the global fetch (measured in bench/README notes), and
 * the gateway's overhead budget is about a millisecond. Tests inject `fetch` instead, which is adapted here.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

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

/** A POST to an upstream. Rejects on connection errors and aborts. */
export type Transport = (
  url: string,
  init: { headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<TransportResponse>;

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 10_000 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 10_000 });

/** The default transport: node:http(s) with shared keep-alive agents. */
export const nodeHttpTransport: Transport = (url, init) =>
  new Promise((resolve, reject) => {
    const secure = url.startsWith('https:');
    const request = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
        agent: secure ? httpsAgent : httpAgent,
      },
      (response) => resolve(fromIncoming(response)),
    );
    // Abort by hand, and destroy without an error object: with the `signal` option (or an error passed to
    // destroy) Node re-emits the error where no listener can catch it once the response is being read.
    // Callers learn about the abort from their own signal; pending reads end with 'close'.
    const onAbort = (): void => {
      request.destroy();
    };
    if (init.signal.aborted) onAbort();
    init.signal.addEventListener('abort', onAbort, { once: true });
    request.on('close', () => init.signal.removeEventListener('abort', onAbort));
    request.on('error', reject);
    request.end(init.body);
  });

function fromIncoming(response: IncomingMessage): TransportResponse {
  // Errors after an abort are reported through text()/chunks(); never let them go unhandled.
  response.on('error', () => undefined);
  return {
    status: response.statusCode ?? 0,
    header(name) {
      const value = response.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
    text() {
      return new Promise((resolve, reject) => {
        let data = '';
        let ended = false;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          data += chunk;
        });
        response.on('end', () => {
          ended = true;
          resolve(data);
        });
        response.on('error', reject);
        response.on('close', () => {
          if (!ended) reject(new Error('connection closed before the body ended'));
        });
      });
    },
    chunks() {
      return response[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    },
    discard() {
      response.resume();
    },
  };
}

/** Adapts a WHATWG `fetch` (tests, custom dispatchers) to a transport. */
export function fetchTransport(doFetch: typeof fetch): Transport {
  return async (url, init) => {
    const response = await doFetch(url, {
      method: 'POST',
      headers: init.headers,
      body: init.body,
      signal: init.signal,
    });
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
