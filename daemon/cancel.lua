-- pacer cancel: the send did not happen; its reservation stops counting.
-- KEYS: 1 history zset, 2 idempotency hash
-- ARGV: 1 send_id
-- Returns 1 when a counted reservation was released, else 0.
local rec = redis.call('HGET', KEYS[2], ARGV[1])
if not rec then return 0 end
local f = {}
for v in string.gmatch(rec .. '|', '([^|]*)|') do f[#f + 1] = v end
-- f: reason, retry, rule, shadow, channel, campaign, time, offer, state
if f[1] ~= 'ok' or f[9] == 'released' then return 0 end
local n = redis.call('ZREM', KEYS[1], f[5] .. '|' .. f[6] .. '|' .. ARGV[1])
f[9] = 'released'
redis.call('HSET', KEYS[2], ARGV[1], table.concat(f, '|'))
return n
