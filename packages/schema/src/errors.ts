/**
 * The error base class shared by every OpenFugu package.
 *
 * `instanceof` breaks when two copies of a package are installed (each has its own class object),
 * so each error carries a `Symbol.for` marker and `OpenFuguError.isInstance(value)` checks the marker
 * instead. Pattern from the Vercel AI SDK's `AISDKError`.
 */

const marker = 'openfugu.error';
const symbol = Symbol.for(marker);

/** Stable, machine-readable error codes. Never rename one: users match on them. */
export type OpenFuguErrorCode =
  | 'invalid_argument'
  | 'invalid_schema'
  | 'parse_error'
  | 'shape_mismatch'
  | 'not_found'
  | 'no_available_worker'
  | 'upstream_error'
  | 'timeout'
  | 'aborted'
  | 'rate_limited'
  | 'unauthorized'
  | 'config_error'
  | 'internal_error';

/** Settings accepted by every OpenFugu error constructor. */
export interface OpenFuguErrorOptions {
  /** Stable machine-readable code. */
  code: OpenFuguErrorCode;
  /** Human-readable message; never contains secrets or upstream identities. */
  message: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Base class of every error thrown by an OpenFugu package.
 *
 * @example
 * ```ts
 * try { head.route(x) } catch (error) {
 *   if (OpenFuguError.isInstance(error) && error.code === 'no_available_worker') { ... }
 * }
 * ```
 */
export class OpenFuguError extends Error {
  protected readonly [symbol] = true;
  /** Stable machine-readable code. */
  readonly code: OpenFuguErrorCode;

  constructor({ code, message, cause }: OpenFuguErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'OpenFuguError';
    this.code = code;
  }

  /** True for any OpenFugu error, even one created by a different installed copy of this package. */
  static isInstance(value: unknown): value is OpenFuguError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[symbol] === true;
  }

  /** True when `value` is an OpenFugu error with the given code. */
  static hasCode(value: unknown, code: OpenFuguErrorCode): value is OpenFuguError {
    return OpenFuguError.isInstance(value) && value.code === code;
  }
}

/** An argument a caller passed is invalid (programmer error). */
export class InvalidArgumentError extends OpenFuguError {
  /** Name of the offending argument or field path. */
  readonly argument: string;
  constructor(options: { argument: string; message: string; cause?: unknown }) {
    super({ code: 'invalid_argument', message: options.message, cause: options.cause });
    this.name = 'InvalidArgumentError';
    this.argument = options.argument;
  }
}

/** A value failed validation against a JSON Schema; `issues` lists every problem found. */
export class SchemaValidationError extends OpenFuguError {
  readonly issues: readonly ValidationIssue[];
  constructor(options: { message: string; issues: readonly ValidationIssue[]; cause?: unknown }) {
    super({ code: 'invalid_schema', message: options.message, cause: options.cause });
    this.name = 'SchemaValidationError';
    this.issues = options.issues;
  }
}

/** A tensor, vector or table had the wrong shape (e.g. a router head of the wrong size). */
export class ShapeMismatchError extends OpenFuguError {
  readonly expected: string;
  readonly actual: string;
  constructor(options: { message: string; expected: string; actual: string; cause?: unknown }) {
    super({ code: 'shape_mismatch', message: options.message, cause: options.cause });
    this.name = 'ShapeMismatchError';
    this.expected = options.expected;
    this.actual = options.actual;
  }
}

/** A call to an upstream model (a `Worker`) failed. */
export class UpstreamError extends OpenFuguError {
  /** HTTP status from the upstream, when there was one. */
  readonly statusCode: number | undefined;
  /** Whether retrying the same call may succeed (429, 5xx, connection errors). */
  readonly isRetryable: boolean;
  /** Id of the worker that failed. Internal: never put it in a client-facing message. */
  readonly workerId: string | undefined;
  constructor(options: {
    message: string;
    statusCode?: number;
    isRetryable?: boolean;
    workerId?: string;
    cause?: unknown;
  }) {
    super({ code: 'upstream_error', message: options.message, cause: options.cause });
    this.name = 'UpstreamError';
    this.statusCode = options.statusCode;
    this.isRetryable =
      options.isRetryable ??
      (options.statusCode === undefined || options.statusCode === 429 || options.statusCode >= 500);
    this.workerId = options.workerId;
  }
}

/** An operation ran past its deadline. */
export class TimeoutError extends OpenFuguError {
  readonly timeoutMs: number;
  constructor(options: { message: string; timeoutMs: number; cause?: unknown }) {
    super({ code: 'timeout', message: options.message, cause: options.cause });
    this.name = 'TimeoutError';
    this.timeoutMs = options.timeoutMs;
  }
}

/** The caller aborted the operation through an `AbortSignal`. */
export class AbortedError extends OpenFuguError {
  constructor(options: { message?: string; cause?: unknown } = {}) {
    super({
      code: 'aborted',
      message: options.message ?? 'The operation was aborted.',
      cause: options.cause,
    });
    this.name = 'AbortedError';
  }
}

/** No worker is available to serve a request (all masked, cooling down or failing). */
export class NoAvailableWorkerError extends OpenFuguError {
  constructor(options: { message: string; cause?: unknown }) {
    super({ code: 'no_available_worker', message: options.message, cause: options.cause });
    this.name = 'NoAvailableWorkerError';
  }
}

/** One problem found when validating or parsing a value. Expected failures are values, not throws. */
export interface ValidationIssue {
  /** Stable machine-readable code, e.g. `missing_required`, `type_mismatch`. */
  code: string;
  /** JSON-pointer-like path to the offending value (`/messages/0/role`); `''` for the root. */
  path: string;
  /** Human-readable explanation. */
  message: string;
}
