/**
 * The operations page's routes on the gateway (`/ui`): the page and its assets, the live feed (`/ui/events`,
 * server-sent events), a request's trace, pool health, spend, and the routing reports. It is an operator's
 * view: worker ids are shown there, never to API clients.
 *
 * Access: with `ui.adminKey`, only that key opens the page; otherwise, with client keys configured, any client
 * key does; with no key at all, only loopback clients get in. A key is presented as `Authorization: Bearer`,
 * `x-api-key`, or once as `/ui?key=…`, which sets an HttpOnly, SameSite=Strict session cookie (a random token,
 * not the key) and redirects to `/ui` without the key in the address.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import type { WorkerPool } from '../pool.js';
import { type ClientKey, createKeyMatcher, presentedKey, usableKey } from '../rate-limit.js';
import { createOpsHub, type OpsHub } from './ops-hub.js';
import { listReports, readReport } from './reports.js';

/** The `ui` block of a gateway config. */
export interface OpsUiConfig {
  /** Serve the page (default false; the embedded default turns it on). */
  enabled: boolean;
  /** The operator's key; when set, only it opens the page (client keys do not). */
  adminKey?: string;
  /** Directory of SVG reports listed on the page (not recursive). */
  reportDir?: string;
  /** Recent request traces kept (default 200). */
  traceCapacity?: number;
  /** Most live-feed viewers at once (default 16). */
  maxViewers?: number;
  /**
   * Folder of the page's files (default: the package's `ui/`, found beside `dist/` or `src/`). Set it when the
   * server is bundled into another file, where that folder cannot be found from the bundle's location.
   */
  assetsDir?: string;
}

const COOKIE = 'openfugu_ui';
const SESSION_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 1024;
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";

/** The page's files, read once: `ui/` beside `dist/` (published) or beside `src/` (from source). */
function loadAssets(assetsDir: string | undefined): Map<string, { body: string; type: string }> {
  const candidates = assetsDir
    ? [assetsDir.endsWith('/') ? assetsDir : `${assetsDir}/`]
    : ['../ui/', '../../ui/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const dir = candidates.find((candidate) => existsSync(`${candidate}index.html`));
  if (!dir) throw new Error(`the operations page's assets are missing (looked in ${candidates.join(', ')})`);
  const types: Record<string, string> = {
    'index.html': 'text/html; charset=utf-8',
    'app.js': 'text/javascript; charset=utf-8',
    'app.css': 'text/css; charset=utf-8',
  };
  return new Map(
    Object.entries(types).map(([name, type]) => [name, { body: readFileSync(dir + name, 'utf8'), type }]),
  );
}

function isLoopback(ip: string): boolean {
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1' || ip.startsWith('127.');
}

function cookieOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === COOKIE) return rest.join('=');
  }
  return undefined;
}

/**
 * Registers the `/ui` routes and returns the hub they show (the gateway feeds it calls and finished requests).
 *
 * @example
 * ```ts
 * const hub = registerOpsUi(app, { ui: { enabled: true, reportDir: './reports' }, apiKeys, pool });
 * ```
 */
