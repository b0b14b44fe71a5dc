-- Stores an account's reset token (its hash), replacing any earlier one, only
-- while the id holds the account of that generation; it expires on its own.
-- KEYS[1] user:<id>, KEYS[2] its password-reset key (one slot)
-- ARGV[1] generation, ARGV[2] the secret's SHA-256 (hex), ARGV[3] TTL (ms)
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'hash', ARGV[2], 'gen', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
