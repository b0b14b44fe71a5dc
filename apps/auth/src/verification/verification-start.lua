-- Starts (or restarts) a challenge atomically: every medium key is cleared,
-- the new ones written, and every key given the challenge's TTL.
-- KEYS[1] account hash, KEYS[2] owner, KEYS[3..8] media hashes in MEDIA_TYPES order
-- ARGV[1] now (ISO 8601), ARGV[2] TTL (s), ARGV[3] owner id, ARGV[4] media_types,
-- ARGV[5..16] name, token for each media type in KEYS order ('' name: not in this challenge)
local ttl = tonumber(ARGV[2])
for i = 1, 8 do
  redis.call('DEL', KEYS[i])
end
redis.call('HSET', KEYS[1], 'status', 'Pending', 'created_at', ARGV[1], 'updated_at', ARGV[1],
  'media_types', ARGV[4])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl)
for i = 1, 6 do
  local name = ARGV[3 + 2 * i]
  if name ~= '' then
    redis.call('HSET', KEYS[2 + i], 'name', name, 'status', 'Pending', 'token', ARGV[4 + 2 * i])
    redis.call('EXPIRE', KEYS[2 + i], ttl)
  end
end
return 1
