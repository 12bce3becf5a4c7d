/**
 * The one table that maps every gateway error to an HTTP status and an OpenAI error body
 * (the tRPC `codes.ts` idea). Anything that reaches a client goes through `toErrorResponse`.
 */
import { type OpenAIErrorBody, OpenFuguError, type OpenFuguErrorCode } from '@openfugu/schema';

/** Client-facing error kinds. Stable: clients match on the `code` they produce. */
export type GatewayErrorKind =
  | 'invalid_json'
  | 'invalid_request'
  | 'model_not_found'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'unauthorized'
  | 'rate_limited'
  | 'budget_exceeded'
  | 'state_unavailable'
  | 'upstream_error'
  | 'no_available_worker'
  | 'timeout'
  | 'client_closed'
  | 'shutting_down'
  | 'internal_error';

interface ErrorRow {
  status: number;
  type: string;
  code: string;
  message: string;
}

/** Status, OpenAI `type`, OpenAI `code` and a safe default message for each kind. */
export const ERROR_TABLE: Readonly<Record<GatewayErrorKind, ErrorRow>> = {
  invalid_json: {
    status: 400,
    type: 'invalid_request_error',
    code: 'invalid_json',
    message: 'Request body is not valid JSON.',
  },
  invalid_request: {
    status: 400,
    type: 'invalid_request_error',
    code: 'invalid_request',
    message: 'Invalid request.',
  },
  model_not_found: {
    status: 404,
    type: 'invalid_request_error',
    code: 'model_not_found',
    message: 'The model does not exist.',
  },
  route_not_found: {
    status: 404,
    type: 'invalid_request_error',
    code: 'not_found',
    message: 'Unknown route.',
  },
  method_not_allowed: {
    status: 405,
    type: 'invalid_request_error',
    code: 'method_not_allowed',
    message: 'Method not allowed.',
  },
  unsupported_media_type: {
    status: 415,
    type: 'invalid_request_error',
    code: 'unsupported_media_type',
    message: 'Content-Type must be application/json.',
  },
  payload_too_large: {
    status: 413,
    type: 'invalid_request_error',
    code: 'payload_too_large',
    message: 'Request body is too large.',
  },
  unauthorized: {
    status: 401,
    type: 'authentication_error',
    code: 'invalid_api_key',
    message: 'Invalid or missing API key.',
  },
  rate_limited: {
    status: 429,
    type: 'rate_limit_error',
    code: 'rate_limit_exceeded',
    message: 'Rate limit exceeded.',
  },
  budget_exceeded: {
    status: 429,
    type: 'insufficient_quota',
    code: 'budget_exceeded',
    message: 'The spend budget of this API key is exhausted.',
  },
  state_unavailable: {
    status: 503,
    type: 'api_error',
    code: 'state_unavailable',
    message: 'The shared state is unreachable; try again shortly.',
  },
  upstream_error: {
    status: 502,
    type: 'api_error',
    code: 'upstream_error',
    message: 'The upstream model failed to answer.',
  },
  no_available_worker: {
    status: 503,
    type: 'api_error',
    code: 'no_available_worker',
    message: 'No upstream model is available right now.',
  },
  timeout: { status: 504, type: 'api_error', code: 'timeout', message: 'The request timed out.' },
  client_closed: {
    status: 499,
    type: 'api_error',
    code: 'client_closed_request',
    message: 'The client closed the request.',
  },
  shutting_down: {
    status: 503,
    type: 'api_error',
    code: 'shutting_down',
    message: 'The server is shutting down.',
  },
  internal_error: {
    status: 500,
    type: 'api_error',
    code: 'internal_error',
    message: 'Internal server error.',
  },
};

/** Which client-facing kind each OpenFugu error code becomes. */
const KIND_OF_CODE: Readonly<Record<OpenFuguErrorCode, GatewayErrorKind>> = {
  invalid_argument: 'invalid_request',
  invalid_schema: 'invalid_request',
  parse_error: 'invalid_json',
  shape_mismatch: 'internal_error',
  not_found: 'model_not_found',
  no_available_worker: 'no_available_worker',
  upstream_error: 'upstream_error',
  timeout: 'timeout',
  aborted: 'client_closed',
  rate_limited: 'rate_limited',
  unauthorized: 'unauthorized',
  config_error: 'internal_error',
  internal_error: 'internal_error',
};

/**
 * An error meant for the client: its message is safe to show (no worker ids, no upstream names).
 *
 * @example
 * ```ts
 * throw new GatewayError({ kind: 'model_not_found', message: "The model 'x' does not exist.", param: 'model' });
 * ```
 */
