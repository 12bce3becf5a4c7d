/**
 * Validation of tool calls against their tool specs with ajv. Each tool's parameter schema is compiled
 * once, when the validator is created, and kept in the returned object: reuse it.
 *
 * Accepted tool shapes: OpenAI function tools (`{type: 'function', function: {name, parameters}}`),
 * bare functions (`{name, parameters}`, as in BFCL). Schema dialects: draft-07 (default), 2019-09 and
 * 2020-12 (chosen from `$schema` or from the keywords used, e.g. `prefixItems`), draft-04's boolean
 * `exclusiveMinimum/Maximum`, and BFCL's own type names (`dict`, `float`, `tuple`, `any`, Java/JS types).
 */
import type { ToolCall, ToolSpec, ValidationIssue } from '@openfugu/schema';
import { createAjv, issueFromAjvError } from '@openfugu/schema';
import type { Ajv, Options as AjvOptions, ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** A tool as accepted by {@link createToolValidator}: OpenAI form or a bare `{name, parameters}`. */
export type ToolDefinition =
  | ToolSpec
  | {
      name: string;
      description?: string | undefined;
      parameters?: Record<string, unknown> | undefined;
      strict?: boolean | null | undefined;
    };

/** Options of {@link createToolValidator}. */
export interface ToolValidatorOptions {
  /**
   * Report parameters a schema does not declare (`unexpected_param`) on every object schema that lists
   * `properties` and says nothing about `additionalProperties`. Default false; tools marked
   * `strict: true` (OpenAI structured outputs) get it regardless.
   */
  readonly strict?: boolean;
  /**
   * BFCL language of bare-function tools: in `java` and `javascript`, each argument is a string holding a
   * literal of that language, so every top-level parameter is validated as a string. Default `python`.
   */
  readonly bfclLanguage?: 'python' | 'java' | 'javascript';
}

/** Outcome of validating one call. */
export type CallValidation = { ok: true } | { ok: false; issues: ValidationIssue[] };

/** Compiled validators for one tool set. */
export interface ToolValidator {
  /** Names of the tools, in the order given. */
  readonly toolNames: readonly string[];
  /** Tools whose schema ajv could not compile, with the reason (calls to them get `invalid_tool_schema`). */
  readonly schemaErrors: ReadonlyArray<{ tool: string; message: string }>;
  /** True when `name` is a tool of this set. */
  has(name: string): boolean;
  /** The normalised JSON Schema a tool's arguments are checked against. */
  schemaOf(name: string): Record<string, unknown> | undefined;
  /** Validates one call; issue paths start at the call (`/name`, `/arguments/...`). */
  validate(call: Pick<ToolCall, 'name' | 'arguments'>): CallValidation;
  /** Validates a list of calls; issue paths start with the call index (`/0/arguments/...`). */
  validateAll(calls: ReadonlyArray<Pick<ToolCall, 'name' | 'arguments'>>): CallValidation;
}

const BFCL_TYPES: Record<string, string | null> = {
  dict: 'object',
  object: 'object',
  hashmap: 'object',
  map: 'object',
  float: 'number',
  double: 'number',
  number: 'number',
  tuple: 'array',
  array: 'array',
  arraylist: 'array',
  list: 'array',
  integer: 'integer',
  int: 'integer',
  long: 'integer',
  short: 'integer',
  byte: 'integer',
  string: 'string',
  str: 'string',
  char: 'string',
  boolean: 'boolean',
  bool: 'boolean',
  null: 'null',
  any: null,
  '': null,
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_KEYWORDS = [
  'items',
  'additionalItems',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedProperties',
  'unevaluatedItems',
];

/** Maps BFCL / Java / JS type names to JSON Schema and fixes draft-04 idioms; returns a copy. */
function normaliseSchema(schema: unknown, strict: boolean, depth = 0): unknown {
  if (!isRecord(schema) || depth > 64) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema') continue;
    if (SCHEMA_MAP_KEYWORDS.includes(key) && isRecord(value)) {
      const mapped: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value)) mapped[name] = normaliseSchema(sub, strict, depth + 1);
      out[key] = mapped;
    } else if (SCHEMA_LIST_KEYWORDS.includes(key) && Array.isArray(value)) {
      out[key] = value.map((sub) => normaliseSchema(sub, strict, depth + 1));
    } else if (SCHEMA_KEYWORDS.includes(key)) {
      out[key] = Array.isArray(value)
        ? value.map((sub) => normaliseSchema(sub, strict, depth + 1))
        : normaliseSchema(value, strict, depth + 1);
    } else out[key] = value;
  }
  const type = out.type;
  if (typeof type === 'string' || Array.isArray(type)) {
    const names = (Array.isArray(type) ? type : [type]).map((name) =>
      typeof name === 'string' && name.toLowerCase() in BFCL_TYPES ? BFCL_TYPES[name.toLowerCase()] : name,
    );
    if (names.includes(null)) delete out.type;
    else {
      const unique = [...new Set(names)];
      out.type = unique.length === 1 ? unique[0] : unique;
    }
  }
  // draft-04: boolean exclusiveMinimum/Maximum modify minimum/maximum
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof out[flag] === 'boolean') {
      if (out[flag] === true && typeof out[bound] === 'number') {
        out[flag] = out[bound];
        delete out[bound];
      } else delete out[flag];
    }
  }
  // BFCL writes `"optional": true` and `"default"` on properties; ajv ignores unknown keywords (strict off)
  if (strict && isRecord(out.properties) && !('additionalProperties' in out))
    out.additionalProperties = false;
  return out;
}

