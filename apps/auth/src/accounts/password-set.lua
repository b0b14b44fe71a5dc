-- Replaces an account's password hash only while the id still holds that
-- account (its generation): a deleted account never gets a password back.
-- KEYS[1] user:<id>, KEYS[2] its password key (one slot)
-- ARGV[1] generation, ARGV[2] the new password hash
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
