-- Removes up to ARGV[7] connections of a dead worker from one channel and
-- tells the channel's members. Entries are popped, so reapers running side by
-- side never handle one twice; a connection is removed only while it is still
-- recorded under the dead worker (its own worker may have re-homed it under a
-- new id). One change per user: 'left' when none of the user's connections
-- remain, 'updated' when the user's meta falls back to another connection's.
-- KEYS[1] presence:{C}:members, KEYS[2] presence:{C}:conns, KEYS[3] presence:{C}:worker:W,
-- KEYS[4] presence:{C}:offset (layout in presence-join.lua)
-- ARGV[1] channel, ARGV[2] its Socket.IO room, ARGV[3] the room's channel on the adapter's bus,
-- ARGV[4] bus mode ('classic' PUBLISH or 'sharded' SPUBLISH), ARGV[5] socket id left out of the
-- announcement ('' for none)
-- ARGV[6] dead worker id, ARGV[7] batch size, ARGV[8] key TTL (ms), ARGV[9] recovery log TTL
-- (ms, 0: none); KEYS[5] presence:{C}:events (presence-shared.lua)
-- Uses effectiveMeta, countConnections, member and announce from presence-shared.lua.
-- Returns { entries still to reap, change, member JSON, offset, change, member JSON, offset, ... }

local popped = redis.call('SPOP', KEYS[3], tonumber(ARGV[7]))
local byUser, users = {}, {}
for _, entry in ipairs(popped) do
  local space = string.find(entry, ' ', 1, true)
  if space then
    local userId = string.sub(entry, 1, space - 1)
    if not byUser[userId] then
      byUser[userId] = {}
      users[#users + 1] = userId
    end
    table.insert(byUser[userId], string.sub(entry, space + 1))
  end
end

local out = { 0 }
for _, userId in ipairs(users) do
  local raw = redis.call('HGET', KEYS[2], userId)
  if raw then
    local rec = cjson.decode(raw)
    local before = effectiveMeta(rec)
    local removed = false
    for _, connId in ipairs(byUser[userId]) do
      local conn = rec.c[connId]
      if conn and conn.w == ARGV[6] then
        rec.c[connId] = nil
        removed = true
      end
    end
    if removed then
      local left = countConnections(rec)
      if left == 0 then
        redis.call('HDEL', KEYS[2], userId)
        redis.call('HDEL', KEYS[1], userId)
        local shown = member(userId, rec, before, 0)
        out[#out + 1] = 'left'
        out[#out + 1] = shown
        out[#out + 1] = announce('left', shown, '', ARGV[8])
      else
        local after = effectiveMeta(rec)
        local shown = member(userId, rec, after, left)
        redis.call('HSET', KEYS[2], userId, cjson.encode(rec))
        redis.call('HSET', KEYS[1], userId, shown)
        redis.call('PEXPIRE', KEYS[1], ARGV[8])
        redis.call('PEXPIRE', KEYS[2], ARGV[8])
        if before ~= after then
          out[#out + 1] = 'updated'
          out[#out + 1] = shown
          out[#out + 1] = announce('updated', shown, '', ARGV[8])
        end
      end
    end
  end
end
out[1] = redis.call('SCARD', KEYS[3])
return out