type Dialect = 'draft-07' | '2019-09' | '2020-12';

function dialectOf(schema: unknown): Dialect {
  if (isRecord(schema) && typeof schema.$schema === 'string') {
    if (schema.$schema.includes('2020-12')) return '2020-12';
    if (schema.$schema.includes('2019-09')) return '2019-09';
    return 'draft-07';
  }
  let found: Dialect = 'draft-07';
  const stack: unknown[] = [schema];
  let visited = 0;
  while (stack.length > 0 && visited++ < 10_000) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (isRecord(node)) {
      if ('prefixItems' in node || '$dynamicRef' in node || '$dynamicAnchor' in node) return '2020-12';
      for (const keyword of [
        'unevaluatedProperties',
        'unevaluatedItems',
        'dependentRequired',
        'dependentSchemas',
        'minContains',
        'maxContains',
        '$recursiveRef',
      ]) {
        if (keyword in node) found = '2019-09';
      }
      for (const value of Object.values(node))
        if (typeof value === 'object' && value !== null) stack.push(value);
    }
  }
  return found;
}

function toolOf(tool: ToolDefinition): { name: string; parameters: unknown; strict: boolean } | undefined {
  const record: unknown = tool;
  if (!isRecord(record)) return undefined;
  const fn = isRecord(record.function) ? record.function : record;
  if (typeof fn.name !== 'string') return undefined;
  return { name: fn.name, parameters: fn.parameters, strict: fn.strict === true };
}

const validatorCache = new WeakMap<object, Map<string, ToolValidator>>();

/**
 * Compiles a validator per tool (once) and returns an object that checks calls against them.
 * Calling it again with the same tools array and options returns the same object.
 *
 * Issue codes: `unknown_tool`, `missing_required`, `unexpected_param`, `type_mismatch`, `enum_mismatch`,
 * `invalid_tool_schema`, and `schema_<keyword>` for other JSON Schema keywords (e.g. `schema_minimum`).
 *
 * @example
 * ```ts
 * const tools = createToolValidator(JSON.parse(toolsJson));
 * tools.validate({ name: 'get_user_details', arguments: {} });
 * // { ok: false, issues: [{ code: 'missing_required', path: '/arguments/user_id', message: ... }] }
 * ```
 */
