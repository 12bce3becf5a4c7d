import { readFileSync } from 'node:fs';
import { describeWithData } from '@openfugu/vitest-config/data';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BfclEntry, type BfclFunction, bfclReward, checkBfcl, checkBfclVerdictOnly } from './checker.js';
import { parseJsonLossless } from './lossless-json.js';
import { JsonFloat } from './python.js';

const area: BfclFunction = {
  name: 'geo.area',
  description: 'Area of a triangle.',
  parameters: {
    type: 'dict',
    properties: {
      base: { type: 'integer' },
      height: { type: 'float' },
      unit: { type: 'string' },
      tags: { type: 'array', items: { type: 'float' } },
      opts: { type: 'dict', properties: { a: { type: 'string' } } },
    },
    required: ['base', 'height'],
  },
};

function simple(args: Record<string, unknown>, answer: Record<string, unknown[]> = {}): BfclEntry {
  return {
    category: 'simple_python',
    function: [area],
    possible_answer: [{ 'geo.area': { base: [10], height: [5.5, 5], unit: ['units', ''], ...answer } }],
    model_output: [{ 'geo.area': args }],
  };
}

describe('checkBfcl (python rules)', () => {
  it('accepts the canonical answer, normalised strings and omitted optionals', () => {
    expect(checkBfcl(simple({ base: 10, height: 5.5, unit: 'units' }))).toEqual({
      valid: true,
      error_type: null,
      errors: [],
    });
    expect(checkBfcl(simple({ base: 10, height: 5.5, unit: " U-N_I.T/S*^'" })).error_type).toBe(
      'value_error:string',
    );
    expect(checkBfcl(simple({ base: 10, height: 5.5, unit: 'U-N_I.T/S*^' })).valid).toBe(true);
    expect(checkBfcl(simple({ base: 10, height: 5.5 })).valid).toBe(true);
  });

  it('accepts an int for a top-level float but not a float for an int', () => {
    expect(checkBfcl(simple({ base: 10, height: 5 })).valid).toBe(true);
    const r = checkBfcl(simple({ base: new JsonFloat(10), height: 5.5 }));
    expect(r).toMatchObject({ valid: false, error_type: 'type_error:simple' });
    expect(checkBfcl(simple({ base: true, height: 5.5 })).error_type).toBe('type_error:simple');
  });

  it('rejects an int inside a float array unless an alternative is not a list', () => {
    const floats = { tags: [[1.5, new JsonFloat(2)]] };
    expect(checkBfcl(simple({ base: 10, height: 5.5, tags: [1.5, new JsonFloat(2)] }, floats)).valid).toBe(
      true,
    );
    expect(checkBfcl(simple({ base: 10, height: 5.5, tags: [1.5, 2] }, floats)).error_type).toBe(
      'type_error:nested',
    );
    const optional = { tags: [[1.5, new JsonFloat(2)], ''] };
    expect(checkBfcl(simple({ base: 10, height: 5.5, tags: [1.5, 2] }, optional)).valid).toBe(true);
  });

  it('reports the first failure in the official order', () => {
    expect(checkBfcl(simple({ height: 5.5, zzz: 1 })).error_type).toBe(
      'simple_function_checker:missing_required',
    );
    expect(checkBfcl(simple({ base: 10, height: 5.5, zzz: 1 })).error_type).toBe(
      'simple_function_checker:unexpected_param',
    );
    // declared in the schema but absent from the answer: unexpected too
    expect(checkBfcl(simple({ base: 10, height: 5.5, opts: {} })).error_type).toBe(
      'simple_function_checker:unexpected_param',
    );
    expect(checkBfcl(simple({ base: 11, height: 5.5 })).error_type).toBe('value_error:others');
    const withOpts = checkBfcl(simple({ base: 10, height: 5.5 }, { opts: [{ a: ['x'] }] }));
    expect(withOpts.error_type).toBe('simple_function_checker:missing_optional');
    expect(checkBfcl({ ...simple({}), model_output: [{ 'geo.Area': {} }] }).error_type).toBe(
      'simple_function_checker:wrong_func_name',
    );
    expect(checkBfcl({ ...simple({}), model_output: [] }).error_type).toBe(
      'simple_function_checker:wrong_count',
    );
  });

  it('explains failures in the official wording', () => {
    expect(checkBfcl(simple({ base: 11, height: 5.5 })).errors).toEqual([
      "Invalid value for parameter 'base': 11. Expected one of [10].",
    ]);
    expect(checkBfcl(simple({ base: 10, height: 5.5, unit: 'cm' })).errors).toEqual([
      "Invalid value for parameter 'unit': 'cm'. Expected one of ['units', '']. Case insensitive.",
    ]);
    expect(checkBfcl(simple({ base: 'x%a', height: 5.5 })).errors[0]).toBe(
      "Incorrect type for parameter 'base'. Expected type integer, got str. Parameter value: 'x%a'.",
    );
  });

  it('checks dict parameters key by key with normalised string values', () => {
    const answer = { opts: [{ a: ['Hello World', ''] }] };
    expect(checkBfcl(simple({ base: 10, height: 5.5, opts: { a: 'hello-world' } }, answer)).valid).toBe(true);
    expect(checkBfcl(simple({ base: 10, height: 5.5, opts: {} }, answer)).valid).toBe(true);
    expect(checkBfcl(simple({ base: 10, height: 5.5, opts: { b: 'x' } }, answer)).error_type).toBe(
      'value_error:dict_key',
    );
    expect(checkBfcl(simple({ base: 10, height: 5.5, opts: { a: 'bye' } }, answer)).error_type).toBe(
      'value_error:dict_value',
    );
  });

  it('uses Python equality (1 == 1.0 == True)', () => {
    const answer = { base: [1] };
    expect(checkBfcl(simple({ base: 1, height: 5.5 }, answer)).valid).toBe(true);
    const fl = { height: [new JsonFloat(5)] };
    expect(checkBfcl(simple({ base: 10, height: 5 }, fl)).valid).toBe(true);
  });

  it('matches parallel calls greedily and order-free, and multiple by the first call', () => {
    const fn: BfclFunction = {
      name: 'f',
      parameters: { type: 'dict', properties: { x: { type: 'integer' } }, required: ['x'] },
    };
    const parallel: BfclEntry = {
      category: 'parallel',
      function: [fn],
      possible_answer: [{ f: { x: [1] } }, { f: { x: [2] } }],
      model_output: [{ f: { x: 2 } }, { f: { x: 1 } }],
    };
    expect(checkBfcl(parallel).valid).toBe(true);
    expect(checkBfcl({ ...parallel, model_output: [{ f: { x: 1 } }, { f: { x: 1 } }] }).error_type).toBe(
      'parallel_function_checker_no_order:cannot_find_match',
    );
    expect(checkBfcl({ ...parallel, model_output: [{ f: { x: 1 } }] }).error_type).toBe(
      'parallel_function_checker_no_order:wrong_count',
    );
    const g: BfclFunction = { ...fn, name: 'g' };
    const multiple: BfclEntry = {
      category: 'multiple',
      function: [fn, g],
      possible_answer: [{ g: { x: [1] } }],
      model_output: [{ g: { x: 1 } }],
    };
    expect(checkBfcl(multiple).valid).toBe(true);
    expect(checkBfcl({ ...multiple, model_output: [{ f: { x: 1 } }] }).error_type).toBe(
      'simple_function_checker:wrong_func_name',
    );
    expect(checkBfcl({ ...multiple, model_output: [] }).error_type).toBe(
      'multiple_function_checker:wrong_count',
    );
    // live categories route by the same substrings
    expect(checkBfcl({ ...multiple, category: 'live_multiple' }).valid).toBe(true);
    expect(checkBfcl({ ...parallel, category: 'live_parallel_multiple' }).valid).toBe(true);
  });

  it('judges irrelevance / relevance by whether a call was decoded', () => {
    const base = { function: [area] };
    expect(checkBfcl({ ...base, category: 'irrelevance', model_output: [] }).valid).toBe(true);
    expect(checkBfcl({ ...base, category: 'live_irrelevance', model_output: null }).valid).toBe(true);
    expect(checkBfcl({ ...base, category: 'irrelevance', model_output: [{ f: {} }] })).toMatchObject({
      valid: false,
      error_type: 'irrelevance_error:decoder_success',
    });
    expect(checkBfcl({ ...base, category: 'live_relevance', model_output: [{ f: {} }] }).valid).toBe(true);
    expect(checkBfcl({ ...base, category: 'live_relevance', model_output: 'text' }).error_type).toBe(
      'relevance_error:decoder_failed',
    );
  });

  it('applies the underscore_to_dot variant to the expected name only', () => {
    const dotted = simple({ base: 10, height: 5.5 });
    expect(checkBfcl(dotted, { underscoreToDot: true }).error_type).toBe(
      'simple_function_checker:wrong_func_name',
    );
    const underscored = { ...dotted, model_output: [{ geo_area: { base: 10, height: 5.5 } }] };
    expect(checkBfcl(underscored, { underscoreToDot: true }).valid).toBe(true);
    expect(checkBfcl(underscored).valid).toBe(false);
  });

  it('reports output that is not a list of {name: {args}} as the runner does', () => {
    for (const bad of [null, 'f(x=1)', [{ f: 1 }], [{ f: {}, g: {} }], [1], {}]) {
      expect(checkBfcl({ ...simple({}), model_output: bad }).error_type).toBe(
        'ast_decoder:decoder_wrong_output_format',
      );
    }
  });

  it('returns a checker_crash verdict where the official checker raises', () => {
    const entry = simple({ base: 10, height: 5.5 });
    const noType: BfclEntry = {
      ...entry,
      function: [
        {
          ...area,
          parameters: { ...area.parameters, properties: { base: {} as never, height: {} as never } },
        },
      ],
    };
    expect(checkBfcl(noType)).toMatchObject({ valid: false, error_type: 'checker_crash:KeyError' });
    expect(checkBfcl({ ...entry, category: 'multi_turn_base' }).error_type).toBe('unsupported_category');
  });

  it('converts Java and JavaScript literals before comparing', () => {
    const java: BfclEntry = {
      category: 'simple_java',
      function: [
        {
          name: 'J.m',
          parameters: {
            type: 'dict',
            properties: {
              n: { type: 'long' },
              xs: { type: 'ArrayList', items: { type: 'String' } },
              m: { type: 'HashMap' },
              f: { type: 'float' },
            },
            required: ['n'],
          },
        },
      ],
      possible_answer: [{ 'J.m': { n: [5], xs: [['a', 'b']], m: [{ k: ['v'] }], f: [1.5, ''] } }],
      model_output: [
        {
          'J.m': {
            n: '5L',
            xs: 'new ArrayList<>(Arrays.asList("a", "b"))',
            m: 'new HashMap<String, String>() {{ put("k", "v"); }}',
            f: '1.5f',
          },
        },
      ],
    };
    expect(checkBfcl(java)).toMatchObject({ valid: true });
    const noL = { ...java, model_output: [{ 'J.m': { n: '5' } }] };
    expect(checkBfcl(noL).error_type).toBe('type_error:simple');
    expect(checkBfcl({ ...java, model_output: [{ 'J.m': { n: 5 } }] }).error_type).toBe('type_error:java');

    const js: BfclEntry = {
      category: 'simple_javascript',
      function: [
        {
          name: 'go',
          parameters: {
            type: 'dict',
            properties: { s: { type: 'String' }, a: { type: 'array', items: { type: 'integer' } } },
            required: ['s'],
          },
        },
      ],
      possible_answer: [{ go: { s: ['Hello'], a: [[1, 2], ''] } }],
      model_output: [{ go: { s: "'hello'", a: '[1, 2]' } }],
    };
    expect(checkBfcl(js)).toMatchObject({ valid: true });
    expect(checkBfcl({ ...js, model_output: [{ go: { s: 1 } }] }).error_type).toBe('type_error:js');
  });

  it('bfclReward is 1 exactly when the verdict is valid', () => {
    const e = simple({ base: 10, height: 5.5 });
    expect(bfclReward(e.model_output, e)).toBe(1);
    expect(bfclReward([], e)).toBe(0);
  });

  it('never throws, whatever the input (property)', () => {
    const jsonish = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(''),
        fc.constantFrom('integer', 'float', 'string', 'array', 'dict', 'tuple', 'any', 'String', 'HashMap'),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(
          fc.constantFrom('name', 'type', 'items', 'x', 'f', 'parameters', 'properties'),
          tie('value'),
          {
            maxKeys: 4,
          },
        ),
      ),
    })).value;
    fc.assert(
      fc.property(
        fc.constantFrom(
          'simple_python',
          'parallel',
          'multiple',
          'simple_java',
          'simple_javascript',
          'irrelevance',
        ),
        jsonish,
        jsonish,
        jsonish,
        (category, fns, answer, output) => {
          const r = checkBfcl({
            category,
            function: fns as never,
            possible_answer: answer as never,
            model_output: output,
          });
          expect(typeof r.valid).toBe('boolean');
          expect(r.valid ? r.error_type === null : typeof r.error_type === 'string').toBe(true);
          // well-formed wrappers around random args reach deeper code paths
          const r2 = checkBfcl({
            category,
            function: [{ name: 'f', parameters: { type: 'dict', properties: fns as never, required: [] } }],
            possible_answer: [{ f: answer as never }],
            model_output: [{ f: output as never }],
          });
          expect(typeof r2.valid).toBe('boolean');
        },
      ),
      { numRuns: 3000 },
    );
    expect(checkBfcl(null as never).valid).toBe(false);
    expect(checkBfcl(undefined as never).valid).toBe(false);
  });
});

