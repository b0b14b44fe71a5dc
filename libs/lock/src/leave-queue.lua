-- A waiter gives up (after queue.lua): leaves the wait queue of every
-- resource, and where the lease is free, the next live waiter is woken.
-- KEYS: the lease key of each resource. ARGV: owner value.
for i = 1, #KEYS do
  dequeue(KEYS[i], ARGV[1])
  if redis.call('EXISTS', KEYS[i]) == 0 then wake(KEYS[i], live_waiters(KEYS[i], clock_now(), 1)) end
end
return 1
