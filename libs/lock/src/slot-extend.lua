-- Renews one holder's lease (after queue.lua and slots.lua), only while it
-- still holds. KEYS: the holders key, the fence key. ARGV: member, lease TTL
-- ms, fence TTL ms. Returns 1 when extended, 0 when it no longer holds.
local h, member, ttl = KEYS[1], ARGV[1], tonumber(ARGV[2])
local us = clock_now()
holders(h, us)
if not redis.call('ZSCORE', h, member) then return 0 end
redis.call('ZADD', h, 'XX', math.floor(us / 1000) + ttl, member)
if redis.call('PTTL', h) < ttl then redis.call('PEXPIRE', h, ttl) end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
