import fc from 'fast-check';

/** Strings made of JSON-ish tokens, to reach deep parser states more often than random text. */
export function jsonish(): fc.Arbitrary<string> {
  return fc
    .array(
      fc.constantFrom(
        '{',
        '}',
        '[',
        ']',
        '(',
        ')',
        ',',
        ':',
        '"',
        "'",
        '\\',
        'true',
        'None',
        '1',
        '-',
        '.5',
        'e',
        ' ',
        'a',
        '\n',
        '```',
      ),
      { maxLength: 60 },
    )
    .map((tokens) => tokens.join(''));
}
