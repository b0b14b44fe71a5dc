-- Removes an account written by account-create.lua, only if the id still
-- holds that account (its generation): never an account written since.
-- KEYS[1] user:<id>, KEYS[2] its password key, KEYS[3] its roles key,
-- KEYS[4] its password-reset key (one slot)
-- ARGV[1] generation
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return 1
