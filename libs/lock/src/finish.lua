-- Marks a run-once task done and ends its lease in one step, only while the
-- runner still holds the lease (a runner that lost it must not claim the run).
-- KEYS: the lease key, the done key. ARGV: owner value, done TTL ms.
-- Returns 1, or 0 when the lease is no longer this owner's.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('DEL', KEYS[1])
return 1
