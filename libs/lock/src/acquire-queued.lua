-- A waiting acquisition's attempt (after queue.lua): takes its place in the
-- wait queue of every resource (or keeps it, renewing its deadline), and takes
-- the lock only when every lease is free and it is the first live waiter of
-- every queue. Tokens as in acquire.lua.
-- KEYS: the lease key and the fence key of each resource, in pairs.
-- ARGV: owner value, lease TTL ms, fence TTL ms, waiter deadline ms (how long
--   the place is kept without a new attempt).
-- Returns {1, token} when granted; {0, ms} when not: ms until the blocking
-- lease expires when this waiter is first in line (so it tries then, in case
-- the holder died), -1 otherwise (it waits to be woken).
local value, ttl, fence_ttl, live = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local us = clock_now()
for i = 1, #KEYS, 2 do enqueue(KEYS[i], value, us, live) end
for i = 1, #KEYS, 2 do
  local first = live_waiters(KEYS[i], us, 1)[1]
  local pttl = redis.call('PTTL', KEYS[i])
  if pttl ~= -2 then
    if first == value then return {0, pttl} end
    return {0, -1}
  end
  if first ~= value then
    -- Free, but another waiter's turn: make sure it knows.
    wake(KEYS[i], {first})
    return {0, -1}
  end
end
local fences = {}
for i = 2, #KEYS, 2 do fences[#fences + 1] = KEYS[i] end
local token = next_token(us, 0, fences)
for i = 1, #KEYS, 2 do
  redis.call('SET', KEYS[i], value, 'PX', ttl)
  redis.call('SET', KEYS[i + 1], token, 'PX', fence_ttl)
  dequeue(KEYS[i], value)
end
return {1, token}
