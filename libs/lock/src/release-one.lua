-- The common case of release.lua, alone in its call: one lease.
-- KEYS: the lease key. ARGV: owner value.
-- Returns 1 when the lease was still this owner's (it is deleted), else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
