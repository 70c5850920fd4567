-- pacer read: everything stored about one customer, in one consistent view.
-- KEYS: 1 customer hash, 2 the plan entries of runs written before plan
--       buckets (PREFIX:{C}:o), then the plan buckets to look in (those of
--       the live and candidate runs holding the customer)
-- Returns {profile fields, history (member, time...), decisions (send_id,
--          record...), older plan entries (run, offers...), the customer's
--          entry ("o1,o2" or nil) in each bucket}; a history member is
--          "CHANNEL|CAMPAIGN|SEND_ID" or "CHANNEL|CAMPAIGN|SEND_ID|CATEGORY".
local function read(KEYS, ARGV)
  local customer = string.match(KEYS[1], '{([^{}]*)}:p$')
  local entries = {}
  for i = 3, #KEYS do
    entries[i - 2] = registered.plan_offers(KEYS[i], customer) or false
  end
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
  return {prof, hist, recs, redis.call('HGETALL', KEYS[2]), entries}
end
register('read', read)

-- pacer explain: the read view and the decision script's own answer to a
-- dry run of each given decision, as one atomic step, so the explanation
-- is the decisions' truth (suppressed, not_planned, every cap), never a
-- second engine's guess.
-- KEYS: read's
-- ARGV: decide's (deadline, P, P programs, one dry run per decision, each
--       on this customer)
-- Returns read's five parts, then decide's answers.
local function explain(KEYS, ARGV)
  local n = #ARGV - 2 - tonumber(ARGV[2])
  -- A dry run writes nothing: the audit stream's place holds the hash.
  local keys = {KEYS[1]}
  for i = 1, n do keys[1 + i] = KEYS[1] end
  local answers = registered.decide(keys, ARGV)
  local out = read(KEYS, ARGV)
  out[6] = answers
  return out
end
register('explain', explain)

-- pacer profile: a PUT of the customer's profile, as one atomic step, so
-- that consent records keep their order. Consent per channel is the field
-- c:CHANNEL ("1"/"0"); its records, newest first and at most 20, are the
-- field cr:CHANNEL, lines "AT|GRANTED|SOURCE|BY\n". A change that would
-- lower the newest record's time is refused, and then nothing changes.
-- KEYS: 1 customer hash
-- ARGV: 1 now (unix s), 2 by (who recorded it), then
--       NSET, NSET field/value pairs; NDEL, NDEL fields;
--       NCONSENT, NCONSENT groups of CHANNEL GRANTED(0|1) SOURCE AT (0: now)
-- Returns "ok", or "conflict|CHANNEL|NEWEST_AT".
local CONSENT_RECORDS = 20

local function profile(KEYS, ARGV)
  local now, by, i = ARGV[1], ARGV[2], 3
  local sets, dels, changes = {}, {}, {}
  local n = tonumber(ARGV[i])
  for j = 1, 2 * n do sets[j] = ARGV[i + j] end
  i = i + 2 * n + 1
  n = tonumber(ARGV[i])
  for j = 1, n do dels[j] = ARGV[i + j] end
  i = i + n + 1
  n = tonumber(ARGV[i])
  for j = 0, n - 1 do
    local b = i + 1 + 4 * j
    local at = ARGV[b + 3]
    if at == '0' then at = now end
    changes[#changes + 1] = {ARGV[b], ARGV[b + 1], ARGV[b + 2], at}
  end
  -- Check every change first: a refused one changes nothing.
  local old = {}
  for _, c in ipairs(changes) do
    local rec = redis.call('HGET', KEYS[1], 'cr:' .. c[1]) or ''
    local newest = tonumber(string.match(rec, '^(%d+)|') or '0')
    if tonumber(c[4]) < newest then
      return 'conflict|' .. c[1] .. '|' .. string.format('%d', newest)
    end
    old[#old + 1] = rec
  end
  for k, c in ipairs(changes) do
    sets[#sets + 1] = 'c:' .. c[1]
    sets[#sets + 1] = c[2]
    -- The same answer from the same source again is no change (a PUT
    -- repeated is idempotent); anything else is recorded.
    local g, src = string.match(old[k], '^%d+|(%d)|([^|]*)|')
    if g ~= c[2] or src ~= c[3] then
      local lines, m = {c[4] .. '|' .. c[2] .. '|' .. c[3] .. '|' .. by ..
        '\n'}, 1
      for line in string.gmatch(old[k], '[^\n]*\n') do
        if m >= CONSENT_RECORDS then break end
        m = m + 1
        lines[m] = line
      end
      sets[#sets + 1] = 'cr:' .. c[1]
      sets[#sets + 1] = table.concat(lines)
    end
  end
  if #dels > 0 then redis.call('HDEL', KEYS[1], unpack(dels)) end
  -- A stored profile: the key no longer expires with its decisions.
  sets[#sets + 1] = 'pv'
  sets[#sets + 1] = '1'
  redis.call('HSET', KEYS[1], unpack(sets))
  redis.call('PERSIST', KEYS[1])
  return 'ok'
end
register('profile', profile)
