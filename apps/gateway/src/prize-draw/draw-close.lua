-- Closes a draw by hand (a draw with a duration also closes when is_open
-- expires), recording when.
-- KEYS[1..7] is_open, prizes, entrants, winners, winners_json, meta, entrant_profiles
-- ARGV[1] now (ISO 8601)
-- Returns 1: closed now; 0: it was already closed; -2: no such draw
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[6], 'closed_at', ARGV[1])
  return 1
end
if redis.call('EXISTS', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]) == 0 then
  return -2
end
return 0