export function registerOpsUi(
  app: FastifyInstance,
  options: { ui: OpsUiConfig; hub: OpsHub; apiKeys?: readonly ClientKey[] },
): void {
  const { ui, hub } = options;
  const assets = loadAssets(ui.assetsDir);
  const admin = ui.adminKey ? createKeyMatcher([{ key: ui.adminKey, name: 'admin' }]) : undefined;
  const clients =
    options.apiKeys && options.apiKeys.length > 0 ? createKeyMatcher(options.apiKeys) : undefined;
  const sessions = new Map<string, number>();

  /** Whether a presented key (see `presentedKey`) opens the page. */
  const keyMatches = (presented: string | undefined): boolean => {
    if (presented === undefined) return false;
    if (admin) return admin(presented) !== undefined;
    return clients?.(presented) !== undefined;
  };

  const allowed = (request: FastifyRequest): boolean => {
    if (!admin && !clients) return isLoopback(request.ip);
    const token = cookieOf(request.headers.cookie);
    if (token !== undefined) {
      const until = sessions.get(token);
      if (until !== undefined && until > Date.now()) return true;
      sessions.delete(token);
    }
    return keyMatches(
      presentedKey({ authorization: request.headers.authorization, apiKey: request.headers['x-api-key'] }),
    );
  };

  const guard = (request: FastifyRequest): void => {
    if (!allowed(request)) {
      throw new GatewayError({
        kind: 'unauthorized',
        message:
          admin || clients
            ? 'The operations page needs the operator key (Authorization: Bearer, x-api-key, or /ui?key=…).'
            : 'The operations page answers loopback clients only when no key is configured.',
      });
    }
  };

  const startSession = (reply: FastifyReply, secure: boolean): void => {
    const token = randomBytes(32).toString('hex');
    const now = Date.now();
    for (const [name, until] of sessions) if (until <= now) sessions.delete(name);
    while (sessions.size >= MAX_SESSIONS) {
      const oldest = sessions.keys().next().value;
      if (oldest === undefined) break;
      sessions.delete(oldest);
    }
    sessions.set(token, now + SESSION_MS);
    reply.header(
      'set-cookie',
      `${COOKIE}=${token}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${secure ? '; Secure' : ''}`,
    );
  };

  const sendAsset = (reply: FastifyReply, name: string): FastifyReply => {
    const asset = assets.get(name);
    if (!asset) throw new GatewayError({ kind: 'route_not_found' });
    return reply
      .header('content-type', asset.type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send(asset.body);
  };

  app.addHook('preClose', (done) => {
    hub.close();
    done();
  });

  app.get('/ui', async (request, reply) => {
    const key = (request.query as { key?: unknown }).key;
    if (typeof key === 'string' && (admin || clients)) {
      if (!keyMatches(usableKey(key)))
        return loginPage(reply.code(401), 'That key does not open the operations page.');
      startSession(reply, request.protocol === 'https');
      return reply.code(303).header('location', '/ui').send();
    }
    if (!allowed(request)) {
      if (!admin && !clients) guard(request);
      return loginPage(reply.code(401), undefined);
    }
    reply.header('content-security-policy', PAGE_CSP).header('referrer-policy', 'no-referrer');
    return sendAsset(reply, 'index.html');
  });
  app.get('/ui/', async (_request, reply) => reply.code(301).header('location', '/ui').send());
  app.get('/ui/app.js', async (_request, reply) => sendAsset(reply, 'app.js'));
  app.get('/ui/app.css', async (_request, reply) => sendAsset(reply, 'app.css'));

  app.get('/ui/events', async (request, reply) => {
    guard(request);
    if (hub.viewerCount >= (ui.maxViewers ?? 16)) {
      throw new GatewayError({
        kind: 'rate_limited',
        message: 'Too many viewers of the operations page.',
        retryAfterSeconds: 5,
      });
    }
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    hub.addViewer(reply.raw);
  });

  app.get('/ui/api/requests', async (request) => {
    guard(request);
    const limit = Number((request.query as { limit?: unknown }).limit ?? 100);
    return { data: hub.recent(Number.isInteger(limit) && limit > 0 ? limit : 100) };
  });
  app.get('/ui/api/requests/:id', async (request) => {
    guard(request);
    const trace = hub.trace((request.params as { id: string }).id);
    if (!trace) {
      throw new GatewayError({
        kind: 'route_not_found',
        message: 'No trace of that request (only the most recent ones are kept).',
      });
    }
    return trace;
  });
  app.get('/ui/api/pool', async (request) => {
    guard(request);
    return { data: hub.health() };
  });
  app.get('/ui/api/spend', async (request) => {
    guard(request);
    return hub.spend();
  });
  app.get('/ui/api/reports', async (request) => {
    guard(request);
    return {
      configured: ui.reportDir !== undefined,
      data: ui.reportDir ? await listReports(ui.reportDir) : [],
    };
  });
  app.get('/ui/reports/:name', async (request, reply) => {
    guard(request);
    const name = (request.params as { name: string }).name;
    const body = ui.reportDir ? await readReport(ui.reportDir, name) : undefined;
    if (!body) throw new GatewayError({ kind: 'route_not_found', message: 'No such report.' });
    return reply
      .header('content-type', 'image/svg+xml')
      .header('content-security-policy', REPORT_CSP)
      .header('x-content-type-options', 'nosniff')
      .send(body);
  });
}

/** Creates the hub of a gateway whose config enables the page. */
export function createGatewayOpsHub(ui: OpsUiConfig | undefined): OpsHub | undefined {
  if (!ui?.enabled) return undefined;
  return createOpsHub({
    ...(ui.traceCapacity === undefined ? {} : { traceCapacity: ui.traceCapacity }),
    ...(ui.maxViewers === undefined ? {} : { maxViewers: ui.maxViewers }),
  });
}

/** Wires the hub into a gateway: the pool it watches and the routes. */
export function attachOpsUi(
  app: FastifyInstance,
  hub: OpsHub | undefined,
  options: { ui: OpsUiConfig | undefined; pool: WorkerPool; apiKeys?: readonly ClientKey[] },
): void {
  if (!hub || !options.ui) return;
  hub.attach(options.pool);
  registerOpsUi(app, { ui: options.ui, hub, ...(options.apiKeys ? { apiKeys: options.apiKeys } : {}) });
}

function loginPage(reply: FastifyReply, problem: string | undefined): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
    .send(
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>OpenFugu operations</title><body>` +
        `<h1>OpenFugu operations page</h1><p>This is an operator's view: it needs the operator key.</p>` +
        (problem ? `<p><strong>${problem}</strong></p>` : '') +
        `<form method="get" action="/ui"><label>Key <input type="password" name="key" autocomplete="off"></label>` +
        ` <button type="submit">Open</button></form></body></html>`,
    );
}
