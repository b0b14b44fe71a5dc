-- Takes or renews a worker's lease. A lease that has lapsed is never renewed:
-- reapers may already be removing its connections, so its holder must come
-- back under a new worker id. Times are Redis's clock, the same for every worker.
-- KEYS[1] presence:{workers}:leases zset workerId -> lease expiry (ms)
-- KEYS[2] presence:{workers}:reaped zset workerId -> final sweep due (ms)
-- ARGV[1] worker id, ARGV[2] lease length (ms), ARGV[3] key TTL (ms), ARGV[4] '1' for a new worker id
-- Returns the new expiry (ms), or 0 when the lease has lapsed.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if ARGV[4] == '1' then
  if current or redis.call('ZSCORE', KEYS[2], ARGV[1]) then
    return 0
  end
elseif not current or tonumber(current) <= now then
  return 0
end
local expiry = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return expiry
