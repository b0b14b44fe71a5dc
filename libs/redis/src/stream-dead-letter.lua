-- Moves a stream entry that cannot be handled to the dead letters and
-- acknowledges it, in one step: it is never acknowledged without being
-- recorded, nor recorded and left pending to be recorded again.
-- KEYS[1] stream, KEYS[2] dead-letter stream (one slot: hash-tag them on Cluster).
-- ARGV: group, entry id, approximate MAXLEN of the dead letters, then the
-- dead letter's field/value pairs.
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
