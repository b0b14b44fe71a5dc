-- Marks one medium Done and the challenge Done exactly when every medium is,
-- in one step, so two media confirmed at once on two instances lose nothing.
-- The caller has already compared the token in constant time; the check here
-- only catches a challenge restarted in between (new tokens).
-- KEYS[1] account hash, KEYS[2..7] media hashes in MEDIA_TYPES order
-- ARGV[1] index of the medium in KEYS (2..7), ARGV[2] the token, ARGV[3] now (ISO 8601),
-- ARGV[4] MEDIA_TYPES as a comma list, in KEYS order
local medium = KEYS[tonumber(ARGV[1])]
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', medium) == 0 then
  return 'GONE'
end
if redis.call('HGET', medium, 'token') ~= ARGV[2] then
  return 'STALE'
end
if redis.call('HGET', medium, 'status') == 'Done' then
  return 'OK'
end
redis.call('HSET', medium, 'status', 'Done')
local index = {}
local i = 2
for type in string.gmatch(ARGV[4], '[^,]+') do
  index[type] = i
  i = i + 1
end
local done = true
for type in string.gmatch(redis.call('HGET', KEYS[1], 'media_types') or '', '[^,]+') do
  if redis.call('HGET', KEYS[index[type]], 'status') ~= 'Done' then
    done = false
  end
end
if done then
  redis.call('HSET', KEYS[1], 'status', 'Done', 'updated_at', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'updated_at', ARGV[3])
end
return 'OK'
