-- pacer cancel: the send did not happen; its reservation stops counting.
-- KEYS: 1 customer hash
-- ARGV: 1 send_id
-- Returns 1 when a counted reservation was released, else 0.
local function cancel(KEYS, ARGV)
  local p = redis.call('HMGET', KEYS[1], 'd:' .. ARGV[1], 'h')
  if not p[1] then return 0 end
  local f = {}
  for v in string.gmatch(p[1] .. '|', '([^|]*)|') do f[#f + 1] = v end
  -- f: reason, retry, rule, shadow, channel, campaign, time, offer, state
  -- An allowed send, or one held for later (scheduled), has a contact.
  if (f[1] ~= 'ok' and f[1] ~= 'scheduled') or f[9] == 'released' then
    return 0
  end
  local kept, n = {}, 0
  -- A contact: "TIME|CHANNEL|CAMPAIGN|SEND_ID", then "|CATEGORY" or not.
  for e, ch, cp, sid in string.gmatch(p[2] or '',
      '(%d+|([^|]*)|([^|]*)|([^|\n]*)[^\n]*\n)') do
    if n == 0 and sid == ARGV[1] and ch == f[5] and cp == f[6] then
      n = 1
    else
      kept[#kept + 1] = e
    end
  end
  f[9] = 'released'
  redis.call('HSET', KEYS[1], 'd:' .. ARGV[1], table.concat(f, '|'), 'h',
    table.concat(kept))
  return n
end
register('cancel', cancel)
