-- Reads a session in one round trip and, at most once per touch interval,
-- records the visit and pushes the idle expiry forward (never past the
-- absolute expiry). Only the holder of the secret keeps a session alive; the
-- caller still compares the secret hash itself, in constant time.
-- KEYS[1] session hash
-- ARGV[1] secret hash presented, ARGV[2] now (ms), ARGV[3] touch interval (ms), ARGV[4] idle TTL (ms)
local data = redis.call('HGETALL', KEYS[1])
if #data == 0 then
  return data
end
local now = tonumber(ARGV[2])
local stored, lastSeen, expiresAt
for i = 1, #data, 2 do
  local field = data[i]
  if field == 'secretHash' then
    stored = data[i + 1]
  elseif field == 'lastSeenAt' then
    lastSeen = tonumber(data[i + 1])
  elseif field == 'expiresAt' then
    expiresAt = tonumber(data[i + 1])
  end
end
if stored == ARGV[1] and lastSeen and expiresAt and now < expiresAt
    and now - lastSeen >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[4]), expiresAt - now))
end
return data
