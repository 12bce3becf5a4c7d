/**
 * The Lua scripts of the Redis state: each check is one script, so it runs atomically and costs one round
 * trip. Time inside a script is Redis's own clock (`TIME`), so replicas whose clocks differ still agree on
 * refills, leases and cooldowns. Money travels as integer nano-USD strings (never through Lua's `tostring`).
 * The rules are those of `common.ts` (`takeFromBuckets`, `budgetRefuses`), written again in Lua.
 */

const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
`;

/**
 * Drops expired reservations of a scope and sets `reserved` to the sum still reserved. An expired one is
 * remembered for a day as lapsed, so its late settlement still counts (once).
 */
const purgeReservations = (zset: string, amounts: string, sum: string, lapsed: string): string => `
local expired = redis.call('ZRANGEBYSCORE', ${zset}, '-inf', now)
for _, id in ipairs(expired) do
  local amount = redis.call('HGET', ${amounts}, id)
  if amount then
    redis.call('DECRBY', ${sum}, amount)
    redis.call('HDEL', ${amounts}, id)
  end
  redis.call('ZREM', ${zset}, id)
  redis.call('ZADD', ${lapsed}, now + 86400000, id)
  redis.call('PEXPIRE', ${lapsed}, 86400000)
end
local reserved = tonumber(redis.call('GET', ${sum}) or '0')
`;

/** The four keys of a scope's reservations: zset id → expiry, amounts, running sum, lapsed ids. */
const PURGE_RESERVATIONS = purgeReservations('KEYS[1]', 'KEYS[2]', 'KEYS[3]', 'KEYS[4]');

/** Lists the workers cooling down into `cooling` ({worker, msLeft, ...}) and drops ended cooldowns. */
const listCooldowns = (hash: string): string => `
local all = redis.call('HGETALL', ${hash})
local cooling = {}
for i = 1, #all, 2 do
  local left = tonumber(all[i + 1]) - now
  if left > 0 then
    cooling[#cooling + 1] = all[i]
    cooling[#cooling + 1] = math.ceil(left)
  else
    redis.call('HDEL', ${hash}, all[i])
  end
end
`;

/**
 * Reads the buckets at `key` and refills the limited ones to `now` into r, tk; rates and capacities from
 * ARGV[base..base+3]. Each bucket has its own timestamp (`ra`, `ta`): a call that limits only one leaves the
 * other as it was.
 */
const refillBucket = (key: string, base: number): string => `
local rper, rcap = tonumber(ARGV[${base}]), tonumber(ARGV[${base + 1}])
local tper, tcap = tonumber(ARGV[${base + 2}]), tonumber(ARGV[${base + 3}])
local stored = redis.call('HMGET', ${key}, 'r', 'ra', 't', 'ta')
local r, tk = rcap, tcap
if rper > 0 then
  r = math.min(rcap, (tonumber(stored[1]) or rcap) + math.max(0, now - (tonumber(stored[2]) or now)) * rper)
end
if tper > 0 then
  tk = math.min(tcap, (tonumber(stored[3]) or tcap) + math.max(0, now - (tonumber(stored[4]) or now)) * tper)
end
`;

/** `takeFromBuckets`'s refusal rule: rwait, twait in whole ms (0: enough), `which` waits longest, `need`. */
const bucketWaits = (tokens: string): string => `
local need = math.min(math.max(0, ${tokens}), tcap)
local rwait, twait = 0, 0
if rper > 0 and r < 1 then rwait = math.ceil((1 - r) / rper) end
if tper > 0 and tk < need then twait = math.ceil((need - tk) / tper) end
local which = 'requests'
if twait > rwait then which = 'tokens' end
`;

/** Writes the limited buckets back to `key`; the key lives until every bucket in it is full again. */
const storeBucket = (key: string): string => `
local ttl = redis.call('PTTL', ${key})
if rper > 0 then
  redis.call('HSET', ${key}, 'r', r, 'ra', now)
  ttl = math.max(ttl, math.ceil((rcap - r) / rper) + 1000)
end
if tper > 0 then
  redis.call('HSET', ${key}, 't', tk, 'ta', now)
  ttl = math.max(ttl, math.ceil((tcap - tk) / tper) + 1000)
end
if ttl > 0 then redis.call('PEXPIRE', ${key}, ttl) end
`;

/** Takes one request and `need` tokens, and stores the bucket. */
const takeFromBucket = (key: string): string => `
if rper > 0 then r = r - 1 end
if tper > 0 then tk = tk - need end
${storeBucket(key)}`;

/**
 * Token buckets. KEYS[1]: the bucket hash. ARGV: requests per ms, request capacity, tokens per ms, token
 * capacity, tokens, mode (`take` | `adjust`). Returns {1} allowed, {0, limit, retryAfterMs} refused.
 */
export const RATE_SCRIPT = `${NOW}${refillBucket('KEYS[1]', 1)}
local tokens = tonumber(ARGV[5])
if ARGV[6] == 'adjust' then
  if tper == 0 then return {1} end
  tk = math.max(-tcap, math.min(tcap, tk - tokens))
  ${storeBucket('KEYS[1]')}
  return {1}
end
${bucketWaits('tokens')}
if rwait > 0 or twait > 0 then return {0, which, math.max(rwait, twait)} end
${takeFromBucket('KEYS[1]')}
return {1}
`;

/** Concurrency slots. KEYS[1]: zset lease → expiry. ARGV: max, leaseMs, id. Returns {1, n} or {0, active}. */
export const ACQUIRE_SLOT_SCRIPT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local active = redis.call('ZCARD', KEYS[1])
if active >= tonumber(ARGV[1]) then return {0, active} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(last[2])) + 1000)
return {1, active + 1}
`;

/**
 * Budget reservation. KEYS[1..4]: reservation keys (see PURGE_RESERVATIONS); KEYS[5..]: spend counters of
 * the limited windows. ARGV[1..3]: id, estimate (nano), leaseMs; ARGV[4..]: the limits (nano), ARGV[i - 1]
 * for KEYS[i]. Returns {1} or {0, window index (1-based), spent, reserved}.
 */
export const RESERVE_SCRIPT = `${NOW}${PURGE_RESERVATIONS}
local estimate = tonumber(ARGV[2])
for i = 5, #KEYS do
  local spent = tonumber(redis.call('GET', KEYS[i]) or '0')
  local limit = tonumber(ARGV[i - 1])
  if spent + reserved >= limit or spent + reserved + estimate > limit then
    return {0, i - 4, spent, reserved}
  end
end
local expires = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], expires, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('INCRBY', KEYS[3], ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local keep = math.ceil(tonumber(last[2])) + 1000
for i = 1, 3 do redis.call('PEXPIREAT', KEYS[i], keep) end
return {1}
`;

/**
 * Budget settlement, counted once: for a running reservation, or for one that lapsed (expired unsettled in
 * the last day); a repeated settlement (a replay after a timed-out reply that did run) finds neither.
 * KEYS[1..4]: reservation keys; KEYS[5..7]: daily, monthly, total counters. ARGV: id, actual (nano), daily
 * counter expiry, monthly counter expiry (epoch ms), force ('1': count even if Redis no longer knows the
 * reservation — a settlement that never reached Redis, replayed after a restart that lost the data).
 * Returns 1, or 0 when nothing was counted.
 */
export const SETTLE_SCRIPT = `${NOW}
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  local amount = redis.call('HGET', KEYS[2], ARGV[1])
  if amount then
    redis.call('DECRBY', KEYS[3], amount)
    redis.call('HDEL', KEYS[2], ARGV[1])
  end
else
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  if redis.call('ZREM', KEYS[4], ARGV[1]) == 0 and ARGV[5] ~= '1' then return 0 end
end
for i = 5, 7 do redis.call('INCRBY', KEYS[i], ARGV[2]) end
redis.call('PEXPIREAT', KEYS[5], ARGV[3])
redis.call('PEXPIREAT', KEYS[6], ARGV[4])
return 1
`;

/** Budget figures. KEYS as in the reservation. Returns {reserved, spent...}. */
export const USAGE_SCRIPT = `${NOW}${PURGE_RESERVATIONS}
local out = {reserved}
for i = 5, #KEYS do out[#out + 1] = tonumber(redis.call('GET', KEYS[i]) or '0') end
return out
`;

/**
 * A failed call. KEYS: failures hash, cooldowns hash. ARGV: worker, threshold, cooldownMs, forced cooldown ms
 * (an upstream's Retry-After; 0: none). Returns ms left.
 */
export const FAILURE_SCRIPT = `${NOW}
local count = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if count >= tonumber(ARGV[2]) then redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[3])) end
local forced = tonumber(ARGV[4] or '0')
if forced > 0 then
  local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
  if now + forced > current then redis.call('HSET', KEYS[2], ARGV[1], now + forced) end
end
local untilMs = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
return math.ceil(math.max(0, untilMs - now))
`;

/** A forced cooldown. KEYS: cooldowns hash. ARGV: worker, cooldownMs. */
export const COOL_DOWN_SCRIPT = `${NOW}
local untilMs = now + tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if untilMs > current then redis.call('HSET', KEYS[1], ARGV[1], untilMs) end
return 1
`;

/** Workers cooling down. KEYS: cooldowns hash. Returns {worker, msLeft, ...}; drops ended cooldowns. */
export const COOLDOWNS_SCRIPT = `${NOW}${listCooldowns('KEYS[1]')}
return cooling
`;

/**
 * Admission of one request, all or nothing: the rate buckets, a concurrency slot and a budget reservation of
 * one scope are checked together and taken only if all allow; the cooldown list comes back in the same trip.
 * KEYS: bucket, slot zset, the four reservation keys, cooldowns hash, spend counters of the limited windows.
 * ARGV: [1] rate on (1/0), [2..6] requests per ms, request capacity, tokens per ms, token capacity, tokens,
 * [7] slot max (-1: none), [8] slot lease ms, [9] slot id, [10] estimate nano (-1: no budget), [11]
 * reservation lease ms, [12] reservation id, [13..] limits, ARGV[i + 5] for KEYS[i].
 * Returns {1, cooling} or {0, 'rate', limit, retryAfterMs, cooling} | {0, 'concurrency', active, cooling} |
 * {0, 'budget', window index, spent, reserved, cooling}.
 */
export const ADMIT_SCRIPT = `${NOW}${listCooldowns('KEYS[7]')}
local rateOn = ARGV[1] == '1'
${refillBucket('KEYS[1]', 2)}
${bucketWaits('tonumber(ARGV[6])')}
if rateOn and (rwait > 0 or twait > 0) then return {0, 'rate', which, math.max(rwait, twait), cooling} end
local slotMax = tonumber(ARGV[7])
if slotMax >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  local active = redis.call('ZCARD', KEYS[2])
  if active >= slotMax then return {0, 'concurrency', active, cooling} end
end
local estimate = tonumber(ARGV[10])
if estimate >= 0 then
  ${purgeReservations('KEYS[3]', 'KEYS[4]', 'KEYS[5]', 'KEYS[6]')}
  for i = 8, #KEYS do
    local spent = tonumber(redis.call('GET', KEYS[i]) or '0')
    local limit = tonumber(ARGV[i + 5])
    if spent + reserved >= limit or spent + reserved + estimate > limit then
      return {0, 'budget', i - 7, spent, reserved, cooling}
    end
  end
end
if rateOn then
  ${takeFromBucket('KEYS[1]')}
end
if slotMax >= 0 then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[8]), ARGV[9])
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[2], math.ceil(tonumber(last[2])) + 1000)
end
if estimate >= 0 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[11]), ARGV[12])
  redis.call('HSET', KEYS[4], ARGV[12], ARGV[10])
  redis.call('INCRBY', KEYS[5], ARGV[10])
  local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  local keep = math.ceil(tonumber(last[2])) + 1000
  for i = 3, 5 do redis.call('PEXPIREAT', KEYS[i], keep) end
end
return {1, cooling}
`;

/** Key lookup by hash. KEYS: hash → id, id → record. ARGV: hash. Returns the record or nil. */
export const LOOKUP_KEY_SCRIPT = `
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
return redis.call('HGET', KEYS[2], id)
`;

/**
 * Compare-and-set of a key record. KEYS: id → record, hash → id. ARGV: id, expected record, new record, and
 * optionally a hash to unlink (revocation). Returns 1, or 0 when the record changed meanwhile.
 */
export const SWAP_KEY_SCRIPT = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] then redis.call('HDEL', KEYS[2], ARGV[4]) end
return 1
`;
