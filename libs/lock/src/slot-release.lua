-- Gives up one place (after queue.lua and slots.lua): a holder's lease, or a
-- waiter's place in the queue; then wakes the waiters whose turn it now is.
-- KEYS: the holders key. ARGV: member, limit.
-- Returns 1 when the member still held (its lease is deleted), else 0.
local h, member = KEYS[1], ARGV[1]
local us = clock_now()
local expiry = redis.call('ZSCORE', h, member)
local held = 0
if expiry then
  if tonumber(expiry) > math.floor(us / 1000) then held = 1 end
  redis.call('ZREM', h, member)
end
dequeue(h, member)
wake(h, next_in_line(h, us, tonumber(ARGV[2]), nil))
return held
