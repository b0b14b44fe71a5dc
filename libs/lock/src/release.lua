-- Ends leases that are still their owner's; others' leases are left alone.
-- One call carries one or more independent requests (see acquire.lua).
-- ARGV, two per request: owner value, number of resources.
-- KEYS, per request: the lease key of each resource.
-- Returns one reply per request: how many of its leases were still held (and
-- are now deleted). The first queued waiter of each freed lease, if any, is
-- woken (see queue.lua).
local replies = {}
local key = 0
for r = 0, #ARGV / 2 - 1 do
  local value = ARGV[r * 2 + 1]
  local released = 0
  for i = key + 1, key + tonumber(ARGV[r * 2 + 2]) do
    if redis.call('GET', KEYS[i]) == value then
      redis.call('DEL', KEYS[i])
      released = released + 1
      local first = redis.call('ZRANGE', KEYS[i] .. ':queue', 0, 0)[1]
      if first then redis.call('SPUBLISH', KEYS[i] .. ':wake', first) end
    end
  end
  key = key + tonumber(ARGV[r * 2 + 2])
  replies[r + 1] = released
end
return replies
