-- Makes an enrolment the account's factor, if the enrolment is still the one
-- whose code was checked and the account is still the one of that generation.
-- KEYS[1] user:<id>, KEYS[2] user:<id>:totp, KEYS[3] user:<id>:totp:pending, KEYS[4] user:<id>:recovery
-- ARGV[1] generation, ARGV[2] secret, ARGV[3] accepted step, ARGV[4] since (ISO), ARGV[5..] recovery code hashes
-- Returns 1 when activated, 0 otherwise.
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] or redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[2], 'secret', ARGV[2], 'step', ARGV[3], 'since', ARGV[4])
redis.call('SADD', KEYS[4], unpack(ARGV, 5))
return 1
