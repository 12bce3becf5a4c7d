import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GoldAction, ToolSpec } from '@openfugu/schema';
import { describeWithData } from '@openfugu/vitest-config/data';
import { describe, expect, it } from 'vitest';
import { createToolValidator, type ToolDefinition } from './validate.js';

const codes = (result: ReturnType<ReturnType<typeof createToolValidator>['validate']>): string[] =>
  result.ok ? [] : result.issues.map((issue) => `${issue.code} ${issue.path}`);

const weather: ToolSpec = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['c', 'f'] },
        days: { type: 'integer', minimum: 1 },
      },
      required: ['city'],
    },
  },
};

describe('createToolValidator', () => {
  it('accepts a valid call and reports each kind of issue with a path', () => {
    const tools = createToolValidator([weather]);
    expect(tools.validate({ name: 'get_weather', arguments: { city: 'Paris', unit: 'c' } })).toEqual({
      ok: true,
    });
    expect(codes(tools.validate({ name: 'get_wether', arguments: {} }))).toEqual(['unknown_tool /name']);
    expect(codes(tools.validate({ name: 'get_weather', arguments: {} }))).toEqual([
      'missing_required /arguments/city',
    ]);
    expect(codes(tools.validate({ name: 'get_weather', arguments: { city: 3 } }))).toEqual([
      'type_mismatch /arguments/city',
    ]);
    expect(codes(tools.validate({ name: 'get_weather', arguments: { city: 'x', unit: 'k' } }))).toEqual([
      'enum_mismatch /arguments/unit',
    ]);
    expect(codes(tools.validate({ name: 'get_weather', arguments: { city: 'x', days: 0 } }))).toEqual([
      'schema_minimum /arguments/days',
    ]);
    // extra params are fine unless the schema or the options say otherwise
    expect(tools.validate({ name: 'get_weather', arguments: { city: 'x', extra: 1 } }).ok).toBe(true);
    const strict = createToolValidator([weather], { strict: true });
    expect(codes(strict.validate({ name: 'get_weather', arguments: { city: 'x', extra: 1 } }))).toEqual([
      'unexpected_param /arguments/extra',
    ]);
  });

  it('honours OpenAI strict tools and additionalProperties: false', () => {
    const strictTool: ToolSpec = {
      type: 'function',
      function: { ...weather.function, name: 's', strict: true },
    };
    const closed: ToolDefinition = {
      name: 'c',
      parameters: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
    };
    const tools = createToolValidator([strictTool, closed]);
    expect(codes(tools.validate({ name: 's', arguments: { city: 'x', b: 1 } }))).toEqual([
      'unexpected_param /arguments/b',
    ]);
    expect(codes(tools.validate({ name: 'c', arguments: { b: 1 } }))).toEqual([
      'unexpected_param /arguments/b',
    ]);
  });

  it('validates lists of calls with indexed paths', () => {
    const tools = createToolValidator([weather]);
    const result = tools.validateAll([
      { name: 'get_weather', arguments: { city: 'a' } },
      { name: 'get_weather', arguments: {} },
    ]);
    expect(codes(result)).toEqual(['missing_required /1/arguments/city']);
  });

  it('compiles once per tool set and options (cached object)', () => {
    const list = [weather];
    expect(createToolValidator(list)).toBe(createToolValidator(list));
    expect(createToolValidator(list, { strict: true })).not.toBe(createToolValidator(list));
  });

  it('understands draft-07, 2019-09 and 2020-12 keywords and draft-04 boolean exclusive bounds', () => {
    const tools = createToolValidator([
      {
        name: 'tuple07',
        parameters: {
          type: 'object',
          properties: {
            p: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }], additionalItems: false },
          },
        },
      },
      {
        name: 'tuple2020',
        parameters: {
          type: 'object',
          properties: {
            p: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false },
          },
        },
      },
      {
        name: 'dependent',
        parameters: { type: 'object', properties: { a: {}, b: {} }, dependentRequired: { a: ['b'] } },
      },
      {
        name: 'unevaluated',
        parameters: {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          type: 'object',
          allOf: [{ properties: { a: {} } }],
          unevaluatedProperties: false,
        },
      },
      {
        name: 'defs',
        parameters: {
          type: 'object',
          $defs: { s: { type: 'string' } },
          properties: { a: { $ref: '#/$defs/s' } },
        },
      },
      {
        name: 'draft04',
        parameters: {
          $schema: 'http://json-schema.org/draft-04/schema#',
          type: 'object',
          properties: { n: { type: 'number', maximum: 5, exclusiveMaximum: true } },
        },
      },
    ]);
    expect(tools.schemaErrors).toEqual([]);
    for (const name of ['tuple07', 'tuple2020']) {
      expect(tools.validate({ name, arguments: { p: ['a', 1] } }).ok).toBe(true);
      expect(tools.validate({ name, arguments: { p: [1, 'a'] } }).ok).toBe(false);
      expect(tools.validate({ name, arguments: { p: ['a', 1, 2] } }).ok).toBe(false);
    }
    expect(tools.validate({ name: 'dependent', arguments: { a: 1 } }).ok).toBe(false);
    expect(tools.validate({ name: 'dependent', arguments: { a: 1, b: 2 } }).ok).toBe(true);
    expect(tools.validate({ name: 'unevaluated', arguments: { a: 1 } }).ok).toBe(true);
    expect(codes(tools.validate({ name: 'unevaluated', arguments: { a: 1, z: 2 } }))).toEqual([
      'schema_unevaluatedProperties /arguments',
    ]);
    expect(codes(tools.validate({ name: 'defs', arguments: { a: 1 } }))).toEqual([
      'type_mismatch /arguments/a',
    ]);
    expect(tools.validate({ name: 'draft04', arguments: { n: 4.9 } }).ok).toBe(true);
    expect(tools.validate({ name: 'draft04', arguments: { n: 5 } }).ok).toBe(false);
  });

  it("maps BFCL's own types (dict, float, tuple, any, Java/JS names)", () => {
    const tools = createToolValidator([
      {
        name: 'math.area',
        parameters: {
          type: 'dict',
          properties: {
            r: { type: 'float' },
            pair: { type: 'tuple', items: { type: 'integer' } },
            anything: { type: 'any' },
            opts: { type: 'dict', properties: { unit: { type: 'String' } } },
            count: { type: 'long' },
          },
          required: ['r'],
        },
      },
    ]);
    expect(tools.schemaOf('math.area')).toMatchObject({
      type: 'object',
      properties: { r: { type: 'number' }, pair: { type: 'array' } },
    });
    expect(
      tools.validate({
        name: 'math.area',
        arguments: { r: 2, pair: [1, 2], anything: [{}], opts: { unit: 'm' }, count: 3 },
      }).ok,
    ).toBe(true);
    expect(codes(tools.validate({ name: 'math.area', arguments: { r: '2' } }))).toEqual([
      'type_mismatch /arguments/r',
    ]);
    expect(codes(tools.validate({ name: 'math.area', arguments: { r: 1, opts: { unit: 1 } } }))).toEqual([
      'type_mismatch /arguments/opts/unit',
    ]);
    const java = createToolValidator(
      [{ name: 'j', parameters: { type: 'dict', properties: { n: { type: 'long' } } } }],
      { bfclLanguage: 'java' },
    );
    expect(java.validate({ name: 'j', arguments: { n: '5L' } }).ok).toBe(true);
  });

  it('reports a tool whose schema does not compile instead of throwing', () => {
    const tools = createToolValidator([
      { name: 'bad', parameters: { type: 'object', properties: { a: { $ref: '#/nowhere' } } } },
    ]);
    expect(tools.schemaErrors).toHaveLength(1);
    expect(codes(tools.validate({ name: 'bad', arguments: {} }))).toEqual(['invalid_tool_schema /name']);
  });
});

