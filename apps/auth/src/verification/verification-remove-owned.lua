-- Removes a challenge if it still belongs to the given user (the account being
-- deleted): one restarted since by another user is theirs and stays.
-- KEYS[1] account hash, KEYS[2] owner, KEYS[3..8] media hashes
-- ARGV[1] user id
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', unpack(KEYS))
return 1
