/**
 * Gold matching for tau2-bench / ToolScale action lists (`evaluation_criteria.actions`).
 *
 * Semantics follow tau2-bench's action check: a predicted call matches a gold action when the names
 * are equal and every compared argument is equal; the compared arguments are `compare_args` when the
 * gold action has it (`[]` = name only), else all gold arguments; gold arguments whose value is `null`
 * are dropped (they mean "absent"). Extra arguments in the prediction are not penalised (as in tau2).
 *
 * On top of the yes/no verdict it aligns predicted calls one-to-one with gold actions and scores the
 * arguments of each pair (fraction of compared arguments that are equal), so partial credit, precision
 * (extra and hallucinated calls) and recall can be computed.
 */
import type { GoldAction, ToolCall } from '@openfugu/schema';

/** Options of {@link matchActions}. */
export interface MatchOptions {
  /**
   * `true`: pairs must keep their relative order (an order-preserving alignment, like an LCS);
   * `false`: any one-to-one assignment (maximum total argument score). Default false.
   */
  readonly ordered?: boolean;
  /** Numbers closer than this (absolute) are equal. Default 0 (exact). */
  readonly numericTolerance?: number;
  /** Trim and lower-case strings before comparing. Default false (exact, as tau2). */
  readonly normalizeStrings?: boolean;
  /** Honour each gold action's `compare_args`. Default true; false = compare all non-null gold arguments. */
  readonly respectCompareArgs?: boolean;
  /**
   * The task's tool names: a predicted call to any other name is *hallucinated*. When absent, no call
   * counts as hallucinated.
   */
  readonly tools?: Iterable<string>;
  /** At most this many predicted calls are aligned (the rest count as extra). Default 10,000. */
  readonly maxPredicted?: number;
}

/** One aligned (gold, predicted) pair. */
export interface ActionPair {
  readonly goldIndex: number;
  readonly predictedIndex: number;
  /** Fraction of compared arguments that are equal (1 when none are compared). */
  readonly argumentScore: number;
  /** All compared arguments equal. */
  readonly exact: boolean;
  /** Names of compared arguments that differ (or are missing). */
  readonly mismatched: readonly string[];
}

/** Result of {@link matchActions}. */
export interface ActionMatch {
  readonly goldCount: number;
  readonly predictedCount: number;
  /** Aligned pairs, sorted by gold index. */
  readonly pairs: readonly ActionPair[];
  /** Gold indices with no predicted call. */
  readonly missing: readonly number[];
  /** Predicted indices not aligned with any gold action (hallucinated ones included). */
  readonly extra: readonly number[];
  /** Predicted indices whose tool is not in `options.tools`. */
  readonly hallucinated: readonly number[];
  /** pairs / predicted (1 when nothing was predicted). Name level. */
  readonly precision: number;
  /** pairs / gold (1 when the gold list is empty). Name level. */
  readonly recall: number;
  /** Harmonic mean of precision and recall (0 when either is 0). */
  readonly f1: number;
  /** Σ argumentScore / predicted (1 when nothing was predicted). */
  readonly weightedPrecision: number;
  /** Σ argumentScore / gold (1 when the gold list is empty). */
  readonly weightedRecall: number;
  /** Every gold action aligned exactly, and no extra call. */
  readonly exactMatch: boolean;
  /**
   * tau2-bench's ACTION check: every gold action has *some* predicted call that matches it exactly
   * (not one-to-one; extra calls allowed).
   */
  readonly allGoldFound: boolean;
  /** Fraction of aligned pairs that keep the gold order (longest increasing run of predicted indices). */
  readonly orderScore: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Deep equality of decoded JSON values with optional numeric tolerance and string normalisation. */
export function valuesEqual(
  a: unknown,
  b: unknown,
  options: Pick<MatchOptions, 'numericTolerance' | 'normalizeStrings'> = {},
): boolean {
  const tolerance = options.numericTolerance ?? 0;
  const normalize = options.normalizeStrings ?? false;
  const stack: Array<[unknown, unknown]> = [[a, b]];
  let steps = 0;
  while (stack.length > 0) {
    if (++steps > 1_000_000) return false;
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') {
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      if (tolerance > 0 && Math.abs(x - y) <= tolerance) continue;
      return false;
    }
    if (typeof x === 'string' && typeof y === 'string') {
      if (normalize && x.trim().toLowerCase() === y.trim().toLowerCase()) continue;
      return false;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) stack.push([x[i], y[i]]);
      continue;
    }
    if (isRecord(x) && isRecord(y)) {
      const keys = Object.keys(x);
      if (keys.length !== Object.keys(y).length) return false;
      for (const key of keys) {
        if (!Object.hasOwn(y, key)) return false;
        stack.push([x[key], y[key]]);
      }
      continue;
    }
    return false;
  }
  return true;
}

