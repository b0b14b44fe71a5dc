-- The common case of release.lua, alone in its call: one lease.
-- KEYS: the lease key. ARGV: owner value.
-- Returns 1 when the lease was still this owner's (it is deleted), else 0.
-- The first queued waiter, if any, is woken (see queue.lua).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
local first = redis.call('ZRANGE', KEYS[1] .. ':queue', 0, 0)[1]
if first then redis.call('SPUBLISH', KEYS[1] .. ':wake', first) end
return 1
