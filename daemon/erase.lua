-- pacer erase: the right to erasure, in two functions so that Redis is
-- never held long: erase deletes the customer's keys at once, then pacerd
-- calls erase_audit on the audit stream a slice at a time until it is
-- through (other calls run between the slices).

-- KEYS: 1 customer hash, 2 plan entries of runs written before plan
--       buckets, 3 send id record index, then the plan bucket holding the
--       customer of every plan written (PREFIX:plan:runs)
-- ARGV: 1 customer id
-- Returns the number of keys and plan entries removed.
local function erase(KEYS, ARGV)
  local n = redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  local mark = '\n' .. ARGV[1] .. '\t'
  for i = 4, #KEYS do
    local b = redis.call('GET', KEYS[i])
    local at = b and string.find(b, mark, 1, true)
    if at then
      -- The record runs to the next one's newline, or the end.
      local stop = string.find(b, '\n', at + 1, true) or #b + 1
      local rest = string.sub(b, 1, at - 1) .. string.sub(b, stop)
      if rest == '' then
        redis.call('DEL', KEYS[i])
      else
        redis.call('SET', KEYS[i], rest, 'KEEPTTL')
      end
      n = n + 1
    end
  end
  return n
end
register('erase', erase)

-- KEYS: 1 audit stream
-- ARGV: 1 customer id, 2 the first entry id to look at ("-": the start),
--       3 how many entries to look at
-- Returns {entries removed, the next entry id to look at or "" at the end}.
local function erase_audit(KEYS, ARGV)
  local n = 0
  local batch = redis.call('XRANGE', KEYS[1], ARGV[2], '+', 'COUNT',
    tonumber(ARGV[3]) + 1)
  local last = #batch
  local next = ''
  if last > tonumber(ARGV[3]) then
    next = batch[last][1]
    last = last - 1
  end
  for i = 1, last do
    local f = batch[i][2]
    for j = 1, #f, 2 do
      if f[j] == 'customer' and f[j + 1] == ARGV[1] then
        n = n + redis.call('XDEL', KEYS[1], batch[i][1])
        break
      end
    end
  end
  return {n, next}
end
register('erase_audit', erase_audit)