/** The argument names compared for a gold action (compare_args or all; null-valued dropped). */
export function comparedArguments(gold: GoldAction, respectCompareArgs = true): string[] {
  const args = isRecord(gold.arguments) ? gold.arguments : {};
  const keys = respectCompareArgs && Array.isArray(gold.compare_args) ? gold.compare_args : Object.keys(args);
  return keys.filter((key) => typeof key === 'string' && args[key] !== null && args[key] !== undefined);
}

interface Scored {
  score: number;
  mismatched: string[];
}

function scoreArguments(
  call: ToolCall,
  gold: GoldAction,
  keys: readonly string[],
  options: MatchOptions,
): Scored {
  if (keys.length === 0) return { score: 1, mismatched: [] };
  const predicted = isRecord(call.arguments) ? call.arguments : {};
  const goldArgs = gold.arguments as Record<string, unknown>;
  const mismatched: string[] = [];
  for (const key of keys) {
    if (!(Object.hasOwn(predicted, key) && valuesEqual(predicted[key], goldArgs[key], options)))
      mismatched.push(key);
  }
  return { score: (keys.length - mismatched.length) / keys.length, mismatched };
}

/**
 * Hungarian algorithm (min cost) for an n×m matrix with n ≤ m; returns, for each row, its column.
 * O(n²·m). Deterministic.
 */
function assign(cost: number[][], n: number, m: number): number[] {
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j] = row matched to column j (1-based), 0 = none
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(INF);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const current = cost[i0 - 1]![j - 1]! - u[i0]! - v[j]!;
        if (current < minv[j]!) {
          minv[j] = current;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToColumn = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j]! > 0) rowToColumn[p[j]! - 1] = j - 1;
  return rowToColumn;
}

function longestIncreasing(sequence: readonly number[]): number {
  const tails: number[] = [];
  for (const value of sequence) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tails[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    tails[lo] = value;
  }
  return tails.length;
}

/**
 * Aligns predicted calls with gold actions and scores the alignment.
 *
 * Defaults: unordered, exact numbers and strings, `compare_args` honoured, no tool set (nothing
 * hallucinated), at most 10,000 predicted calls aligned.
 *
 * @example
 * ```ts
 * const m = matchActions(
 *   [{ name: 'get_user_details', arguments: { user_id: 'u1' } }, { name: 'refund_all', arguments: {} }],
 *   [{ name: 'get_user_details', arguments: { user_id: 'u1' } }],
 *   { tools: ['get_user_details'] },
 * );
 * // m.recall = 1, m.precision = 0.5, m.hallucinated = [1], m.exactMatch = false
 * ```
 */
