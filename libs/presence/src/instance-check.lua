-- Whether an address is that of a realtime instance whose announcement has
-- not lapsed (Redis's clock, as the instances announce by it).
-- KEYS[1] realtime:{instances} zset ADVERTISE_URL -> lapses at (ms)
-- ARGV[1] the address
local lapses = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not lapses then
  return 0
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if tonumber(lapses) > now then
  return 1
end
return 0
