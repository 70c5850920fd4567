-- pacer erase: the right to erasure. Deletes every key of the customer and
-- their entries in the audit stream.
-- KEYS: 1 customer hash, 2 plan entries, 3 audit stream
-- ARGV: 1 customer id
-- Returns the number of keys and audit entries removed.
local function erase(KEYS, ARGV)
  local n = redis.call('DEL', KEYS[1], KEYS[2])
  local from = '-'
  while true do
    local batch = redis.call('XRANGE', KEYS[3], from, '+', 'COUNT', 1000)
    if #batch == 0 then break end
    for _, e in ipairs(batch) do
      local f = e[2]
      for i = 1, #f, 2 do
        if f[i] == 'customer' and f[i + 1] == ARGV[1] then
          n = n + redis.call('XDEL', KEYS[3], e[1])
          break
        end
      end
    end
    from = '(' .. batch[#batch][1]
  end
  return n
end
register('erase', erase)
