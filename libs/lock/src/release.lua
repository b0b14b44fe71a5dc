-- Ends leases that are still their owner's; others' leases are left alone.
-- One call carries one or more independent requests (see acquire.lua).
-- ARGV, two per request: owner value, number of resources.
-- KEYS, per request: the lease key of each resource.
-- Returns one reply per request: how many of its leases were still held (and
-- are now deleted).
local replies = {}
local key = 0
for r = 0, #ARGV / 2 - 1 do
  local value = ARGV[r * 2 + 1]
  local released = 0
  for i = key + 1, key + tonumber(ARGV[r * 2 + 2]) do
    if redis.call('GET', KEYS[i]) == value then
      redis.call('DEL', KEYS[i])
      released = released + 1
    end
  end
  key = key + tonumber(ARGV[r * 2 + 2])
  replies[r + 1] = released
end
return replies
