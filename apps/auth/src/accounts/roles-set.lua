-- Replaces an account's roles only while the id still holds that account
-- (its generation): a deleted account never gets roles back.
-- KEYS[1] user:<id>, KEYS[2] its roles key (one slot)
-- ARGV[1] generation, ARGV[2..] the roles (none: no roles)
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[2])
if #ARGV >= 2 then
  redis.call('SADD', KEYS[2], unpack(ARGV, 2))
end
return 1
