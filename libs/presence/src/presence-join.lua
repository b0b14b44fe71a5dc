-- Adds one connection to a channel's presence (or re-homes it to another worker
-- id, or sets its meta when it is already there), decides what the channel's
-- members must be told and tells them: 'joined' for the user's first
-- connection, 'updated' when what they see changed, nothing otherwise.
-- Deciding here, in one script, is what keeps two workers from both
-- announcing the same user.
-- KEYS[1] presence:{C}:members  hash userId -> member JSON
-- KEYS[2] presence:{C}:conns    hash userId -> { l = login, nm = name, j = joinedAt, n = last meta
--                                               sequence, c = { [connId] = { w = worker, s = seq, m = meta } } }
-- KEYS[3] presence:{C}:worker:W set "<userId> <connId>" held by worker W
-- KEYS[4] presence:{C}:offset   string, the offset of the channel's last event
-- ARGV[1] channel, ARGV[2] its Socket.IO room, ARGV[3] the room's channel on the adapter's bus,
-- ARGV[4] bus mode ('classic' PUBLISH or 'sharded' SPUBLISH), ARGV[5] socket id left out of the
-- announcement ('' for none)
-- ARGV[6] userId, ARGV[7] connection id, ARGV[8] worker id, ARGV[9] login, ARGV[10] name,
-- ARGV[11] meta JSON ('' when the join carries none), ARGV[12] now (ISO 8601), ARGV[13] key TTL (ms),
-- ARGV[14] '1' to return every member, ARGV[15] '1' to restore: a connection already there keeps
-- its meta and only moves to worker ARGV[8] (when a worker comes back under a new id, or a
-- recovered socket comes back on another instance), ARGV[16] recovery log TTL (ms, 0: none)
-- KEYS[5] presence:{C}:events, the recovery log (presence-shared.lua)
-- Uses effectiveMeta, countConnections, member, currentOffset and announce from presence-shared.lua.
-- Returns { change ('joined', 'updated' or 'none'), member JSON, offset [, every member JSON...] }:
-- the offset is the announcement's, or the channel's last one when nothing was announced, so the
-- member list is exactly the channel's after the event with that offset.

local userId, connId, worker = ARGV[6], ARGV[7], ARGV[8]
local raw = redis.call('HGET', KEYS[2], userId)
local rec, before, shownBefore
if raw then
  rec = cjson.decode(raw)
  before = effectiveMeta(rec)
  shownBefore = rec.l .. '\n' .. rec.nm
else
  rec = { l = ARGV[9], nm = ARGV[10], j = ARGV[12], n = 0, c = {} }
end
rec.l, rec.nm = ARGV[9], ARGV[10]

local conn = rec.c[connId]
if conn and ARGV[15] == '1' then
  conn.w = worker
elseif ARGV[11] ~= '' then
  rec.n = rec.n + 1
  conn = { w = worker, s = rec.n, m = ARGV[11] }
elseif conn then
  conn.w = worker
else
  conn = { w = worker, s = 0 }
end
rec.c[connId] = conn

local after = effectiveMeta(rec)
local shown = member(userId, rec, after, countConnections(rec))
redis.call('HSET', KEYS[2], userId, cjson.encode(rec))
redis.call('HSET', KEYS[1], userId, shown)
redis.call('SADD', KEYS[3], userId .. ' ' .. connId)
for i = 1, 4 do
  redis.call('PEXPIRE', KEYS[i], ARGV[13])
end

local change = 'none'
if not raw then
  change = 'joined'
elseif before ~= after or shownBefore ~= rec.l .. '\n' .. rec.nm then
  change = 'updated'
end
local offset
if change ~= 'none' then
  offset = announce(change, shown, ARGV[5], ARGV[13])
else
  offset = currentOffset(ARGV[13])
end
local out = { change, shown, offset }
if ARGV[14] == '1' then
  local all = redis.call('HVALS', KEYS[1])
  for i = 1, #all do
    out[#out + 1] = all[i]
  end
end
return out
