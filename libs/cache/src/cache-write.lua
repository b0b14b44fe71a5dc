-- Writes an entry and announces it on the invalidation bus in one step: a
-- change is never in Redis without every instance being told to drop its copy.
-- KEYS[1] entry; ARGV: record, PX milliseconds, channel, bus message.
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
