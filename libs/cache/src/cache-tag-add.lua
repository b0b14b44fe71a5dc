-- Records that an entry carries a tag: the entry's key joins the tag's member
-- set, which lives at least as long as the entry (its expiry is only ever
-- raised). One key, so it runs on the tag's slot on Redis Cluster.
-- KEYS[1] tag set; ARGV: entry key (relative to cache:), PX milliseconds of the entry.
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
