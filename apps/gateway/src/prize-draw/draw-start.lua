-- Starts a draw, replacing any earlier draw with this id in the same step:
-- its keys are removed and the new ones written, so no reader ever sees a
-- mix of the two (entrants or winners of the old draw in the new one).
-- KEYS[1..7] is_open, prizes, entrants, winners, winners_json, meta, entrant_profiles
-- ARGV[1] duration in seconds ('0': open until closed), ARGV[2] now (ISO 8601),
-- ARGV[3] closes_at (ISO 8601, '' without a duration), ARGV[4] the prizes as a
-- JSON list in the admin's order, ARGV[5..] the prizes
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
if ARGV[1] == '0' then
  redis.call('SET', KEYS[1], 'true')
else
  redis.call('SET', KEYS[1], 'true', 'EX', ARGV[1])
end
redis.call('SADD', KEYS[2], unpack(ARGV, 5))
redis.call('HSET', KEYS[6], 'prizes', ARGV[4], 'created_at', ARGV[2], 'closes_at', ARGV[3])
return 1
