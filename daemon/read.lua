-- pacer read: everything stored about one customer, in one consistent view.
-- KEYS: 1 customer hash, 2 plan entries
-- Returns {profile fields, history (member, time...), decisions (send_id,
--          record...), plan entries (run, offers...)}; a history member is
--          "CHANNEL|CAMPAIGN|SEND_ID".
local function read(KEYS, ARGV)
  local all = redis.call('HGETALL', KEYS[1])
  local prof, hist, recs = {}, {}, {}
  for j = 1, #all, 2 do
    local k, v = all[j], all[j + 1]
    if k == 'h' then
      for t, m in string.gmatch(v, '(%d+)|([^\n]*)\n') do
        hist[#hist + 1] = m
        hist[#hist + 1] = t
      end
    elseif string.sub(k, 1, 2) == 'd:' then
      recs[#recs + 1] = string.sub(k, 3)
      recs[#recs + 1] = v
    else
      prof[#prof + 1] = k
      prof[#prof + 1] = v
    end
  end
  return {prof, hist, recs, redis.call('HGETALL', KEYS[2])}
end
register('read', read)
