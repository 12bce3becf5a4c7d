/** Case-insensitive search of a literal ASCII tag, linear in the scanned text, offsets of the original. */
const cache = new Map<string, RegExp>();

/** Index of `tag` (ASCII, matched case-insensitively) in `text` at or after `from`, or -1. */
export function indexOfTag(text: string, tag: string, from = 0): number {
  let pattern = cache.get(tag);
  if (!pattern) {
    pattern = new RegExp(tag.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'), 'gi');
    cache.set(tag, pattern);
  }
  pattern.lastIndex = from;
  const match = pattern.exec(text);
  return match ? match.index : -1;
}

/**
 * The reference `<answer>\s*([\s\S]*?)\s*</answer>` search (first match, case-insensitive) without the
 * regex engine's quadratic worst case: the body between the first `<answer>` and the first `</answer>`
 * after it, whitespace-trimmed.
 */
export function firstAnswerBlock(text: string): string | undefined {
  const open = indexOfTag(text, '<answer>');
  if (open === -1) return undefined;
  const close = indexOfTag(text, '</answer>', open + 8);
  if (close === -1) return undefined;
  return text.slice(open + 8, close).trim();
}
