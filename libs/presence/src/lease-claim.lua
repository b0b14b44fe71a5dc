-- Hands lapsed leases to the calling reaper: each lapsed worker moves to the
-- reaped set with a final sweep due after a grace period, so one reaper
-- sweeps it now and one sweeps it once more later, catching writes that were
-- in flight when its lease lapsed. A worker due a final sweep is pushed back by
-- the grace period, so a reaper that dies while sweeping is relieved later.
-- KEYS[1] presence:{workers}:leases, KEYS[2] presence:{workers}:reaped
-- ARGV[1] grace (ms), ARGV[2] most workers per list, ARGV[3] key TTL (ms)
-- Returns { lapsed worker ids..., '', worker ids due their final sweep... }
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local later = now + tonumber(ARGV[1])
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(lapsed) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], later, id)
end
for _, id in ipairs(due) do
  redis.call('ZADD', KEYS[2], later, id)
end
if #lapsed > 0 or #due > 0 then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
local out = {}
for _, id in ipairs(lapsed) do
  out[#out + 1] = id
end
out[#out + 1] = ''
for _, id in ipairs(due) do
  out[#out + 1] = id
end
return out
