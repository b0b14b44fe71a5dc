-- Moves the user id counter up to ARGV[1] if it is below; never down.
-- KEYS[1] user:id:  ARGV[1] the highest id known to be given
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local highest = tonumber(ARGV[1])
if current < highest then
  redis.call('SET', KEYS[1], ARGV[1])
  return highest
end
return current
