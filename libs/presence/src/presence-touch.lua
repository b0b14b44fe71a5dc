-- Pushes the TTL of a channel's keys forward while a live worker holds
-- connections there, in one round trip.
-- KEYS[1] presence:{C}:members, KEYS[2] presence:{C}:conns, KEYS[3] presence:{C}:worker:W,
-- KEYS[4] presence:{C}:offset; KEYS[5], the recovery log, keeps its own TTL
-- ARGV[1] key TTL (ms)
for i = 1, 4 do
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
end
return 1