describeWithData(
  'checkBfcl agrees with the official checker on oracle_dev',
  ['bfcl', 'oracle_dev.jsonl'],
  (file) => {
    interface OracleLine extends BfclEntry {
      id: string;
      cand: number;
      official: { valid: boolean; error_type: string | null };
      meta: {
        official_underscore_to_dot: { valid: boolean; error_type: string | null };
        int_float_sensitive: boolean;
      };
    }
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const entries = lines.map((l) => {
      const r = parseJsonLossless(l);
      if (!r.ok) throw new Error(`oracle line does not parse: ${r.error.message}`);
      return r.value as unknown as OracleLine;
    });

    it('has all 8,719 lines', () => {
      expect(entries.length).toBe(8719);
    });

    it('matches official.valid and official.error_type on every line', () => {
      const validMismatch: string[] = [];
      const typeMismatch: string[] = [];
      for (const e of entries) {
        const v = checkBfcl(e);
        if (v.valid !== e.official.valid) validMismatch.push(`${e.id}#${e.cand}`);
        if (v.error_type !== e.official.error_type) typeMismatch.push(`${e.id}#${e.cand}`);
      }
      expect(validMismatch).toEqual([]);
      expect(typeMismatch).toEqual([]);
    });

    it('matches meta.official_underscore_to_dot under the underscoreToDot option', () => {
      const mismatch: string[] = [];
      for (const e of entries) {
        const v = checkBfcl(e, { underscoreToDot: true });
        const want = e.meta.official_underscore_to_dot;
        if (v.valid !== want.valid || v.error_type !== want.error_type) mismatch.push(`${e.id}#${e.cand}`);
      }
      expect(mismatch).toEqual([]);
    });

    it('checkBfclVerdictOnly (the CLI path) gives the same valid and error_type, without messages', () => {
      const mismatch: string[] = [];
      let invalid = 0;
      for (const e of entries) {
        for (const options of [{}, { underscoreToDot: true }]) {
          const full = checkBfcl(e, options);
          const quick = checkBfclVerdictOnly(e, options);
          if (quick.valid !== full.valid || quick.error_type !== full.error_type)
            mismatch.push(`${e.id}#${e.cand}`);
          if (!full.valid) invalid++;
        }
      }
      expect(invalid).toBeGreaterThan(1000);
      expect(mismatch).toEqual([]);
    });

    it('needs the lossless parser exactly where meta.int_float_sensitive says so', () => {
      let flipped = 0;
      let sensitive = 0;
      for (let i = 0; i < lines.length; i++) {
        const e = entries[i]!;
        if (e.meta.int_float_sensitive) sensitive++;
        const lossy = JSON.parse(lines[i]!) as OracleLine;
        if (checkBfcl(lossy).valid !== e.official.valid) {
          flipped++;
          expect(e.meta.int_float_sensitive).toBe(true);
        }
      }
      expect(sensitive).toBeGreaterThan(0);
      expect(flipped).toBe(sensitive);
    });
  },
);
