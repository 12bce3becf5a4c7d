import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonish } from './__fixtures__/arbitraries.js';
import { parseHermesToolCalls, parseThinkAnswer, parseToolCalls, toolCallsFromOpenAI } from './parse.js';
import { parsePythonicCalls } from './pythonic.js';

const MB = 1_000_000;

describe('parseToolCalls — formats', () => {
  it('reads <think>…</think><answer>[json]</answer>', () => {
    const text =
      '<think>need the user</think>\n<answer>[{"name":"get_user_details","arguments":{"user_id":"u1"}}]</answer>';
    expect(parseToolCalls(text)).toEqual({
      ok: true,
      calls: [{ name: 'get_user_details', arguments: { user_id: 'u1' } }],
      format: 'think_answer',
      issues: [],
      repaired: [],
    });
    const detailed = parseThinkAnswer(text);
    expect(detailed.wellFormed).toBe(true);
    expect(detailed.think).toBe('need the user');
  });

  it('flags think/answer output that is not exactly in the format', () => {
    expect(parseThinkAnswer('<answer>[]</answer>').wellFormed).toBe(false);
    expect(parseThinkAnswer('<think>a</think><answer>[]</answer> more').wellFormed).toBe(false);
    expect(parseThinkAnswer('preface <think>a</think><answer>[]</answer>').wellFormed).toBe(false);
    const unclosed = parseThinkAnswer('<think>a</think><answer>[{"name":"f","arguments":{}}]');
    expect(unclosed.ok).toBe(false);
    expect(unclosed.calls).toEqual([{ name: 'f', arguments: {} }]);
    expect(unclosed.issues.map((issue) => issue.code)).toContain('unterminated_tag');
  });

  it('reads Hermes/Qwen <tool_call> blocks, one or many, with string or object arguments', () => {
    const text =
      'I will call two tools.\n<tool_call>\n{"name": "a", "arguments": {"x": 1}}\n</tool_call>\n' +
      '<tool_call>{"name": "b", "arguments": "{\\"y\\": [1, 2]}"}</tool_call>';
    const result = parseToolCalls(text);
    expect(result).toMatchObject({ ok: true, format: 'hermes', repaired: [] });
    expect(result.calls).toEqual([
      { name: 'a', arguments: { x: 1 } },
      { name: 'b', arguments: { y: [1, 2] } },
    ]);
    const cut = parseHermesToolCalls('<tool_call>{"name": "a", "arguments": {}}');
    expect(cut.ok).toBe(false);
    expect(cut.calls).toEqual([{ name: 'a', arguments: {} }]);
  });

  it('reads OpenAI tool_calls (arguments as a JSON string) from a message, a response or the array', () => {
    const toolCalls = [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_2', type: 'function', function: { name: 'noop', arguments: '' } },
    ];
    const expected = [
      { id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } },
      { id: 'call_2', name: 'noop', arguments: {} },
    ];
    for (const value of [
      { role: 'assistant', content: null, tool_calls: toolCalls },
      { choices: [{ index: 0, message: { role: 'assistant', tool_calls: toolCalls } }] },
      toolCalls,
    ]) {
      expect(toolCallsFromOpenAI(value)).toMatchObject({ ok: true, format: 'openai', calls: expected });
      expect(parseToolCalls(JSON.stringify(value))).toMatchObject({
        ok: true,
        format: 'openai',
        calls: expected,
      });
    }
    const broken = toolCallsFromOpenAI([{ type: 'function', function: { name: 'f', arguments: '{"a": ' } }]);
    expect(broken.ok).toBe(false);
    expect(broken.issues[0]).toMatchObject({ code: 'invalid_arguments', path: '/calls/0/arguments' });
  });

  it('reads Llama-3 style JSON with "parameters" or "arguments", single, list or ;-separated', () => {
    expect(parseToolCalls('{"name": "f", "parameters": {"a": 1}}')).toMatchObject({
      ok: true,
      format: 'json',
      calls: [{ name: 'f', arguments: { a: 1 } }],
    });
    expect(
      parseToolCalls('<|python_tag|>{"name": "f", "parameters": {}}; {"name": "g", "arguments": {"b": 2}}'),
    ).toMatchObject({
      ok: true,
      format: 'json',
      calls: [
        { name: 'f', arguments: {} },
        { name: 'g', arguments: { b: 2 } },
      ],
    });
    expect(
      parseToolCalls('[{"name": "f", "arguments": {}}, {"name": "g", "arguments": {}}]').calls,
    ).toHaveLength(2);
    expect(parseToolCalls('[TOOL_CALLS] [{"name": "f", "arguments": {"a": 1}}]')).toMatchObject({
      ok: true,
      format: 'json',
      repaired: [],
      calls: [{ name: 'f', arguments: { a: 1 } }],
    });
  });

  it('reports tolerant JSON repairs, never silently', () => {
    const result = parseToolCalls("```json\n[{'name': 'f', 'arguments': {'ok': True,},}]\n```");
    expect(result.ok).toBe(true);
    expect(result.calls).toEqual([{ name: 'f', arguments: { ok: true } }]);
    expect([...result.repaired].sort()).toEqual([
      'code_fence',
      'python_literals',
      'single_quotes',
      'trailing_commas',
    ]);
    const prose = parseToolCalls('Sure, calling it now: {"name": "f", "arguments": {}} - done.');
    expect(prose).toMatchObject({ ok: true, repaired: ['surrounding_text'] });
  });

  it('reads pythonic calls', () => {
    const result = parseToolCalls(
      "[calc_area(base=10, height=-5.5, unit='cm'), math.factorial(number=5), g(), " +
        "h(xs=[1, [2, 3]], d={'k': (1, 2), 'n': None}, flag=True, s=\"a\\\"b\\n\")]",
    );
    expect(result).toMatchObject({ ok: true, format: 'pythonic', repaired: [] });
    expect(result.calls).toEqual([
      { name: 'calc_area', arguments: { base: 10, height: -5.5, unit: 'cm' } },
      { name: 'math.factorial', arguments: { number: 5 } },
      { name: 'g', arguments: {} },
      { name: 'h', arguments: { xs: [1, [2, 3]], d: { k: [1, 2], n: null }, flag: true, s: 'a"b\n' } },
    ]);
  });

  it('says when nothing can be read', () => {
    const result = parseToolCalls('The capital of France is Paris.');
    expect(result.ok).toBe(false);
    expect(result.format).toBeNull();
    expect(result.issues[0]!.code).toBe('no_tool_calls');
  });

  it('restricts detection to the formats asked for', () => {
    const text = '<tool_call>{"name": "f", "arguments": {}}</tool_call>';
    expect(parseToolCalls(text, { formats: ['pythonic'] }).ok).toBe(false);
    expect(parseToolCalls(text, { formats: ['hermes'] }).ok).toBe(true);
  });

  it('reports calls that are not call-shaped', () => {
    const result = parseToolCalls('[{"name": "f", "arguments": [1]}, {"arguments": {}}, 3]');
    expect(result.ok).toBe(false);
    expect(result.issues.map((issue) => [issue.code, issue.path])).toEqual([
      ['invalid_arguments', '/calls/0/arguments'],
      ['missing_name', '/calls/1/name'],
      ['invalid_call', '/calls/2'],
    ]);
  });
});

