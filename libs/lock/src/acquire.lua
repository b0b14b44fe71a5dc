-- Takes locks, each on all of its resources or none, and issues each lock's
-- fencing token in the same step. One call carries one or more independent
-- requests (the node batches requests made in the same tick; on Redis Cluster
-- a call carries one request, whose keys share a hash tag).
-- ARGV, six per request: owner value, lease TTL ms, token floor, fence TTL ms,
--   number of resources, guard flag ('1' when a guard key follows).
-- KEYS, per request: the lease key and the fence key of each resource, in
--   pairs; then the guard key (a run-once task's "done" marker) if flagged.
-- Returns one reply per request: {1, token} when granted, {0, ms until the
-- blocking lease expires} when a resource is held (or has queued waiters: see
-- acquire-queued.lua; then ms is -1), {2} when the guard exists.

-- Tokens are never below the server clock in microseconds, so they keep rising
-- even when Redis lost the counters (a restart without persistence, a failover
-- to a replica that lagged behind).
local now = redis.call('TIME')
local clock = tonumber(now[1]) * 1000000 + tonumber(now[2])

local function blocked(lease)
  local pttl = redis.call('PTTL', lease)
  -- -2: it expired just now (try again at once); -1: a lease without TTL (poll).
  if pttl == -2 then pttl = 0 end
  return {0, pttl}
end

local function acquire(first, last, value, ttl, floor, fence_ttl, guard)
  if guard and redis.call('EXISTS', guard) == 1 then return {2} end
  -- Waiters queued for a resource come first (the queue key shares the lease's hash tag).
  for i = first, last, 2 do
    if redis.call('EXISTS', KEYS[i] .. ':queue') == 1 then return {0, -1} end
  end
  local single = first + 1 == last
  if single then
    -- One resource, the common case: test and take the lease in one call.
    if not redis.call('SET', KEYS[first], value, 'NX', 'PX', ttl) then return blocked(KEYS[first]) end
  else
    for i = first, last, 2 do
      if redis.call('EXISTS', KEYS[i]) == 1 then return blocked(KEYS[i]) end
    end
  end
  local token = clock
  if floor > token then token = floor end
  for i = first + 1, last, 2 do
    local previous = tonumber(redis.call('GET', KEYS[i]) or '0')
    if previous >= token then token = previous + 1 end
  end
  -- '%.0f' writes the exact integer (tokens stay below 2^53); tostring would round it.
  local text = string.format('%.0f', token)
  for i = first, last, 2 do
    if not single then redis.call('SET', KEYS[i], value, 'PX', ttl) end
    redis.call('SET', KEYS[i + 1], text, 'PX', fence_ttl)
  end
  return {1, text}
end

local replies = {}
local key = 0
for r = 0, #ARGV / 6 - 1 do
  local a = r * 6
  local first = key + 1
  key = key + 2 * tonumber(ARGV[a + 5])
  local last = key
  local guard = nil
  if ARGV[a + 6] == '1' then
    key = key + 1
    guard = KEYS[key]
  end
  replies[r + 1] = acquire(first, last, ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3]), ARGV[a + 4], guard)
end
return replies
