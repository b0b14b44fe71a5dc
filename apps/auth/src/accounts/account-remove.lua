-- Removes an account written by account-create.lua, only if the id still
-- holds that account (its generation): never an account written since.
-- KEYS: every key of the account (AccountKeys.account, one slot), user:<id> first
-- ARGV[1] generation
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then
  return 0
end
redis.call('DEL', unpack(KEYS))
return 1
