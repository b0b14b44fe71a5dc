-- Stores a new session and indexes it under its user, both with TTLs.
-- KEYS[1] session hash, KEYS[2] the user's session index (same hash tag)
-- ARGV[1] session id, ARGV[2] now (ms), ARGV[3] idle TTL (ms), ARGV[4] absolute expiry (ms),
-- ARGV[5..] the hash's field/value pairs
local now = tonumber(ARGV[2])
local idle = tonumber(ARGV[3])
local expiresAt = tonumber(ARGV[4])
local fields = {}
for i = 5, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], math.min(idle, expiresAt - now))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], expiresAt, ARGV[1])
-- The index lives as long as its longest-lived session could.
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1
