-- Decides rate-limit requests, grouped by counter, each atomically, in one call.
-- KEYS[g]: the counter of group g.
-- KEYS[G + b]: the block key of the b-th group whose policy blocks (penalty).
-- ARGV: buckets per window of the approximate algorithm; the lease time in ms;
-- the number P of distinct policies in the call, each as four values:
-- algorithm (1 exact, 2 approximate), limit, window in ms, block in ms (0: a
-- refusal does not block); then per group
-- three values: the index (1..P) of its policy, the requests to decide (always
-- 1 for the approximate algorithm; a negative number -c is one request that
-- costs c units, admitted whole or not at all), and the extra admissions to
-- lease (exact only). A group whose policy index is 0 gives back unused leased admissions:
-- its other two values are their stamp and their number.
-- A group whose policy blocks is refused outright while its block key lives;
-- when it refuses, the block key is set for the block time.
-- Returns, per group, five values: requests admitted; what remains of the
-- limit after the call; ms until the oldest counted admission stops counting;
-- when some were refused, ms until a retry can pass (else 0); admissions
-- leased. Then, last, Redis's clock (ms) when the call ran.
-- Refused requests are never recorded. Every counter expires once nothing in
-- it counts any more.

-- One clock for every instance: Redis's, never the callers'.
local time = redis.call('TIME')
local clock = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local leaseMs = tonumber(ARGV[2])

-- Admissions read from a counter's tail at a time when dropping expired ones.
local TRIM_SLICE = 16

-- Numbers written out in full (never as 1.7e+12).
local function int(n) return string.format('%.0f', n) end

-- `n` admissions at `stamp`, in one command.
local function push(key, stamp, n)
  local values, text = {}, int(stamp)
  for j = 1, n do values[j] = text end
  redis.call('LPUSH', key, unpack(values))
end

-- Exact sliding window: the counter is a list of admission times (ms), newest
-- first. Requests are admitted while fewer than `limit` admissions lie in the
-- last `window` ms, so no interval of `window` ms ever holds more than `limit`.
-- A leased admission is stamped with the end of its lease, the latest moment
-- its holder may use it: it counts at least as long as the request it admits.
-- Leases are granted only while the window is less than half used, so near
-- the limit every request is decided here, on its own.
local function exact(key, limit, window, wanted, extra)
  -- One request of `cost` units: all of them fit, or it is refused.
  local cost = 1
  if wanted < 0 then
    cost, wanted, extra = -wanted, 1, 0
  end
  -- Admissions that left the window go, oldest first: amortised O(1), as each
  -- is removed once. When the oldest has left, the tail is read a slice at a
  -- time and its expired part cut with one LTRIM: a few commands for what a
  -- busy counter's traffic leaves behind, rather than two per admission. An
  -- entry newer than the one behind it (a lease's stamp, or a clock that
  -- stepped back) holds the older ones until it leaves too: counted a little
  -- longer, erring on refusing.
  local horizon = clock - window
  local oldest = tonumber(redis.call('LINDEX', key, -1))
  if oldest and oldest <= horizon then
    oldest = nil
    repeat
      local tail = redis.call('LRANGE', key, -TRIM_SLICE, -1)
      local expired = 0
      for i = #tail, 1, -1 do
        local stamp = tonumber(tail[i])
        if stamp > horizon then
          oldest = stamp
          break
        end
        expired = expired + 1
      end
      if expired > 0 then redis.call('LTRIM', key, 0, -(expired + 1)) end
    until oldest or #tail < TRIM_SLICE
  end
  local count = redis.call('LLEN', key)
  local admitted = math.min(wanted, math.max(0, limit - count))
  if cost > 1 then admitted = (count + cost <= limit) and 1 or 0 end
  local leased = math.max(0, math.min(extra, math.floor(limit / 2) - count - admitted))
  if admitted > 0 then push(key, clock, admitted * cost) end
  if leased > 0 then push(key, clock + leaseMs, leased) end
  if admitted + leased > 0 then
    -- Once the newest admission leaves the window the list means nothing: it
    -- expires then. Never shortened, so another caller's lease keeps counting.
    local ttl = window + (leased > 0 and leaseMs or 0)
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  end
  local retry = 0
  if admitted < wanted then
    -- Some refused: a retry of `cost` units passes once the (limit - cost + 1)-th
    -- newest admission (and so every older one) has left the window. A cost
    -- above the limit never passes: the whole window is the honest answer.
    retry = window
    if cost <= limit then
      retry = tonumber(redis.call('LINDEX', key, limit - cost)) + window - clock
    end
  end
  local reset = (oldest or clock) + window - clock
  return admitted, limit - count - admitted * cost - leased, reset, retry, leased
