-- Second step of a lock taken in several steps (on several quorum nodes, or on
-- resources in different cluster slots): lifts each fence counter to the
-- lock's final token, the largest of the steps', while this owner still holds
-- every lease, so later tokens exceed it on every resource and node.
-- KEYS: the lease key and the fence key of each resource, in pairs.
-- ARGV: owner value, token, fence TTL ms.
-- Returns 1, or 0 when some lease is no longer this owner's (nothing changed).
for i = 1, #KEYS, 2 do
  if redis.call('GET', KEYS[i]) ~= ARGV[1] then return 0 end
end
local token = tonumber(ARGV[2])
for i = 2, #KEYS, 2 do
  local previous = tonumber(redis.call('GET', KEYS[i]) or '0')
  if previous < token then redis.call('SET', KEYS[i], ARGV[2], 'PX', ARGV[3]) end
end
return 1
