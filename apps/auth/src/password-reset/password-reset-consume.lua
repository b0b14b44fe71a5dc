-- Uses a reset token once: when the stored hash is the one presented and the
-- id still holds the account it was issued for, sets the new password hash
-- and deletes the token, in one step, so two uses on any instances cannot
-- both succeed.
-- KEYS[1] user:<id>, KEYS[2] its password key, KEYS[3] its password-reset key (one slot)
-- ARGV[1] the presented secret's SHA-256 (hex), ARGV[2] the new password hash
-- Returns 1 used, 0 no such token (unknown, used, expired) or not for this account.
local stored = redis.call('HMGET', KEYS[3], 'hash', 'gen')
if not stored[1] or stored[1] ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[3])
if redis.call('HGET', KEYS[1], 'gen') ~= stored[2] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
