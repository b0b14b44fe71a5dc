-- Takes a tag's member set: returns the keys that carried the tag and removes
-- the set in one step, so a key tagged right after is kept for the next delete.
-- KEYS[1] tag set. Returns the members (keys relative to cache:).
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('UNLINK', KEYS[1])
return members
