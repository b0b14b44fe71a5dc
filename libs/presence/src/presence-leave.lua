-- Removes one connection from a channel's presence, decides what the
-- channel's members must be told and tells them: 'left' when it was the user's
-- last connection, 'updated' when the user's meta falls back to another
-- connection's, nothing otherwise.
-- KEYS[1] presence:{C}:members, KEYS[2] presence:{C}:conns, KEYS[3] presence:{C}:worker:W,
-- KEYS[4] presence:{C}:offset (layout in presence-join.lua)
-- ARGV[1] channel, ARGV[2] its Socket.IO room, ARGV[3] the room's channel on the adapter's bus,
-- ARGV[4] bus mode ('classic' PUBLISH or 'sharded' SPUBLISH), ARGV[5] socket id left out of the
-- announcement ('' for none)
-- ARGV[6] userId, ARGV[7] connection id, ARGV[8] key TTL (ms), ARGV[9] a worker id: when not '',
-- the connection is removed only while it is still held by that worker; ARGV[10] recovery log TTL
-- (ms, 0: none); KEYS[5] presence:{C}:events, the recovery log (presence-shared.lua)
-- Uses effectiveMeta, countConnections, member and announce from presence-shared.lua.
-- Returns { change ('left', 'updated' or 'none') [, member JSON [, offset of the announcement]] }

local userId, connId = ARGV[6], ARGV[7]
redis.call('SREM', KEYS[3], userId .. ' ' .. connId)
local raw = redis.call('HGET', KEYS[2], userId)
if not raw then
  return { 'none' }
end
local rec = cjson.decode(raw)
if not rec.c[connId] then
  return { 'none' }
end
-- A parked connection's late removal: it came back elsewhere meanwhile.
if ARGV[9] ~= '' and rec.c[connId].w ~= ARGV[9] then
  return { 'none' }
end
local before = effectiveMeta(rec)
rec.c[connId] = nil
local left = countConnections(rec)
if left == 0 then
  redis.call('HDEL', KEYS[2], userId)
  redis.call('HDEL', KEYS[1], userId)
  local shown = member(userId, rec, before, 0)
  return { 'left', shown, announce('left', shown, ARGV[5], ARGV[8]) }
end
local after = effectiveMeta(rec)
local shown = member(userId, rec, after, left)
redis.call('HSET', KEYS[2], userId, cjson.encode(rec))
redis.call('HSET', KEYS[1], userId, shown)
redis.call('PEXPIRE', KEYS[1], ARGV[8])
redis.call('PEXPIRE', KEYS[2], ARGV[8])
if before ~= after then
  return { 'updated', shown, announce('updated', shown, ARGV[5], ARGV[8]) }
end
return { 'none', shown }