end

-- Approximate sliding window in constant memory: the counter is a hash of
-- admissions per bucket of `width` ms (field: bucket index), plus `n` (the
-- counted total) and `lo` (the lowest bucket present). The current bucket and
-- the `buckets` before it count, a span of between buckets * width >= window
-- and (buckets + 1) * width ms: never more than `limit` in any `window`, and a
-- request is refused early by at most one bucket's width.
local function approximate(key, limit, window, buckets, cost)
  local width = math.ceil(window / buckets)
  local now = clock
  local current = math.floor(now / width)
  local first = current - buckets
  local state = redis.call('HMGET', key, 'n', 'lo')
  local n = tonumber(state[1]) or 0
  local lo = tonumber(state[2])
  local changed = false
  if lo and lo < first then
    changed = true
    -- Buckets present lie within [lo, lo + buckets]: when all are older than
    -- `first`, the whole hash goes at once.
    if first - lo > buckets then
      redis.call('DEL', key)
      n = 0
      lo = nil
    else
      local stale = {}
      for j = lo, first - 1 do stale[#stale + 1] = int(j) end
      local counts = redis.call('HMGET', key, unpack(stale))
      for i = 1, #counts do n = n - (tonumber(counts[i]) or 0) end
      redis.call('HDEL', key, unpack(stale))
      lo = nil
      if n > 0 then
        for j = first, current do
          if redis.call('HEXISTS', key, int(j)) == 1 then
            lo = j
            break
          end
        end
      end
    end
  end
  if n + cost <= limit then
    redis.call('HINCRBY', key, int(current), cost)
    n = n + cost
    -- A clock that steps back writes below lo; keep lo the lowest bucket.
    if not lo or current < lo then lo = current end
    redis.call('HSET', key, 'n', n, 'lo', int(lo))
    -- The bucket just written stops counting at (current + buckets + 1) * width.
    redis.call('PEXPIRE', key, int((current + buckets + 1) * width - now))
    return 1, limit - n, (lo + buckets + 1) * width - now
  end
  if changed then redis.call('HSET', key, 'n', n, 'lo', int(lo)) end
  -- Refused: the first bucket whose expiry brings the count under the limit.
  local excess = n + cost - limit
  local dropped = 0
  local j = lo
  while j < current do
    dropped = dropped + (tonumber(redis.call('HGET', key, int(j))) or 0)
    if dropped >= excess then break end
    j = j + 1
  end
  return 0, 0, (j + buckets + 1) * width - now
end

local buckets = tonumber(ARGV[1])
local policies = tonumber(ARGV[3])
local first = 4 + 4 * policies
local groups = (#ARGV - first + 1) / 3
local nextBlock = groups + 1
local out = {}
for g = 1, groups do
  local key = KEYS[g]
  local a = first + 3 * (g - 1)
  local index, wanted, extra = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local admitted, remaining, reset, retry, leased = 0, 0, 0, 0, 0
  if index == 0 then
    -- Unused leased admissions given back: entries with the same stamp are alike.
    redis.call('LREM', key, extra, ARGV[a + 1])
  else
    local p = 4 + 4 * (index - 1)
    local kind, limit, window = tonumber(ARGV[p]), tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2])
    local block = tonumber(ARGV[p + 3])
    local blockKey, blocked = nil, 0
    if block > 0 then
      blockKey = KEYS[nextBlock]
      nextBlock = nextBlock + 1
      blocked = redis.call('PTTL', blockKey)
    end
    if blocked > 0 then
      -- Penalised: refused, not counted, until the block ends.
      reset, retry = blocked, blocked
    elseif kind == 2 then
      local allowed
      allowed, remaining, reset = approximate(key, limit, window, buckets, math.max(1, -wanted))
      if allowed == 1 then admitted = 1 else retry = reset end
    else
      admitted, remaining, reset, retry, leased = exact(key, limit, window, wanted, extra)
    end
    if blockKey and blocked <= 0 and admitted < math.max(1, wanted) then
      -- Refused past the limit: the key is blocked for the block time, or until
      -- the window lets it in again if that is later.
      retry = math.max(block, retry)
      redis.call('SET', blockKey, '1', 'PX', int(retry))
    end
  end
  local o = 5 * (g - 1)
  out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = admitted, remaining, reset, retry, leased
end
out[#out + 1] = clock
return out
