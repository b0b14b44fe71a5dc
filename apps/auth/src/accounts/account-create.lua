-- Writes a new account only if its user id was never given: refuses when any
-- key of the id exists (an earlier account's profile, password, roles or second factor).
-- KEYS[1] user:<id>, KEYS[2] its password key, KEYS[3] its roles key, then its
-- other private keys (AccountKeys.account, one slot)
-- ARGV[1] id, ARGV[2] generation, ARGV[3] login, ARGV[4] name, ARGV[5] signup (s),
-- ARGV[6] password hash, ARGV[7..] roles
if redis.call('EXISTS', unpack(KEYS)) > 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'login', ARGV[3], 'id', ARGV[1], 'name', ARGV[4],
  'followers', 0, 'following', 0, 'posts', 0, 'signup', ARGV[5], 'gen', ARGV[2])
redis.call('SET', KEYS[2], ARGV[6])
if #ARGV >= 7 then
  redis.call('SADD', KEYS[3], unpack(ARGV, 7))
end
return 1
