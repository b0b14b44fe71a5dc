-- Changes the name in user:<id> only while the id still holds that account
-- (its generation): a deleted account's hash is never written again.
-- KEYS[1] user:<id>  ARGV[1] generation, ARGV[2] the new name
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'name', ARGV[2])
return 1
