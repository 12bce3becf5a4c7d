import { describe, expect, it } from 'vitest';
import { checkJsonShape } from './intake.js';

const limits = { maxDepth: 3, maxItems: 3 };

describe('checkJsonShape', () => {
  it('passes bodies within the limits, brackets and commas inside strings included', () => {
    expect(checkJsonShape('{"a":[1,2,3],"b":{"c":[]}}', limits)).toBeUndefined();
    expect(checkJsonShape('{"a":"[[[[,,,,{{{{","b":"\\"[[[[","c":"\\\\"}', limits)).toBeUndefined();
    expect(checkJsonShape('', limits)).toBeUndefined();
  });

  it('names the top-level field of a violation', () => {
    expect(checkJsonShape('{"messages":[{},{},{},{}]}', limits)).toEqual({
      reason: 'items',
      param: 'messages',
    });
    expect(checkJsonShape('{"x":[[[[]]]]}', limits)).toEqual({ reason: 'depth', param: 'x' });
    expect(checkJsonShape('{"a":1,"b":2,"c":3,"d":4}', limits)).toEqual({ reason: 'items', param: null });
    expect(checkJsonShape('[[[[1]]]]', limits)).toEqual({ reason: 'depth', param: null });
  });

  it('is iterative: 1,000,000 levels do not blow the stack', () => {
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    expect(checkJsonShape(deep, { maxDepth: 64, maxItems: 10 })).toEqual({ reason: 'depth', param: null });
  });

  it('leaves malformed JSON to the parser', () => {
    expect(checkJsonShape('{"a":"unterminated', limits)).toBeUndefined();
    expect(checkJsonShape(']]]]', limits)).toBeUndefined();
  });
});
