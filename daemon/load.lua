-- pacer merge (pacer load): one customer's contacts from contacts.csv
-- merged into the history (field h), as one atomic step beside live
-- decisions. Entries already there are not added twice (the same line
-- loaded again changes nothing); entries the history holds keep their
-- place, new ones go in time order; entries older than the oldest time
-- that can count are dropped. A key without a profile expires after the
-- longest window, as a decision's does.
-- KEYS: 1 customer hash
-- ARGV: 1 oldest time that can count (unix s), 2 the longest window (s),
--       3 the new entries ("TIME|CHANNEL|CAMPAIGN|SEND_ID[|CATEGORY]\n" each,
--       in time order)
local function merge(KEYS, ARGV)
  local cur = redis.call('HMGET', KEYS[1], 'h', 'pv')
  local h, add = cur[1] or '', ARGV[3]
  if h ~= '' then
    local nh, same = '\n' .. h, true
    for e in string.gmatch(add, '[^\n]+\n') do
      if not string.find(nh, '\n' .. e, 1, true) then same = false break end
    end
    if same then add = nil end
  end
  if h ~= '' and add then
    local oldest, seen, ot, oe, nt, ne, out = tonumber(ARGV[1]), {}, {}, {},
      {}, {}, {}
    for e in string.gmatch(h, '[^\n]+') do
      local t, id = string.match(e, '^(%d+)|(.+)$')
      if t then seen[id] = true t = tonumber(t) end
      if not t or t > oldest then ot[#ot + 1] = t or false oe[#oe + 1] = e end
    end
    for e in string.gmatch(add, '[^\n]+') do
      local t, id = string.match(e, '^(%d+)|(.+)$')
      if not seen[id] then
        seen[id] = true nt[#nt + 1] = tonumber(t) ne[#ne + 1] = e
      end
    end
    local j = 1
    for i = 1, #oe do
      while ot[i] and j <= #ne and nt[j] < ot[i] do
        out[#out + 1] = ne[j] j = j + 1
      end
      out[#out + 1] = oe[i]
    end
    for i = j, #ne do out[#out + 1] = ne[i] end
    add = #out > 0 and table.concat(out, '\n') .. '\n' or ''
  end
  if add then redis.call('HSET', KEYS[1], 'h', add) end
  if not cur[2] then
    local w = tonumber(ARGV[2])
    if redis.call('TTL', KEYS[1]) < w then redis.call('EXPIRE', KEYS[1], w) end
  end
  return 1
end
register('merge', merge)
