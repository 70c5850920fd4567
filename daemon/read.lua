-- pacer read: everything stored about one customer, in one consistent view.
-- KEYS: 1 profile, 2 history, 3 decisions, 4 plan entries
-- Returns {profile fields, history (member, score...), decisions (send_id,
--          record...), plan entries (run, offers...)}.
return {
  redis.call('HGETALL', KEYS[1]),
  redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES'),
  redis.call('HGETALL', KEYS[3]),
  redis.call('HGETALL', KEYS[4]),
}
