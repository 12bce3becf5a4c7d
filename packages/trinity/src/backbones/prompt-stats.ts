/**
 * A small, documented set of prompt statistics as a backbone (`prompt-stats-v1`, 20 values), meant to be
 * concatenated with n-gram features (`createConcatBackbone`). Every value is a fixed transform of counts
 * over the text (no fitted scaling), roughly in [0, 1] for prompts up to a few KB, and the vector is NOT
 * normalised (a length feature must keep its length). Deterministic and pure.
 *
 * | # | feature | value |
 * |---|---|---|
 * | 0 | characters | ln(1 + chars) / 8 |
 * | 1 | words (runs of letters/digits) | ln(1 + words) / 6 |
 * | 2 | mean word length | mean chars per word / 10 |
 * | 3 | lines | ln(1 + newlines) / 4 |
 * | 4 | digit share | digits / chars |
 * | 5 | numbers | ln(1 + numbers) / 4 |
 * | 6 | decimals present | 1 if a number with a decimal point (`3.5`, `$1.25`) occurs |
 * | 7 | upper-case share | upper-case letters / letters |
 * | 8 | code markers | ln(1 + count of ```` ``` ````, `{`, `}`, `;`, `=>`, `==`, `def `, `function`, `return`, `import `, `#include`, `print(`, `</`) / 3 |
 * | 9 | maths markers | ln(1 + count of `+ * / = ^ < > %`, `\frac`, `\sqrt`, `$`, `√`, `π`, `∑`, `∫`, `²`, `³`) / 3 |
 * | 10 | multiple choice | 1 if two or more lines start with `A.`–`D.` (or `A)`–`D)`) |
 * | 11 | question marks | ln(1 + `?` count) / 2 |
 * | 12–18 | question words | 1 if the word occurs (case-insensitive): what, why, how, which, who, when, where |
 * | 19 | imperative start | 1 if the first word is one of write, explain, describe, list, give, create, summarize/summarise, translate, generate, compose |
 */
import { type SyncBackbone, throwIfAborted } from './types.js';

/** Id (and version) of the prompt-statistics backbone. */
export const PROMPT_STATS_ID = 'prompt-stats-v1';
/** Number of prompt statistics. */
export const PROMPT_STATS_DIMENSION = 20;

const QUESTION_WORDS = ['what', 'why', 'how', 'which', 'who', 'when', 'where'] as const;
const IMPERATIVES = new Set([
  'write',
  'explain',
  'describe',
  'list',
  'give',
  'create',
  'summarize',
  'summarise',
  'translate',
  'generate',
  'compose',
]);
const CODE_PATTERN = /```|[{};]|=>|==|\bdef |\bfunction\b|\breturn\b|\bimport |#include|print\(|<\//g;
const MATHS_PATTERN = /[+*/=^<>%$√π∑∫²³]|\\frac|\\sqrt/g;
const WORD_PATTERN = /[\p{L}\p{M}\p{N}]+/gu;
const NUMBER_PATTERN = /\d+(?:[.,]\d+)*/g;
const DECIMAL_PATTERN = /\d\.\d/;
const CHOICE_PATTERN = /^\s*[A-D][.)]\s/gm;

function count(text: string, pattern: RegExp): number {
  pattern.lastIndex = 0;
  let n = 0;
  while (pattern.exec(text) !== null) n++;
  return n;
}

/**
 * The 20 prompt statistics of `text` (see the module table).
 *
 * @example
 * ```ts
 * promptStatistics('What is 2.5 + 3?')[6]; // 1 (a decimal number occurs)
 * ```
 */
export function promptStatistics(text: string): Float32Array {
  const out = new Float32Array(PROMPT_STATS_DIMENSION);
  const chars = text.length;
  let digits = 0;
  let letters = 0;
  let upper = 0;
  let newlines = 0;
  let questions = 0;
  for (let i = 0; i < chars; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c >= 65 && c <= 90) {
      letters++;
      upper++;
    } else if (c >= 97 && c <= 122) letters++;
    else if (c === 10) newlines++;
    else if (c === 63) questions++;
  }
  const words = text.match(WORD_PATTERN) ?? [];
  let wordChars = 0;
  for (const w of words) wordChars += w.length;
  const lower = words.map((w) => w.toLowerCase());
  const present = new Set(lower);
  out[0] = Math.log1p(chars) / 8;
  out[1] = Math.log1p(words.length) / 6;
  out[2] = words.length === 0 ? 0 : wordChars / words.length / 10;
  out[3] = Math.log1p(newlines) / 4;
  out[4] = chars === 0 ? 0 : digits / chars;
  out[5] = Math.log1p(count(text, NUMBER_PATTERN)) / 4;
  out[6] = DECIMAL_PATTERN.test(text) ? 1 : 0;
  out[7] = letters === 0 ? 0 : upper / letters;
  out[8] = Math.log1p(count(text, CODE_PATTERN)) / 3;
  out[9] = Math.log1p(count(text, MATHS_PATTERN)) / 3;
  out[10] = count(text, CHOICE_PATTERN) >= 2 ? 1 : 0;
  out[11] = Math.log1p(questions) / 2;
  QUESTION_WORDS.forEach((w, i) => {
    out[12 + i] = present.has(w) ? 1 : 0;
  });
  // The first word after an optional chat role prefix ("user: …").
  const first = lower[0] === 'user' || lower[0] === 'system' ? lower[1] : lower[0];
  out[19] = first !== undefined && IMPERATIVES.has(first) ? 1 : 0;
  return out;
}

/** The prompt statistics as a backbone (`prompt-stats-v1`, 20 dimensions, not normalised). */
export function createPromptStatsBackbone(): SyncBackbone {
  return {
    id: PROMPT_STATS_ID,
    dimension: PROMPT_STATS_DIMENSION,
    embedSync: promptStatistics,
    async embed(texts, options) {
      return texts.map((t) => {
        throwIfAborted(options?.signal);
        return promptStatistics(t);
      });
    },
  };
}
