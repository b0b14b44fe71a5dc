-- Extends locks, each only for its holder and on all of its resources or none.
-- One call carries one or more independent requests (see acquire.lua).
-- ARGV, four per request: owner value, lease TTL ms, fence TTL ms, number of
--   resources. KEYS, per request: the lease and the fence key of each resource.
-- Returns one reply per request: 1 when extended, 0 when some lease is no
-- longer this owner's (then nothing of that request changed).
local function extend(first, last, value, ttl, fence_ttl)
  for i = first, last, 2 do
    if redis.call('GET', KEYS[i]) ~= value then return 0 end
  end
  for i = first, last, 2 do
    redis.call('PEXPIRE', KEYS[i], ttl)
    -- A fence counter must outlive every lease on its resource, however long it is extended.
    redis.call('PEXPIRE', KEYS[i + 1], fence_ttl)
  end
  return 1
end

local replies = {}
local key = 0
for r = 0, #ARGV / 4 - 1 do
  local a = r * 4
  local first = key + 1
  key = key + 2 * tonumber(ARGV[a + 4])
  replies[r + 1] = extend(first, key, ARGV[a + 1], ARGV[a + 2], ARGV[a + 3])
end
return replies
