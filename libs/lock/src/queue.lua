-- Shared by the scripts that keep a resource's wait queue (loaded before them).
-- A resource whose lease (or holder set) is the key K has a queue of waiters:
--   K .. ':queue'        sorted set: waiter -> arrival (server clock, µs)
--   K .. ':queue:until'  sorted set: waiter -> deadline (server clock, ms);
--                        a waiter past it is taken for dead and loses its place
-- and a wake-up channel K .. ':wake' (sharded pub/sub, same hash tag as K),
-- on which the waiters whose turn came are published, space-separated.
-- The queue keys are named from K here rather than passed: they share K's
-- hash tag, so they live in K's slot.

local function clock_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- Enters (or keeps) `waiter`'s place and pushes its deadline to now + live ms.
local function enqueue(k, waiter, us, live)
  local q, u = k .. ':queue', k .. ':queue:until'
  redis.call('ZADD', q, 'NX', us, waiter)
  redis.call('ZADD', u, math.floor(us / 1000) + live, waiter)
  -- The queue outlives its longest-lived waiter, then disappears by itself.
  if redis.call('PTTL', q) < live then
    redis.call('PEXPIRE', q, live)
    redis.call('PEXPIRE', u, live)
  end
end

local function dequeue(k, waiter)
  redis.call('ZREM', k .. ':queue', waiter)
  redis.call('ZREM', k .. ':queue:until', waiter)
end

-- The live waiters in arrival order, at most `limit` of them; dead ones met on the way are removed.
local function live_waiters(k, us, limit)
  local q, u = k .. ':queue', k .. ':queue:until'
  local now_ms = math.floor(us / 1000)
  local found = {}
  local start = 0
  while #found < limit do
    local batch = redis.call('ZRANGE', q, start, start + 15)
    if #batch == 0 then break end
    for _, waiter in ipairs(batch) do
      local deadline = tonumber(redis.call('ZSCORE', u, waiter) or '0')
      if deadline < now_ms then
        dequeue(k, waiter)
        start = start - 1
      elseif #found < limit then
        found[#found + 1] = waiter
      end
      start = start + 1
    end
  end
  return found
end

local function wake(k, waiters)
  if #waiters > 0 then redis.call('SPUBLISH', k .. ':wake', table.concat(waiters, ' ')) end
end

-- A fencing token: never below the server clock in µs, above the last token of every fence key.
local function next_token(us, floor, fences)
  local token = us
  if floor > token then token = floor end
  for _, fence in ipairs(fences) do
    local previous = tonumber(redis.call('GET', fence) or '0')
    if previous >= token then token = previous + 1 end
  end
  -- '%.0f' writes the exact integer (tokens stay below 2^53); tostring would round it.
  return string.format('%.0f', token)
end
