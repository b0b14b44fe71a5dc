-- Shared by the semaphore and read-write lock scripts (loaded after queue.lua).
-- The holders of a resource are the sorted set H: member = mode .. owner value
-- ('r' a reader or a semaphore permit, 'w' a writer), score = the lease's
-- expiry on the server clock (ms). Queue members are named the same way.
-- `limit`: how many 'r' holders may hold at once (0: no limit).

-- Drops expired leases; returns how many hold and whether one is a writer
-- (a writer holds alone, so it is then the only member).
local function holders(h, us)
  redis.call('ZREMRANGEBYSCORE', h, '-inf', math.floor(us / 1000))
  local count = redis.call('ZCARD', h)
  local writer = false
  if count > 0 then writer = string.sub(redis.call('ZRANGE', h, 0, 0)[1], 1, 1) == 'w' end
  return count, writer
end

local function fits(member, count, writer, limit)
  if string.sub(member, 1, 1) == 'w' then return count == 0 end
  return not writer and (limit == 0 or count < limit)
end

-- The live waiters whose turn it is, in arrival order: each fits once those
-- before it are in, and the first that does not fit stops the line (so a
-- writer is never overtaken by later readers). `until_member`: stop after it.
local function next_in_line(h, us, limit, until_member)
  local count, writer = holders(h, us)
  local line = {}
  for _, member in ipairs(live_waiters(h, us, 1000000)) do
    if not fits(member, count, writer, limit) then break end
    line[#line + 1] = member
    count = count + 1
    if string.sub(member, 1, 1) == 'w' then writer = true end
    if member == until_member then break end
  end
  return line
end
