import { describe, expect, it } from 'vitest';
import { createKeyMatcher, MAX_PRESENTED_KEY_LENGTH, presentedKey, usableKey } from './rate-limit.js';

describe('presentedKey', () => {
  it('takes the bearer token (scheme in any case, trimmed), else x-api-key', () => {
    expect(presentedKey({ authorization: 'Bearer sk-a' })).toBe('sk-a');
    expect(presentedKey({ authorization: 'bEaReR   sk-a  ' })).toBe('sk-a');
    expect(presentedKey({ authorization: undefined, apiKey: 'sk-b' })).toBe('sk-b');
    expect(presentedKey({ authorization: 'Basic abc', apiKey: 'sk-b' })).toBe('sk-b');
    // A bearer header wins over x-api-key, even when its token is unusable.
    expect(presentedKey({ authorization: 'Bearer  ', apiKey: 'sk-b' })).toBeUndefined();
  });

  it('refuses no key, an empty one, one past the length bound, and non-strings', () => {
    expect(presentedKey({ authorization: undefined })).toBeUndefined();
    expect(presentedKey({ authorization: 'sk-a' })).toBeUndefined();
    expect(presentedKey({ authorization: undefined, apiKey: '' })).toBeUndefined();
    expect(presentedKey({ authorization: undefined, apiKey: ['sk-a', 'sk-b'] })).toBeUndefined();
    const long = 'k'.repeat(MAX_PRESENTED_KEY_LENGTH);
    expect(presentedKey({ authorization: `Bearer ${long}` })).toBe(long);
    expect(presentedKey({ authorization: `Bearer ${long}k` })).toBeUndefined();
    expect(usableKey(42)).toBeUndefined();
  });
});

describe('createKeyMatcher', () => {
  it('finds the configured key of a secret, and nothing for another one', () => {
    const match = createKeyMatcher([
      { key: 'sk-alice', name: 'alice' },
      { key: 'sk-bob', name: 'bob' },
    ]);
    expect(match('sk-bob')?.name).toBe('bob');
    expect(match('sk-bo')).toBeUndefined();
  });
});
