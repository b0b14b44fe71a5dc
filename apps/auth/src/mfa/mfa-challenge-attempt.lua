-- Counts one attempt at a login challenge; past the allowed number, the
-- challenge is gone.
-- KEYS[1] mfa:challenge:<hash>
-- ARGV[1] attempts allowed
-- Returns { user id, generation, password fingerprint } while attempts remain, else nothing.
local challenge = redis.call('HMGET', KEYS[1], 'user', 'gen', 'pw')
if not challenge[1] then
  return false
end
if redis.call('HINCRBY', KEYS[1], 'attempts', 1) > tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return false
end
return challenge
