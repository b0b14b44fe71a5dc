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

-- Publishes presence:<change> to the channel's room on the Socket.IO adapter's
-- bus, in the adapter's own message format, from inside the script: events
-- reach clients in the order Redis decided the changes, and a worker dying
-- right after a change cannot lose its announcement.
local function announce(change, shown, except)
  local packet = '{"type":2,"data":[' .. cjson.encode('presence:' .. change) .. ',{"channel":'
    .. cjson.encode(ARGV[1]) .. ',"member":' .. shown .. '}],"nsp":"/"}'
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
