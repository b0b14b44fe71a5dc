-- Accepts a TOTP code's time step once: only if the factor is still the one
-- checked (same secret) and no code of this or a later step was accepted.
-- KEYS[1] user:<id>:totp
-- ARGV[1] the secret the code was checked against, ARGV[2] the code's time step
-- Returns 1 when accepted (the step is recorded), 0 otherwise.
local state = redis.call('HMGET', KEYS[1], 'secret', 'step')
if state[1] ~= ARGV[1] then
  return 0
end
if state[2] and tonumber(state[2]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'step', ARGV[2])
return 1
