-- Changes the user directory so that an active admin always remains: an
-- account that is an admin and not suspended may lose its role, be suspended
-- or be deleted only while another active admin exists. Refuses everything
-- until the directory holds every account (the backfill's marker).
-- KEYS[1] {users}:admins, KEYS[2] {users}:suspended, KEYS[3] {users}:indexed,
-- KEYS[4] {users}:logins (one slot)
-- ARGV[1] what: `demote` (drop from admins), `suspend`, `remove` (every trace),
-- ARGV[2] user id, ARGV[3] lower-cased login (for `remove`)
-- Returns 1 done, 0 it would leave no active admin, -1 the directory is not built yet.
local what, id = ARGV[1], ARGV[2]
local function others_active()
  for _, admin in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if admin ~= id and redis.call('SISMEMBER', KEYS[2], admin) == 0 then
      return true
    end
  end
  return false
end
local active_admin = redis.call('SISMEMBER', KEYS[1], id) == 1
  and redis.call('SISMEMBER', KEYS[2], id) == 0
if redis.call('EXISTS', KEYS[3]) == 0 then
  if what ~= 'remove' then
    return -1
  end
elseif active_admin and not others_active() then
  return 0
end
if what == 'demote' then
  redis.call('SREM', KEYS[1], id)
elseif what == 'suspend' then
  redis.call('SADD', KEYS[2], id)
else
  redis.call('SREM', KEYS[1], id)
  redis.call('SREM', KEYS[2], id)
  redis.call('ZREM', KEYS[4], ARGV[3])
end
return 1
