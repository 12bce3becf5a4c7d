// Build JS regular expressions with the semantics of Python's `re` on str patterns: `\s` is Python's
// whitespace set, `\d` any Unicode decimal digit, `\w` Unicode letters/digits/underscore, `.` anything but
// `\n` (everything with DOTALL), and `$` the end of the string or just before a final `\n`.

import { PY_WS } from './python.js';

/** Python-flavoured regex source → JS RegExp (u flag). Tokens: \s \d \w . $ are translated; others kept. */
export function pyRegExp(
  source: string,
  flags: { dotAll?: boolean; global?: boolean; anchored?: boolean } = {},
): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\') {
      const next = source[i + 1]!;
      i++;
      if (next === 's') out += inClass ? PY_WS : `[${PY_WS}]`;
      else if (next === 'd') out += '\\p{Nd}';
      else if (next === 'w') out += inClass ? '\\p{L}\\p{N}_' : '[\\p{L}\\p{N}_]';
      else if (next === '-') out += inClass ? '\\-' : '-';
      else if (/[A-Za-z0-9]/.test(next) || '^$\\.*+?()[]{}|/'.includes(next)) out += `\\${next}`;
      else out += next;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
    } else if (ch === '.') out += flags.dotAll ? '[\\s\\S]' : '[^\\n]';
    else if (ch === '$') out += '(?=\\n?$)';
    else out += ch;
  }
  if (flags.anchored) out = `^(?:${out})`;
  return new RegExp(out, flags.global ? 'gu' : 'u');
}