export function matchActions(
  predicted: readonly ToolCall[],
  gold: readonly GoldAction[],
  options: MatchOptions = {},
): ActionMatch {
  const predictedList = Array.isArray(predicted) ? predicted : [];
  const goldList = Array.isArray(gold) ? gold : [];
  const limit = Math.min(predictedList.length, Math.max(0, options.maxPredicted ?? 10_000));
  const respect = options.respectCompareArgs ?? true;
  const keys = goldList.map((action) => comparedArguments(action, respect));
  const toolSet = options.tools === undefined ? undefined : new Set(options.tools);

  // score every same-name (gold, predicted) pair once
  const scores = new Map<number, Scored>(); // key = g * limit + p
  const byName = new Map<string, number[]>();
  for (let p = 0; p < limit; p++) {
    const name = predictedList[p]?.name;
    if (typeof name !== 'string') continue;
    const list = byName.get(name);
    if (list) list.push(p);
    else byName.set(name, [p]);
  }
  const allGoldFound = goldList.every((action, g) => {
    let found = false;
    for (const p of byName.get(action.name) ?? []) {
      const scored = scoreArguments(predictedList[p]!, action, keys[g]!, options);
      scores.set(g * limit + p, scored);
      if (scored.mismatched.length === 0) found = true;
    }
    return found;
  });
  // (every() stops early; finish scoring the rest)
  goldList.forEach((action, g) => {
    for (const p of byName.get(action.name) ?? []) {
      if (!scores.has(g * limit + p))
        scores.set(g * limit + p, scoreArguments(predictedList[p]!, action, keys[g]!, options));
    }
  });

  const pairs: ActionPair[] = [];
  const pairOf = (g: number, p: number): ActionPair => {
    const scored = scores.get(g * limit + p)!;
    return {
      goldIndex: g,
      predictedIndex: p,
      argumentScore: scored.score,
      exact: scored.mismatched.length === 0,
      mismatched: scored.mismatched,
    };
  };

  if (options.ordered) {
    // order-preserving alignment maximising (#pairs, Σ argumentScore): weight 1 + score/2 per pair
    const G = goldList.length;
    const width = limit + 1;
    const table = new Float64Array((G + 1) * width);
    for (let g = 1; g <= G; g++) {
      for (let p = 1; p <= limit; p++) {
        let best = Math.max(table[(g - 1) * width + p]!, table[g * width + p - 1]!);
        const scored = scores.get((g - 1) * limit + (p - 1));
        if (scored) best = Math.max(best, table[(g - 1) * width + p - 1]! + 1 + scored.score / 2);
        table[g * width + p] = best;
      }
    }
    let g = G;
    let p = limit;
    while (g > 0 && p > 0) {
      const here = table[g * width + p]!;
      const scored = scores.get((g - 1) * limit + (p - 1));
      if (scored && here === table[(g - 1) * width + p - 1]! + 1 + scored.score / 2) {
        pairs.push(pairOf(g - 1, p - 1));
        g--;
        p--;
      } else if (here === table[(g - 1) * width + p]!) g--;
      else p--;
    }
    pairs.reverse();
  } else {
    // per tool name: maximum-score one-to-one assignment
    const goldByName = new Map<string, number[]>();
    goldList.forEach((action, index) => {
      const list = goldByName.get(action.name);
      if (list) list.push(index);
      else goldByName.set(action.name, [index]);
    });
    for (const [name, golds] of goldByName) {
      const preds = byName.get(name);
      if (!preds || preds.length === 0) continue;
      const rowsAreGold = golds.length <= preds.length;
      const rows = rowsAreGold ? golds : preds;
      const columns = rowsAreGold ? preds : golds;
      const cost = rows.map((row) =>
        columns.map((column) => {
          const [g, p] = rowsAreGold ? [row, column] : [column, row];
          // prefer higher scores, then the earliest predicted call (deterministic ties)
          return 1 - scores.get(g * limit + p)!.score + p * 1e-9;
        }),
      );
      // one row: the best column directly (the common case: each tool called once)
      const chosen =
        rows.length === 1
          ? [cost[0]!.reduce((best, value, index, all) => (value < all[best]! ? index : best), 0)]
          : assign(cost, rows.length, columns.length);
      chosen.forEach((column, rowIndex) => {
        if (column < 0) return;
        const row = rows[rowIndex]!;
        const other = columns[column]!;
        pairs.push(rowsAreGold ? pairOf(row, other) : pairOf(other, row));
      });
    }
    pairs.sort((a, b) => a.goldIndex - b.goldIndex);
  }

  const matchedPredicted = new Set(pairs.map((pair) => pair.predictedIndex));
  const matchedGold = new Set(pairs.map((pair) => pair.goldIndex));
  const extra: number[] = [];
  const hallucinated: number[] = [];
  for (let p = 0; p < predictedList.length; p++) {
    if (!matchedPredicted.has(p)) extra.push(p);
    const name = predictedList[p]?.name;
    if (toolSet && !(typeof name === 'string' && toolSet.has(name))) hallucinated.push(p);
  }
  const missing = goldList.map((_, g) => g).filter((g) => !matchedGold.has(g));
  const predictedCount = predictedList.length;
  const goldCount = goldList.length;
  const argumentSum = pairs.reduce((sum, pair) => sum + pair.argumentScore, 0);
  const precision = predictedCount === 0 ? 1 : pairs.length / predictedCount;
  const recall = goldCount === 0 ? 1 : pairs.length / goldCount;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    goldCount,
    predictedCount,
    pairs,
    missing,
    extra,
    hallucinated,
    precision,
    recall,
    f1: predictedCount === 0 && goldCount > 0 ? 0 : goldCount === 0 && predictedCount > 0 ? 0 : f1,
    weightedPrecision: predictedCount === 0 ? 1 : argumentSum / predictedCount,
    weightedRecall: goldCount === 0 ? 1 : argumentSum / goldCount,
    exactMatch: missing.length === 0 && extra.length === 0 && pairs.every((pair) => pair.exact),
    allGoldFound,
    orderScore:
      pairs.length === 0 ? 1 : longestIncreasing(pairs.map((pair) => pair.predictedIndex)) / pairs.length,
  };
}
