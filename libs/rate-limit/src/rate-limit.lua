-- Decides one or more rate-limit requests, each atomically, in one call.
-- KEYS[i]: the counter of request i.
-- ARGV: buckets per window of the approximate algorithm; the number P of
-- distinct policies in the call, each as three values: algorithm (1 exact,
-- 2 approximate), limit, window in ms; then per request the index (1..P) of
-- its policy.
-- Returns, per request: remaining (-1 when refused) and the ms until the
-- oldest counted admission stops counting (when refused: until a retry can
-- pass).
-- Refused requests are never recorded. Every counter expires once nothing in
-- it counts any more.

-- One clock for every instance: Redis's, never the callers'.
local time = redis.call('TIME')
local clock = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Numbers written out in full (never as 1.7e+12).
local function int(n) return string.format('%.0f', n) end

-- Exact sliding window: the counter is a list of admission times (ms), newest
-- first. A request is admitted when fewer than `limit` admissions lie in the
-- last `window` ms, so no interval of `window` ms ever holds more than `limit`.
-- All requests of one call share the clock, so a key that comes again in the
-- same call is already trimmed (and has its TTL): what is known of each key
-- in this call is kept here, by window.
local trimmedFor, oldestOf, expiresFor = {}, {}, {}
local function exact(key, limit, window)
  local now = clock
  local oldest
  if trimmedFor[key] == window then
    oldest = oldestOf[key]
  else
    -- Admissions that left the window go, oldest first: amortised O(1), as each
    -- is popped once. Should the clock step back, an entry sits out of order
    -- until it reaches the tail: counted a little longer, erring on refusing.
    local horizon = now - window
    oldest = tonumber(redis.call('LINDEX', key, -1))
    while oldest and oldest <= horizon do
      redis.call('RPOP', key)
      oldest = tonumber(redis.call('LINDEX', key, -1))
    end
    trimmedFor[key] = window
  end
  local count = redis.call('LPUSH', key, int(now))
  if count <= limit then
    if expiresFor[key] ~= window then
      -- Once the newest admission leaves the window the list means nothing: it expires then.
      redis.call('PEXPIRE', key, window)
      expiresFor[key] = window
    end
    oldest = oldest or now
    oldestOf[key] = oldest
    return 1, limit - count, oldest + window - now
  end
  -- Over the limit: take it back. A retry passes once the limit-th newest
  -- admission (and so every older one) has left the window.
  redis.call('LPOP', key)
  oldestOf[key] = oldest
  local pivot = tonumber(redis.call('LINDEX', key, limit - 1))
  return 0, 0, pivot + window - now
end

-- Approximate sliding window in constant memory: the counter is a hash of
-- admissions per bucket of `width` ms (field: bucket index), plus `n` (the
-- counted total) and `lo` (the lowest bucket present). The current bucket and
-- the `buckets` before it count, a span of between buckets * width >= window
-- and (buckets + 1) * width ms: never more than `limit` in any `window`, and a
-- request is refused early by at most one bucket's width.
local function approximate(key, limit, window, buckets)
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
  if n < limit then
    redis.call('HINCRBY', key, int(current), 1)
    n = n + 1
    -- A clock that steps back writes below lo; keep lo the lowest bucket.
    if not lo or current < lo then lo = current end
    redis.call('HSET', key, 'n', n, 'lo', int(lo))
    -- The bucket just written stops counting at (current + buckets + 1) * width.
    redis.call('PEXPIRE', key, int((current + buckets + 1) * width - now))
    return 1, limit - n, (lo + buckets + 1) * width - now
  end
  if changed then redis.call('HSET', key, 'n', n, 'lo', int(lo)) end
  -- Refused: the first bucket whose expiry brings the count under the limit.
  local excess = n - limit + 1
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
local policies = tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS do
  local p = 3 + 3 * (tonumber(ARGV[2 + 3 * policies + i]) - 1)
  local kind, limit, window = tonumber(ARGV[p]), tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2])
  local allowed, remaining, reset
  if kind == 2 then
    allowed, remaining, reset = approximate(KEYS[i], limit, window, buckets)
  else
    allowed, remaining, reset = exact(KEYS[i], limit, window)
  end
  if allowed == 1 then out[2 * i - 1] = remaining else out[2 * i - 1] = -1 end
  out[2 * i] = reset
end
return out
