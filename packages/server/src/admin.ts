/**
 * The admin API for client keys, as a fastify plugin: `/admin/keys` behind a master key. Keys are stored in
 * the `SharedState` (hashed), so with the Redis state a key created through one replica works on all of them
 * at once, and a revoked key fails on all of them.
 */
import { createValidator } from '@openfugu/schema';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ConfigError } from './config.js';
import { GatewayError, toErrorResponse } from './errors.js';
import { invalidRequest } from './intake.js';
import { createKeyMatcher, MAX_PRESENTED_KEY_LENGTH, presentedKey } from './rate-limit.js';
import { KeyPatchSchema, keyScope, NewKeySchema } from './state/common.js';
import type { KeyRecord, SharedState } from './state/types.js';

/** Options of `adminRoutes`. */
export interface AdminRoutesOptions {
  state: SharedState;
  /**
   * The master key (from the environment; 16 to 4096 characters), presented as `Authorization: Bearer …`.
   * Compared in constant time.
   */
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
  const length = typeof options.masterKey === 'string' ? options.masterKey.length : 0;
  if (length < 16 || length > MAX_PRESENTED_KEY_LENGTH) {
    throw new ConfigError({
      message: `admin: the master key must be at least 16 characters and at most ${MAX_PRESENTED_KEY_LENGTH}`,
    });
  }
  const matchMaster = createKeyMatcher([{ key: options.masterKey, name: 'admin' }]);
  const { state } = options;
  const validateNew = validatorFor(NewKeySchema);
  const validatePatch = validatorFor(KeyPatchSchema);

  app.setErrorHandler((error, _request, reply) => send(reply, error));
  app.addHook('onRequest', async (request) => {
    const presented = presentedKey({ authorization: request.headers.authorization });
    if (presented === undefined || matchMaster(presented) === undefined) {
      throw new GatewayError({ kind: 'unauthorized', message: 'Invalid or missing admin key.' });
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
    throw invalidRequest(result.issues);
  };
}

function send(reply: FastifyReply, error: unknown): FastifyReply {
  const response = toErrorResponse(error);
  return reply.code(response.status).headers(response.headers).send(response.body);
}
