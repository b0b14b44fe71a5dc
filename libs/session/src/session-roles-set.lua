-- Gives a live session new roles; an ended (deleted) session is left alone,
-- so no session key comes back without its TTL.
-- KEYS[1] session hash  ARGV[1] roles, comma-separated
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'roles', ARGV[1])
return 1
