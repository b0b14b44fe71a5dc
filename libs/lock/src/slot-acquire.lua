-- Takes one place among a resource's holders (a semaphore permit, a read or
-- a write lock; after queue.lua and slots.lua), first come first served: it
-- is granted only if it fits beside the holders once every live waiter queued
-- before it is in. The fencing token is issued in the same step.
-- KEYS: the holders key, the fence key.
-- ARGV: member (mode .. owner value), lease TTL ms, fence TTL ms, limit,
--   waiter deadline ms (0: do not queue when refused).
-- Returns {1, token} when granted; {0, ms} when not: ms until the first
-- holder's lease expires when this caller is first in line, -1 otherwise.
local h, member, ttl, fence_ttl = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
local limit, live = tonumber(ARGV[4]), tonumber(ARGV[5])
local us = clock_now()
local now_ms = math.floor(us / 1000)
local queued = redis.call('ZSCORE', h .. ':queue', member)
if live > 0 then enqueue(h, member, us, live) end
local line = next_in_line(h, us, limit, member)
local granted = false
if queued or live > 0 then
  granted = line[#line] == member
else
  -- Not queued: behind everyone already in line, and only if nobody waits in vain.
  local count, writer = holders(h, us)
  granted = #live_waiters(h, us, 1) == 0 and fits(member, count, writer, limit)
end
if not granted then
  -- Those whose turn it is may have missed their message: wake them again.
  wake(h, line)
  local first = live_waiters(h, us, 1)[1]
  if first == member then
    local soonest = redis.call('ZRANGE', h, 0, 0, 'WITHSCORES')[2]
    if soonest then return {0, math.max(0, tonumber(soonest) - now_ms)} end
  end
  return {0, -1}
end
local token = next_token(us, 0, {KEYS[2]})
redis.call('ZADD', h, now_ms + ttl, member)
if redis.call('PTTL', h) < ttl then redis.call('PEXPIRE', h, ttl) end
redis.call('SET', KEYS[2], token, 'PX', fence_ttl)
dequeue(h, member)
return {1, token}
