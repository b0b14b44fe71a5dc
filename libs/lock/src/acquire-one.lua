-- The common case of acquire.lua, alone in its call: one request for one
-- resource, no guard, no token floor. Same decisions and the same token rule
-- as acquire.lua, with fewer arguments and a flat reply (what a lone
-- acquisition pays for, measured in docs/benchmarks.md).
-- KEYS: the lease key, the fence key. ARGV: owner value, lease TTL ms, fence TTL ms.
-- Returns the token (a string) when granted, or the ms until the blocking
-- lease expires (an integer: 0 when it expired just now, -1 when it has no TTL
-- or when waiters are queued for it: a newcomer takes its place behind them).
if redis.call('EXISTS', KEYS[1] .. ':queue') == 1 then return -1 end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local pttl = redis.call('PTTL', KEYS[1])
  if pttl == -2 then pttl = 0 end
  return pttl
end
-- Never below the server clock in microseconds (see acquire.lua), and above the last token.
local now = redis.call('TIME')
local token = math.max(now[1] * 1000000 + now[2], (tonumber(redis.call('GET', KEYS[2])) or 0) + 1)
-- '%.0f' writes the exact integer (tokens stay below 2^53); tostring would round it.
local text = string.format('%.0f', token)
redis.call('SET', KEYS[2], text, 'PX', ARGV[3])
return text
