-- pacer decide on a Redis Cluster (daemon/cluster.c). The store groups a
-- call's decisions by the master of each customer's slot and sends each
-- master one call of this function, which runs decide (decide.lua) on the
-- decisions whose customer hash this node serves. A call's declared keys
-- must all lie in one slot, so the customer hashes (of many slots) come in
-- ARGV, and the function carries the flag allow-cross-slot-keys (Redis
-- 7.0) to touch them; each is first looked up with redis.pcall, so a key
-- the node does not serve (its slot moved, or is moving) is answered
-- "moved" before anything is written, and the store sends that decision
-- again on its own, where Redis's MOVED and ASK say where it goes.
--
-- KEYS: none, or the one customer hash of a decision sent on its own (so
--       Redis routes the call: MOVED, ASK)
-- ARGV: 1 the audit streams of this node, "FIRST SECOND" (keys of slots it
--         serves; the second is written while the first one's slot moves),
--       2 N, 3..2+N the decisions' customer hashes, then decide's ARGV
--       (deadline, P, P programs, N decisions)
-- Returns decide's answer per decision, "moved" for a decision whose
-- customer this node does not serve (every one when it serves neither
-- audit stream).
local decide = registered.decide

-- Whether this node serves key now (a script may touch it).
local function served(key)
  return type(redis.pcall('EXISTS', key)) == 'number'
end

local function decide_cluster(KEYS, ARGV)
  local n = tonumber(ARGV[2])
  local base = 2 + n
  local nprog = tonumber(ARGV[base + 2])
  local out, at, audit = {}, {}, nil
  for k in string.gmatch(ARGV[1], '%S+') do
    if served(k) then audit = k break end
  end
  if not audit then
    for i = 1, n do out[i] = 'moved' end
    return out
  end
  local keys, argv = {audit}, {}
  for j = 1, 2 + nprog do argv[j] = ARGV[base + j] end
  for i = 1, n do
    if served(ARGV[2 + i]) then
      keys[#keys + 1] = ARGV[2 + i]
      argv[#argv + 1] = ARGV[base + 2 + nprog + i]
      at[i] = #keys - 1
    end
  end
  local got = decide(keys, argv)
  for i = 1, n do out[i] = at[i] and got[at[i]] or 'moved' end
  return out
end
register('decide_cluster', decide_cluster, {'allow-cross-slot-keys'})
