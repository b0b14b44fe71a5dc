-- Sets the meta of one connection already in a channel (a user's meta is the
-- one set last by any of their connections) and, when what the channel's
-- members see changed, tells them 'updated'. 'missing' when the connection is
-- not in the channel.
-- KEYS[1] presence:{C}:members, KEYS[2] presence:{C}:conns, KEYS[3] presence:{C}:worker:W,
-- KEYS[4] presence:{C}:offset (layout in presence-join.lua)
-- ARGV[1] channel, ARGV[2] its Socket.IO room, ARGV[3] the room's channel on the adapter's bus,
-- ARGV[4] bus mode ('classic' PUBLISH or 'sharded' SPUBLISH), ARGV[5] socket id left out of the
-- announcement ('' for none)
-- ARGV[6] userId, ARGV[7] connection id, ARGV[8] meta JSON, ARGV[9] key TTL (ms),
-- ARGV[10] recovery log TTL (ms, 0: none); KEYS[5] presence:{C}:events (presence-shared.lua)
-- Uses effectiveMeta, countConnections, member and announce from presence-shared.lua.
-- Returns { change ('updated', 'none' or 'missing') [, member JSON [, offset of the announcement]] }

local userId, connId = ARGV[6], ARGV[7]
local raw = redis.call('HGET', KEYS[2], userId)
if not raw then
  return { 'missing' }
end
local rec = cjson.decode(raw)
local conn = rec.c[connId]
if not conn then
  return { 'missing' }
end
local before = effectiveMeta(rec)
rec.n = rec.n + 1
conn.s, conn.m = rec.n, ARGV[8]
local shown = member(userId, rec, ARGV[8], countConnections(rec))
redis.call('HSET', KEYS[2], userId, cjson.encode(rec))
redis.call('HSET', KEYS[1], userId, shown)
for i = 1, 4 do
  redis.call('PEXPIRE', KEYS[i], ARGV[9])
end
if before ~= ARGV[8] then
  return { 'updated', shown, announce('updated', shown, ARGV[5], ARGV[9]) }
end
return { 'none', shown }
