-- One consistent snapshot of a draw, from which its state is computed.
-- KEYS[1..7] is_open, prizes, entrants, winners, winners_json, meta, entrant_profiles
-- Returns { keys of the draw that exist, PTTL of is_open (-2: closed, -1: no
-- duration), whether winners_json exists, entrants left, winners, prizes not
-- yet won, the meta hash as a flat list }
return {
  redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]),
  redis.call('PTTL', KEYS[1]),
  redis.call('EXISTS', KEYS[5]),
  redis.call('SCARD', KEYS[3]),
  redis.call('HLEN', KEYS[4]),
  redis.call('SMEMBERS', KEYS[2]),
  redis.call('HGETALL', KEYS[6]),
}
