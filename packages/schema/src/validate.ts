/**
 * ajv-backed validation of TypeBox schemas. Expected failures are values: `{ ok: false, issues }`.
 *
 * Why TypeBox + ajv: TypeBox gives the static type and the JSON Schema from one declaration (no drift),
 * and the schema is plain JSON Schema, so ajv (the fastest, best-kept validator of the field) compiles it
 * to code, and the same schema can be published for non-TypeScript users.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { ValidationIssue } from './errors.js';
import { SchemaValidationError } from './errors.js';

/** Result of a validation: the typed value, or every issue found. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** A compiled validator for one schema. */
export interface Validator<T> {
  /** Validate without throwing. */
  validate(value: unknown): ValidationResult<T>;
  /** Validate and return the typed value, or throw a `SchemaValidationError` listing the issues. */
  parse(value: unknown, what?: string): T;
}

/** Creates an ajv instance configured the way OpenFugu validates wire data (all errors, strict off). */
export function createAjv(options: Options = {}): Ajv {
  return new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, ...options });
}

/** Maps an ajv error to a stable OpenFugu issue. */
export function issueFromAjvError(error: ErrorObject): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return {
        code: 'missing_required',
        path: `${error.instancePath}/${String(params.missingProperty)}`,
        message: `missing required property '${String(params.missingProperty)}'`,
      };
    case 'additionalProperties':
      return {
        code: 'unexpected_param',
        path: `${error.instancePath}/${String(params.additionalProperty)}`,
        message: `unexpected property '${String(params.additionalProperty)}'`,
      };
    case 'type':
      return { code: 'type_mismatch', path: error.instancePath, message: `must be ${String(params.type)}` };
    case 'enum':
    case 'const':
      return {
        code: 'enum_mismatch',
        path: error.instancePath,
        message: error.message ?? 'not an allowed value',
      };
    default:
      return {
        code: `schema_${error.keyword}`,
        path: error.instancePath,
        message: error.message ?? error.keyword,
      };
  }
}

/**
 * Compiles `schema` once and returns a validator. Keep the returned object; compiling is the slow part.
 *
 * @example
 * ```ts
 * const requests = createValidator(ChatCompletionRequestSchema);
 * const result = requests.validate(body); // { ok: true, value } | { ok: false, issues }
 * ```
 */
export function createValidator<S extends TSchema>(schema: S, ajv: Ajv = createAjv()): Validator<Static<S>> {
  const check = ajv.compile(schema);
  const validate = (value: unknown): ValidationResult<Static<S>> => {
    if (check(value)) return { ok: true, value: value as Static<S> };
    return { ok: false, issues: (check.errors ?? []).map(issueFromAjvError) };
  };
  return {
    validate,
    parse(value, what = 'value') {
      const result = validate(value);
      if (result.ok) return result.value;
      const first = result.issues[0];
      throw new SchemaValidationError({
        message: `Invalid ${what}: ${first ? `${first.path || '/'} ${first.message}` : 'failed validation'}`,
        issues: result.issues,
      });
    },
  };
}
