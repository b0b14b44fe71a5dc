-- Removes an entry and announces it on the invalidation bus in one step. The
-- announcement goes out even when Redis had no such entry: an instance may
-- still hold a copy (Redis evicted it, or it expired a moment ago).
-- KEYS[1] entry; ARGV: channel, bus message. Returns 1 when Redis had it.
local removed = redis.call('UNLINK', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return removed