export function createToolValidator(
  tools: readonly ToolDefinition[],
  options: ToolValidatorOptions = {},
): ToolValidator {
  const key = `${options.strict === true}|${options.bfclLanguage ?? 'python'}`;
  const cached = validatorCache.get(tools)?.get(key);
  if (cached) return cached;

  const ajvs = new Map<Dialect, Ajv>();
  const ajvOptions: AjvOptions = {
    allErrors: true,
    strict: false,
    allowUnionTypes: true,
    validateFormats: false,
  };
  const ajvFor = (dialect: Dialect): Ajv => {
    let ajv = ajvs.get(dialect);
    if (!ajv) {
      ajv =
        dialect === '2020-12'
          ? (new Ajv2020(ajvOptions) as unknown as Ajv)
          : dialect === '2019-09'
            ? (new Ajv2019(ajvOptions) as unknown as Ajv)
            : createAjv(ajvOptions);
      ajvs.set(dialect, ajv);
    }
    return ajv;
  };

  const compiled = new Map<
    string,
    { check: ValidateFunction | undefined; schema: Record<string, unknown>; error?: string }
  >();
  const schemaErrors: Array<{ tool: string; message: string }> = [];
  const names: string[] = [];
  for (const tool of tools) {
    const info = toolOf(tool);
    if (!info) {
      schemaErrors.push({ tool: '', message: 'a tool has no name' });
      continue;
    }
    names.push(info.name);
    let parameters: unknown = info.parameters ?? { type: 'object', properties: {} };
    if (options.bfclLanguage === 'java' || options.bfclLanguage === 'javascript') {
      if (isRecord(parameters) && isRecord(parameters.properties)) {
        const properties: Record<string, unknown> = {};
        for (const name of Object.keys(parameters.properties)) properties[name] = { type: 'string' };
        parameters = { ...parameters, properties };
      }
    }
    const schema = normaliseSchema(parameters, options.strict === true || info.strict) as Record<
      string,
      unknown
    >;
    try {
      const check = ajvFor(dialectOf(parameters)).compile(schema);
      compiled.set(info.name, { check, schema });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      schemaErrors.push({ tool: info.name, message });
      compiled.set(info.name, { check: undefined, schema, error: message });
    }
  }

  const validate = (call: Pick<ToolCall, 'name' | 'arguments'>): CallValidation => {
    const entry = typeof call?.name === 'string' ? compiled.get(call.name) : undefined;
    if (!entry) {
      return {
        ok: false,
        issues: [
          {
            code: 'unknown_tool',
            path: '/name',
            message: `no tool named '${String(call?.name).slice(0, 100)}'`,
          },
        ],
      };
    }
    if (!entry.check) {
      return {
        ok: false,
        issues: [
          {
            code: 'invalid_tool_schema',
            path: '/name',
            message: `tool schema does not compile: ${entry.error}`,
          },
        ],
      };
    }
    const args = call.arguments;
    if (!isRecord(args)) {
      return {
        ok: false,
        issues: [{ code: 'type_mismatch', path: '/arguments', message: 'arguments must be an object' }],
      };
    }
    if (entry.check(args)) return { ok: true };
    return {
      ok: false,
      issues: (entry.check.errors ?? []).map((error) => {
        const issue = issueFromAjvError(error);
        return { ...issue, path: `/arguments${issue.path}` };
      }),
    };
  };

  const validator: ToolValidator = {
    toolNames: names,
    schemaErrors,
    has: (name) => compiled.has(name),
    schemaOf: (name) => compiled.get(name)?.schema,
    validate,
    validateAll(calls) {
      const issues: ValidationIssue[] = [];
      calls.forEach((call, index) => {
        const result = validate(call);
        if (!result.ok)
          for (const issue of result.issues) issues.push({ ...issue, path: `/${index}${issue.path}` });
      });
      return issues.length === 0 ? { ok: true } : { ok: false, issues };
    },
  };
  let perTools = validatorCache.get(tools);
  if (!perTools) {
    perTools = new Map();
    validatorCache.set(tools, perTools);
  }
  perTools.set(key, validator);
  return validator;
}
