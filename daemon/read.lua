-- pacer read: everything stored about one customer, in one consistent view.
-- KEYS: 1 profile, 2 history, 3 idempotency, 4 decision log, 5 plan entries
-- Returns {profile fields, history (member, score...), log entries,
--          plan entries (run, offers...), number of idempotency records}.
return {
  redis.call('HGETALL', KEYS[1]),
  redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES'),
  redis.call('LRANGE', KEYS[4], 0, -1),
  redis.call('HGETALL', KEYS[5]),
  redis.call('HLEN', KEYS[3]),
}