describe('parsePythonicCalls', () => {
  const identifier = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);
  const pyValue = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.integer({ min: -1000, max: 1000 }),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
      fc.string({ maxLength: 12 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 5 }), tie('value'), { maxKeys: 3 }),
    ),
  })).value;

  /** Python source for a value (repr-like). */
  function toPython(value: unknown): string {
    if (value === null) return 'None';
    if (value === true) return 'True';
    if (value === false) return 'False';
    if (typeof value === 'number') return Object.is(value, -0) ? '-0.0' : String(value);
    if (typeof value === 'string')
      return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
    if (Array.isArray(value)) return `[${value.map(toPython).join(', ')}]`;
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${toPython(k)}: ${toPython(v)}`)
      .join(', ')}}`;
  }

  it('round-trips generated call lists', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.array(identifier, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.')),
            arguments: fc.dictionary(identifier, pyValue, { maxKeys: 4 }),
          }),
          { maxLength: 4 },
        ),
        (calls) => {
          const text = `[${calls
            .map(
              (call) =>
                `${call.name}(${Object.entries(call.arguments)
                  .map(([k, v]) => `${k}=${toPython(v)}`)
                  .join(', ')})`,
            )
            .join(', ')}]`;
          const result = parsePythonicCalls(text);
          expect(result.ok).toBe(true);
          expect(result.calls).toEqual(calls);
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    );
  });

  it('reads bare names as text and reports positional arguments', () => {
    const result = parsePythonicCalls('f(math.pi, x=np.float64)');
    expect(result.calls).toEqual([{ name: 'f', arguments: { x: 'np.float64' } }]);
    expect(result.issues[0]!.code).toBe('positional_argument');
  });

  it('decodes nested calls as BFCL does: {name: {keywords}}, or the source text without keywords', () => {
    const result = parsePythonicCalls('[f(x=g(1, 2), y=math.sqrt(x=2), z=[h()], w=k(a=1, b=[m(c=3)],))]');
    expect(result).toMatchObject({ ok: true, issues: [] });
    expect(result.calls).toEqual([
      {
        name: 'f',
        arguments: {
          x: 'g(1, 2)',
          y: { 'math.sqrt': { x: 2 } },
          z: ['h()'],
          w: { k: { a: 1, b: [{ m: { c: 3 } }] } },
        },
      },
    ]);
    expect(parsePythonicCalls('[f(x=g(1)]').ok).toBe(false);
  });

  it('rejects broken calls with an offset', () => {
    const result = parsePythonicCalls('[f(a=1, b=)]');
    expect(result.ok).toBe(false);
    expect(result.issues[0]!.message).toMatch(/offset 10/);
  });
});