describeWithData('tau2 reference actions against tools.json', ['tau2'], (dir) => {
  for (const domain of ['airline', 'retail']) {
    it(`validates every ${domain} reference action, and rejects perturbed ones`, () => {
      const tools = JSON.parse(readFileSync(path.join(dir, domain, 'tools.json'), 'utf8')) as ToolSpec[];
      const tasks = JSON.parse(readFileSync(path.join(dir, domain, 'tasks.json'), 'utf8')) as Array<{
        evaluation_criteria?: { actions?: GoldAction[] | null } | null;
      }>;
      const validator = createToolValidator(tools, { strict: true });
      const actions = tasks.flatMap((task) => task.evaluation_criteria?.actions ?? []);
      expect(actions.length).toBe(domain === 'airline' ? 142 : 550);
      for (const action of actions) expect(validator.validate(action), action.name).toEqual({ ok: true });
      // each perturbation must be caught with the right code
      let perturbed = 0;
      for (const action of actions) {
        const keys = Object.keys(action.arguments);
        if (keys.length === 0) continue;
        const [first] = keys;
        const { [first!]: _dropped, ...rest } = action.arguments;
        expect(codes(validator.validate({ name: action.name, arguments: rest }))).toContain(
          `missing_required /arguments/${first}`,
        );
        expect(
          codes(validator.validate({ name: action.name, arguments: { ...action.arguments, zzz: 1 } })),
        ).toEqual(['unexpected_param /arguments/zzz']);
        expect(
          codes(
            validator.validate({
              name: action.name,
              arguments: { ...action.arguments, [first!]: { wrong: true } },
            }),
          ),
        ).toContain(`type_mismatch /arguments/${first}`);
        perturbed++;
      }
      expect(perturbed).toBeGreaterThan(100);
      expect(codes(validator.validate({ name: 'not_a_tool', arguments: {} }))).toEqual([
        'unknown_tool /name',
      ]);
    });
  }
});
