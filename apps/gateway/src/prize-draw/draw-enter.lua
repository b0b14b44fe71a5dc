-- Enters one GitHub id into an open draw, at most once: SADD decides, in the
-- same step as the check that the draw is open, so an entry can never land
-- in a draw that closed (or whose winners were picked) a moment before.
-- KEYS[1..7] is_open, prizes, entrants, winners, winners_json, meta, entrant_profiles
-- ARGV[1] the lower-cased GitHub id, ARGV[2] the entrant's { name, image } as JSON
-- Returns the number of entrants now; 0: already entered; -1: closed; -2: no such draw
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]) == 0 then
    return -2
  end
  return -1
end
if redis.call('SADD', KEYS[3], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[7], ARGV[1], ARGV[2])
return redis.call('SCARD', KEYS[3])
