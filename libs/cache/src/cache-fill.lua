-- A loader's write: only if the entry is still what the loader saw when it
-- started (ARGV[3] is that record's version, empty when there was none), so a
-- slow loader never overwrites a newer write or brings back a deleted entry.
-- Returns 1 when written, 0 when the entry was deleted or expired meanwhile,
-- or the current record when someone else wrote it.
-- KEYS[1] entry; ARGV: record, PX milliseconds, expected version, channel, bus message.
local current = redis.call('GET', KEYS[1])
if current then
  local version = string.match(current, '^[JB]%d+:%d+:([%w_%-]+)|')
  -- A string that is not a record of ours is replaced, never returned as a value.
  if version and version ~= ARGV[3] then
    return current
  end
elseif ARGV[3] ~= '' then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
