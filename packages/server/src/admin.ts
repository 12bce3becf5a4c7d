/**
 * The admin API for client keys, as a fastify plugin: `/admin/keys` behind a master key. Keys are stored in
 * the `SharedState` (hashed), so with the Redis state a key created through one replica works on all of them
 * at once, and a revoked key fails on all of them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createValidator } from '@openfugu/schema';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ConfigError } from './config.js';
import { GatewayError, toErrorResponse } from './errors.js';
import { pointerToParam } from './intake.js';
import { KeyPatchSchema, keyScope, NewKeySchema } from './state/common.js';
import type { KeyRecord, SharedState } from './state/types.js';

/** Options of `adminRoutes`. */
export interface AdminRoutesOptions {
  state: SharedState;
  /** The master key (from the environment; at least 16 characters). Compared in constant time. */
  masterKey: string;
}

/**
 * Registers `POST /admin/keys` (create: the secret is in this answer only), `GET /admin/keys` (list),
 * `GET /admin/keys/:id` (one key and its budget figures), `PATCH /admin/keys/:id` (limits and budgets;
 * `null` removes one) and `DELETE /admin/keys/:id` (revoke). Every answer to a bad call is an OpenAI error.
 *
 * @example
 * ```ts
 * app.register(adminRoutes, { state: createMemoryState(), masterKey: process.env.OPENFUGU_ADMIN_KEY! });
 * // curl -H "Authorization: Bearer $OPENFUGU_ADMIN_KEY" -d '{"name":"team-a"}' :8088/admin/keys
 * ```
 */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, options) => {
  if (typeof options.masterKey !== 'string' || options.masterKey.length < 16) {
    throw new ConfigError({ message: 'admin: the master key must be at least 16 characters' });
  }
  const master = digest(options.masterKey);
  const { state } = options;
  const validateNew = validatorFor(NewKeySchema);
  const validatePatch = validatorFor(KeyPatchSchema);

  app.setErrorHandler((error, _request, reply) => send(reply, error));
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization;
    const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!timingSafeEqual(digest(presented), master)) {
      return send(
        reply,
        new GatewayError({ kind: 'unauthorized', message: 'Invalid or missing admin key.' }),
      );
    }
  });

  app.post('/admin/keys', async (request, reply) => {
    const body = validateNew(request.body);
    const { key, record } = await state.createKey(body);
    return reply.code(201).send({ object: 'api_key', ...record, key });
  });

  app.get('/admin/keys', async () => ({
    object: 'list',
    data: (await state.listKeys()).map(shown),
  }));

  app.get<{ Params: { id: string } }>('/admin/keys/:id', async (request) => {
    const record = found(await state.getKey(request.params.id), request.params.id);
    const usage = record.budgets ? await state.budgetUsage(keyScope(record.id), record.budgets) : [];
    return { ...shown(record), usage };
  });

  app.patch<{ Params: { id: string } }>('/admin/keys/:id', async (request) => {
    const patch = validatePatch(request.body);
    return shown(found(await state.updateKey(request.params.id, patch), request.params.id));
  });

  app.delete<{ Params: { id: string } }>('/admin/keys/:id', async (request) => {
    if (!(await state.revokeKey(request.params.id))) found(undefined, request.params.id);
    return { object: 'api_key', id: request.params.id, revoked: true };
  });
};

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function shown(record: KeyRecord): KeyRecord & { object: 'api_key' } {
  return { object: 'api_key', ...record };
}

function found(record: KeyRecord | undefined, id: string): KeyRecord {
  if (record) return record;
  throw new GatewayError({
    kind: 'route_not_found',
    message: `No live API key has id '${id.slice(0, 64)}'.`,
    param: 'id',
  });
}

function validatorFor<S extends TSchema>(schema: S) {
  const validator = createValidator(schema);
  return (value: unknown) => {
    const result = validator.validate(value ?? {});
    if (result.ok) return result.value;
    const first = result.issues[0];
    const param = first ? pointerToParam(first.path) : '';
    throw new GatewayError({
      kind: 'invalid_request',
      message: first ? `Invalid request: '${param || 'body'}' ${first.message}.` : 'Invalid request body.',
      param: param || null,
    });
  };
}

function send(reply: FastifyReply, error: unknown): FastifyReply {
  const response = toErrorResponse(error);
  return reply.code(response.status).headers(response.headers).send(response.body);
}
