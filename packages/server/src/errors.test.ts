import {
  AbortedError,
  NoAvailableWorkerError,
  OpenFuguError,
  SchemaValidationError,
  TimeoutError,
  UpstreamError,
} from '@openfugu/schema';
import { describe, expect, it } from 'vitest';
import { ERROR_TABLE, faultOf, GatewayError, toErrorResponse } from './errors.js';
import { createKeyMatcher, createRateLimiter } from './rate-limit.js';

describe('toErrorResponse', () => {
  it.each([
    [
      new UpstreamError({ message: 'secret upstream sim-x said no', statusCode: 500, workerId: 'w' }),
      502,
      'upstream_error',
    ],
    [new TimeoutError({ message: 'x', timeoutMs: 1 }), 504, 'timeout'],
    [new UpstreamError({ message: 'secret', statusCode: 400, workerId: 'w' }), 400, 'invalid_request'],
    [new NoAvailableWorkerError({ message: 'x' }), 503, 'no_available_worker'],
    [new SchemaValidationError({ message: 'x', issues: [] }), 400, 'invalid_request'],
    [new AbortedError(), 499, 'client_closed_request'],
    [new OpenFuguError({ code: 'config_error', message: 'x' }), 500, 'internal_error'],
    [new Error('boom at /src/x.ts:1'), 500, 'internal_error'],
    [Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 413, 'payload_too_large'],
    [new GatewayError({ kind: 'rate_limited', retryAfterSeconds: 1.2 }), 429, 'rate_limit_exceeded'],
  ])('%s → %i', (error, status, code) => {
    const response = toErrorResponse(error);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    // Only table messages (or a GatewayError's own) reach the client: never upstream text or stacks.
    expect(response.body.error.message).not.toMatch(/sim-x|\.ts:|boom/);
  });

  it('sets Retry-After on rate limits', () => {
    expect(
      toErrorResponse(new GatewayError({ kind: 'rate_limited', retryAfterSeconds: 1.2 })).headers[
        'retry-after'
      ],
    ).toBe('2');
  });

  it('has one row per kind with an OpenAI type', () => {
    // `insufficient_quota` is OpenAI's own type for an exhausted quota (the one exception to `*_error`).
    for (const row of Object.values(ERROR_TABLE)) expect(row.type).toMatch(/_error$|^insufficient_quota$/);
  });
});

describe('rate limiter and key matcher', () => {
  it('token bucket: burst, then refill at the sustained rate', () => {
    let now = 0;
    const limiter = createRateLimiter(() => now);
    const limit = { requestsPerMinute: 60, burst: 2 };
    expect(limiter.take('k', limit)).toBe(0);
    expect(limiter.take('k', limit)).toBe(0);
    expect(limiter.take('k', limit)).toBeCloseTo(1, 6);
    now = 1_000;
    expect(limiter.take('k', limit)).toBe(0);
    expect(limiter.take('other', limit)).toBe(0);
  });

  it('matches keys exactly (prefixes, case and length differences fail)', () => {
    const match = createKeyMatcher([
      { key: 'sk-abc', name: 'a' },
      { key: 'sk-xyz', name: 'b' },
    ]);
    expect(match('sk-xyz')?.name).toBe('b');
    expect(match('sk-ab')).toBeUndefined();
    expect(match('SK-ABC')).toBeUndefined();
    expect(match('sk-abcd')).toBeUndefined();
    expect(match('')).toBeUndefined();
  });
});

describe('faultOf', () => {
  it.each([
    [new UpstreamError({ message: 'x', statusCode: 500 }), 'upstream'],
    [new UpstreamError({ message: 'x', statusCode: 429 }), 'upstream'],
    [new UpstreamError({ message: 'connection failed' }), 'upstream'],
    [new TimeoutError({ message: 'x', timeoutMs: 1 }), 'upstream'],
    [new Error('socket hang up'), 'upstream'],
    [new UpstreamError({ message: 'x', statusCode: 400 }), 'request'],
    [new UpstreamError({ message: 'x', statusCode: 422 }), 'request'],
    [new OpenFuguError({ code: 'invalid_argument', message: 'cannot serialise' }), 'request'],
    [new RangeError('Maximum call stack size exceeded'), 'request'],
    [new AbortedError(), 'aborted'],
  ])('%s → %s', (error, fault) => {
    expect(faultOf(error)).toBe(fault);
  });
});
