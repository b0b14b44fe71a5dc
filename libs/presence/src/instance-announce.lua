-- Announces (or renews) a realtime instance's address for a while, and drops
-- the addresses whose announcement lapsed. Times are Redis's clock.
-- KEYS[1] realtime:{instances} zset ADVERTISE_URL -> lapses at (ms)
-- ARGV[1] the instance's ADVERTISE_URL, ARGV[2] how long the announcement lasts (ms)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
