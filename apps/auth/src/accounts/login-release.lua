-- Frees a login in `users:` only if it still maps to the given id.
-- KEYS[1] users:  ARGV[1] lower-cased login, ARGV[2] user id
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
return redis.call('HDEL', KEYS[1], ARGV[1])
