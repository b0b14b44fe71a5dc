-- Picks a draw's winners exactly once, in one step: however many admins on
-- however many gateway instances ask at the same moment, the first call
-- closes the draw, pairs prizes with entrants and caches the answer, and
-- every later call gets that same answer back.
-- Prizes are awarded in the admin's order, each to an entrant SPOP'd at
-- random, so each prize goes to at most one entrant and each entrant wins at
-- most one prize. When entrants run out, the remaining prizes stay in the
-- prizes set (unwon, never lost); entrants left over stay in the entrants set.
-- KEYS[1..7] is_open, prizes, entrants, winners, winners_json, meta, entrant_profiles
-- ARGV[1] now (ISO 8601)
-- Returns false for no such draw, else { winners JSON, 1 when this call
-- picked them (0: an earlier call did), 1 when this call closed the draw }
local cached = redis.call('GET', KEYS[5])
if cached then
  return { cached, 0, 0 }
end
local wasOpen = redis.call('EXISTS', KEYS[1])
if wasOpen == 0 and redis.call('EXISTS', KEYS[2], KEYS[3], KEYS[4], KEYS[6]) == 0 then
  return false
end
if wasOpen == 1 then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[6], 'closed_at', ARGV[1])
end

-- The admin's order first, then any other prize the set holds (sorted, so the order is stable).
local order, seen = {}, {}
local listed = redis.call('HGET', KEYS[6], 'prizes')
if listed then
  local ok, prizes = pcall(cjson.decode, listed)
  if ok and type(prizes) == 'table' then
    for _, prize in ipairs(prizes) do
      if type(prize) == 'string' and not seen[prize] then
        seen[prize] = true
        order[#order + 1] = prize
      end
    end
  end
end
local others = redis.call('SMEMBERS', KEYS[2])
table.sort(others)
for _, prize in ipairs(others) do
  if not seen[prize] then
    seen[prize] = true
    order[#order + 1] = prize
  end
end

local winners = {}
for _, prize in ipairs(order) do
  if redis.call('SISMEMBER', KEYS[2], prize) == 1 then
    local entrant = redis.call('SPOP', KEYS[3])
    if not entrant then
      break
    end
    redis.call('SREM', KEYS[2], prize)
    redis.call('HSET', KEYS[4], prize, entrant)
    local name, image = entrant, ''
    local snapshot = redis.call('HGET', KEYS[7], entrant)
    if snapshot then
      local ok, profile = pcall(cjson.decode, snapshot)
      if ok and type(profile) == 'table' then
        if type(profile.name) == 'string' and profile.name ~= '' then
          name = profile.name
        end
        if type(profile.image) == 'string' then
          image = profile.image
        end
      end
    end
    winners[#winners + 1] = { name = name, prize = prize, image = image }
  end
end

-- cjson writes an empty table as {}; the answer is a list.
local json = '[]'
if #winners > 0 then
  json = cjson.encode(winners)
end
redis.call('SET', KEYS[5], json)
return { json, 1, wasOpen }
