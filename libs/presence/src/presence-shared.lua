-- Functions shared by presence-join, -leave, -update and -reap: Redis scripts
-- cannot import one another, so RedisService.script loads this file before
-- each of them as one script.
local function effectiveMeta(rec)
  local best, meta = -1, '{}'
  for _, conn in pairs(rec.c) do
    if conn.m and conn.s > best then
      best, meta = conn.s, conn.m
    end
  end
  return meta
end

local function countConnections(rec)
  local n = 0
  for _ in pairs(rec.c) do
    n = n + 1
  end
  return n
end

local function member(userId, rec, meta, connections)
  return '{"userId":' .. cjson.encode(userId) .. ',"login":' .. cjson.encode(rec.l)
    .. ',"name":' .. cjson.encode(rec.nm) .. ',"meta":' .. meta
    .. ',"connections":' .. connections .. ',"joinedAt":' .. cjson.encode(rec.j) .. '}'
end

-- The channel's event counter, KEYS[4]. Offsets are 16 decimal digits, so two
-- offsets of one channel compare as strings. A missing counter (a new channel,
-- one whose keys expired, a Redis that came back empty) starts from Redis's
-- clock in microseconds, so a channel's offsets never go back: a client
-- holding an old offset never takes a new event for an old one.
local function formatOffset(n)
  return string.format('%016.0f', n)
end

local function startOffsets(ttl)
  if redis.call('EXISTS', KEYS[4]) == 0 then
    local now = redis.call('TIME')
    redis.call('SET', KEYS[4], now[1] .. string.format('%06d', tonumber(now[2])), 'PX', ttl)
  end
end

-- The offset of the channel's last event: what a member list read now is current to.
local function currentOffset(ttl)
  startOffsets(ttl)
  return formatOffset(tonumber(redis.call('GET', KEYS[4])))
end

-- Emits `event` with `payload` (a JSON object's text) to the channel's room on
-- the Socket.IO adapter's bus, in the adapter's own message format, from
-- inside the script: events reach clients in the order Redis decided them,
-- and a worker dying right after a change cannot lose its announcement.
-- ARGV[1] to ARGV[4] are the channel, its room, the room's bus channel and the bus mode.
local function broadcast(event, payload, except)
  local packet = '{"type":2,"data":[' .. cjson.encode(event) .. ',' .. payload .. '],"nsp":"/"}'
  local exceptRooms = '[]'
  if except ~= '' then
    exceptRooms = '[' .. cjson.encode(except) .. ']'
  end
  local opts = '{"rooms":[' .. cjson.encode(ARGV[2]) .. '],"except":' .. exceptRooms .. ',"flags":{}}'
  if ARGV[4] == 'sharded' then
    redis.call('SPUBLISH', ARGV[3],
      '{"uid":"presence","nsp":"/","type":3,"data":{"opts":' .. opts .. ',"packet":' .. packet .. '}}')
  else
    redis.call('PUBLISH', ARGV[3], '["presence",' .. packet .. ',' .. opts .. ']')
  end
end

-- The channel's next offset, taken for an event about to be announced.
local function nextOffset(ttl)
  startOffsets(ttl)
  return formatOffset(redis.call('INCR', KEYS[4]))
end

-- The channel's recovery log, KEYS[5]: every event its members were sent
-- (messages and presence changes), id <offset>-0, fields e (event name), p (the
-- payload JSON as sent), x (the socket id it was not sent to, or ''). It lives
-- as long as a disconnected client may come back: the last argument of every
-- script that announces (ms; 0 keeps nothing, recovery is off), and holds at
-- most RECOVERY_LOG_SIZE events. A realtime instance replays it to a socket
-- that recovers its connection (apps/realtime, ConnectionRecovery).
local RECOVERY_LOG_SIZE = 1000
local function record(event, payload, offset, except)
  local ttl = tonumber(ARGV[#ARGV])
  if not ttl or ttl <= 0 then
    return
  end
  -- pcall: an id not above the log's last (only after Redis lost the counter
  -- but not the log) must not fail the change already made; the replay then
  -- sees a gap and refuses to recover.
  redis.pcall('XADD', KEYS[5], 'MAXLEN', RECOVERY_LOG_SIZE, offset .. '-0', 'e', event, 'p', payload, 'x', except)
  redis.call('PEXPIRE', KEYS[5], ttl)
end

-- Publishes presence:<change> to the channel's room, carrying the channel's
-- next offset, which it returns, and keeps it in the recovery log.
local function announce(change, shown, except, ttl)
  local offset = nextOffset(ttl)
  local payload = '{"channel":' .. cjson.encode(ARGV[1]) .. ',"member":' .. shown
    .. ',"offset":"' .. offset .. '"}'
  broadcast('presence:' .. change, payload, except)
  record('presence:' .. change, payload, offset, except)
  return offset
end