export class GatewayError extends OpenFuguError {
  readonly kind: GatewayErrorKind;
  readonly param: string | null;
  /** Seconds for a `Retry-After` header (rate limits). */
  readonly retryAfterSeconds: number | undefined;
  constructor(options: {
    kind: GatewayErrorKind;
    message?: string;
    param?: string | null;
    retryAfterSeconds?: number;
    cause?: unknown;
  }) {
    const row = ERROR_TABLE[options.kind];
    super({ code: codeOfKind(options.kind), message: options.message ?? row.message, cause: options.cause });
    this.name = 'GatewayError';
    this.kind = options.kind;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

function codeOfKind(kind: GatewayErrorKind): OpenFuguErrorCode {
  switch (kind) {
    case 'invalid_json':
      return 'parse_error';
    case 'invalid_request':
    case 'route_not_found':
    case 'method_not_allowed':
    case 'unsupported_media_type':
    case 'payload_too_large':
      return 'invalid_argument';
    case 'model_not_found':
      return 'not_found';
    case 'unauthorized':
      return 'unauthorized';
    case 'rate_limited':
    case 'budget_exceeded':
      return 'rate_limited';
    case 'upstream_error':
      return 'upstream_error';
    case 'no_available_worker':
      return 'no_available_worker';
    case 'timeout':
      return 'timeout';
    case 'client_closed':
      return 'aborted';
    default:
      return 'internal_error';
  }
}

/** A client-facing error response: HTTP status, headers and the OpenAI body. */
export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: OpenAIErrorBody;
}

/** Fastify's own error codes that we answer with a specific kind. */
const FASTIFY_KINDS: Readonly<Record<string, GatewayErrorKind>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
};

/**
 * Turns anything thrown while serving a request into a safe OpenAI error response.
 * Upstream messages, worker ids and stack traces never reach the client: the message is the
 * table's message unless the error is a `GatewayError` (whose message is written to be shown).
 *
 * @example
 * ```ts
 * const { status, body } = toErrorResponse(new TimeoutError({ message: 'x', timeoutMs: 5 })); // 504
 * ```
 */
export function toErrorResponse(error: unknown): ErrorResponse {
  let kind: GatewayErrorKind = 'internal_error';
  let message: string | undefined;
  let param: string | null = null;
  const headers: Record<string, string> = {};
  if (error instanceof GatewayError || (OpenFuguError.isInstance(error) && 'kind' in error)) {
    const gatewayError = error as GatewayError;
    kind = gatewayError.kind;
    message = gatewayError.message;
    param = gatewayError.param;
    if (gatewayError.retryAfterSeconds !== undefined) {
      headers['retry-after'] = String(Math.max(1, Math.ceil(gatewayError.retryAfterSeconds)));
    }
  } else if (OpenFuguError.isInstance(error)) {
    kind = KIND_OF_CODE[error.code];
    if (kind === 'upstream_error' && faultOf(error) === 'request') {
      // The upstream refused the request itself (400-class): the client's fault, said without the upstream's text.
      kind = 'invalid_request';
      message = 'The model rejected the request as invalid.';
    }
  } else if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code in FASTIFY_KINDS) kind = FASTIFY_KINDS[code]!;
    else if ((error as { statusCode?: unknown }).statusCode === 413) kind = 'payload_too_large';
    else if ((error as { name?: unknown }).name === 'SyntaxError') kind = 'invalid_json';
  }
  const row = ERROR_TABLE[kind];
  return {
    status: row.status,
    headers,
    body: { error: { message: message ?? row.message, type: row.type, code: row.code, param } },
  };
}

/** Who a failed worker call is the fault of (see `faultOf`). */
export type Fault = 'upstream' | 'request' | 'aborted';

/** Upstream HTTP statuses that say the request itself is bad (not the upstream's health). */
const REQUEST_FAULT_STATUSES = new Set([400, 413, 415, 422]);

/** OpenFugu codes raised for a request the gateway or a worker could not even send. */
const REQUEST_FAULT_CODES = new Set(['invalid_argument', 'invalid_schema', 'parse_error', 'not_found']);

/**
 * Classifies a failed worker call. Only `upstream` faults (connection errors, 5xx, 429, timeouts, malformed
 * upstream answers, unknown errors of a plain worker) count against the worker's health and are retried on other
 * workers. `request` faults (the upstream's 400/413/415/422, a body that cannot be serialised, anything the
 * request would make every worker fail on) never count and are never retried elsewhere; `aborted` neither.
 */
export function faultOf(error: unknown): Fault {
  if (OpenFuguError.hasCode(error, 'aborted')) return 'aborted';
  if (OpenFuguError.hasCode(error, 'upstream_error')) {
    const status = (error as { statusCode?: number }).statusCode;
    return status !== undefined && REQUEST_FAULT_STATUSES.has(status) ? 'request' : 'upstream';
  }
  if (OpenFuguError.isInstance(error)) return REQUEST_FAULT_CODES.has(error.code) ? 'request' : 'upstream';
  // A plain worker's own error: a stack overflow or an unserialisable value comes from the request's shape.
  if (error instanceof RangeError) return 'request';
  return 'upstream';
}
