-- Sends a channel message: takes the channel's next offset (the counter its
-- presence events use too, so one sequence orders both), keeps the message in
-- the channel's capped history, and emits it to the channel's room.
-- KEYS[1] presence:{C}:members, KEYS[2] presence:{C}:conns (not touched),
-- KEYS[3] presence:{C}:history stream, id <offset>-0, field m = the message JSON
-- KEYS[4] presence:{C}:offset
-- ARGV[1] channel, ARGV[2] its Socket.IO room, ARGV[3] the room's channel on the adapter's bus,
-- ARGV[4] bus mode ('classic' PUBLISH or 'sharded' SPUBLISH), ARGV[5] socket id left out ('' for none)
-- ARGV[6] the message JSON without offset (an object), ARGV[7] offset key TTL (ms),
-- ARGV[8] history size (0: none kept), ARGV[9] history TTL (ms), ARGV[10] recovery log TTL (ms, 0: none)
-- KEYS[5] presence:{C}:events, the recovery log (presence-shared.lua)
-- Uses nextOffset, broadcast and record from presence-shared.lua.
-- Returns the message's offset.

local offset = nextOffset(ARGV[7])
local size = tonumber(ARGV[8])
if size > 0 then
  -- A counter that came back lower than the history (lost with a Redis that
  -- came back without it) moves past it: offsets never go back.
  local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
  if last then
    local lastOffset = tonumber(string.match(last[1], '^(%d+)-'))
    if lastOffset >= tonumber(offset) then
      redis.call('SET', KEYS[4], string.format('%.0f', lastOffset), 'KEEPTTL')
      offset = nextOffset(ARGV[7])
    end
  end
end
local message = string.sub(ARGV[6], 1, -2) .. ',"offset":"' .. offset .. '"}'
if size > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', size, offset .. '-0', 'm', message)
  redis.call('PEXPIRE', KEYS[3], ARGV[9])
end
broadcast('channel:message', message, ARGV[5])
record('channel:message', message, offset, ARGV[5])
return offset