describe('parsers are total and linear', () => {
  it('never throw on arbitrary or adversarial text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          jsonish(),
          fc
            .array(
              fc.constantFrom(
                '<think>',
                '</think>',
                '<answer>',
                '</answer>',
                '<tool_call>',
                '</tool_call>',
                '[',
                'f(',
                'a=',
                "'",
                ')',
                ']',
                '{',
                '"name"',
                ':',
                ',',
              ),
              {
                maxLength: 40,
              },
            )
            .map((parts) => parts.join('')),
        ),
        (text) => {
          const result = parseToolCalls(text);
          expect(Array.isArray(result.calls)).toBe(true);
          expect(parsePythonicCalls(text).calls).toBeInstanceOf(Array);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it.each([
    '[',
    '{',
    '"',
    "'",
    '(',
    'f(',
    '[f(',
    'f(a=[',
    '<tool_call>',
    '<answer>',
    '<think><answer>[',
    '\\',
    'a.',
  ])('survives 1 MB of %j', (unit) => {
    const text = unit.repeat(Math.ceil(MB / unit.length));
    expect(parseToolCalls(text).ok).toBe(false);
    expect(parsePythonicCalls(text).ok).toBe(false);
  });

  it('reads 1 MB of valid calls', () => {
    const one = '{"name": "f", "arguments": {"a": [1, 2, 3], "b": "xyz"}}';
    const count = Math.ceil(MB / (one.length + 2));
    const result = parseToolCalls(`[${Array.from({ length: count }, () => one).join(', ')}]`);
    expect(result.ok).toBe(true);
    expect(result.calls).toHaveLength(count);
  });
});
