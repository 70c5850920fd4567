-- pacer decide: check every rule that needs the customer's stored state and
-- reserve the contact, as one atomic step (Redis runs a script alone). All
-- of a customer's state is one hash (include/pacer/keys.h), so a decision
-- is one HMGET and one HSET (each redis.call costs about a microsecond).
--
-- KEYS: 1 customer hash, 2 plan entries hash, 3 audit stream
-- ARGV: 1 now, 2 channel, 3 campaign|"", 4 send_id, 5 dry_run 0|1,
--       6 ";seg;seg;" excluding this offer's category|"",
--       7 live plan run id ("" = don't check, "-" = none is live),
--       8 offer|"", 9 customer id,
--       10 the channel's program, fixed per config:
--          "CONSENT_DEFAULT QUIET_START QUIET_END FAIL_ALLOW WINDOW KEEP AUDIT|"
--          then the checks "scope:limit:window:segment:shadow;..." (scope
--          c|a|p) by ascending limit; quiet hours in seconds after local midnight (-1 none),
--          WINDOW the longest cap window, KEEP the record retention (s),
--          AUDIT the audit stream length (0 = off), FAIL_ALLOW 1 when the
--          channel's on_store_failure is allow
--       11 the caller's deadline (unix ms): past it the caller has already
--          answered store_unavailable (allow if FAIL_ALLOW)
-- Returns {reason, retry_after, rule, shadow_rules, duplicate 0|1}; a rule
-- is "scope:limit:window:segment", shadow_rules a ","-joined list of them.
local now = tonumber(ARGV[1])
local channel, campaign, send_id = ARGV[2], ARGV[3], ARGV[4]
local dflt, qs, qe, fail, maxw, keep, alen, checks = string.match(ARGV[10],
  '^(%d) (-?%d+) (-?%d+) (%d) (%d+) (%d+) (%d+)|(.*)$')
qs, maxw, keep = tonumber(qs), tonumber(maxw), tonumber(keep)
local dkey = 'd:' .. send_id

-- The offset table is long: fetched only when the channel has quiet hours.
local p
if qs >= 0 then
  p = redis.call('HMGET', KEYS[1], dkey, 'c:' .. channel, 'seg', 'h', 'pv', 'n',
    'tzt')
else
  p = redis.call('HMGET', KEYS[1], dkey, 'c:' .. channel, 'seg', 'h', 'pv', 'n')
end
if p[1] then
  local f = {}
  for v in string.gmatch(p[1] .. '|', '([^|]*)|') do f[#f + 1] = v end
  return {f[1], tonumber(f[2]), f[3], f[4], 1}
end
local hist = p[4] or ''

-- Write the answer: the record, the contact when reserved (history trimmed
-- to the longest window), the bounded record count "COUNT OLDEST_TIME", the
-- audit entry (customer, and decision = "reason|retry|rule|shadow|channel|
-- campaign|time|offer|send_id"). Numbers go to Redis as strings (Lua's own formatting is slow).
local function store(reason, retry, rule, shadow, reserve, stale)
  local base = reason .. '|' .. string.format('%d', retry) .. '|' .. rule .. '|' ..
    shadow .. '|' .. channel .. '|' .. campaign .. '|' .. ARGV[1] .. '|' .. ARGV[8]
  local rec = base .. '|'
  local dn, dt = 1, now
  if p[6] then
    local a, b = string.match(p[6], '^(%d+) (%d+)$')
    dn, dt = tonumber(a) + 1, tonumber(b)
  end
  local n = string.format('%d %d', dn, dt)
  if reserve then
    if stale then
      local kept = {}
      for e, t in string.gmatch(hist, '((%d+)|[^\n]*\n)') do
        if tonumber(t) > now - maxw then kept[#kept + 1] = e end
      end
      hist = table.concat(kept)
    end
    redis.call('HSET', KEYS[1], dkey, rec, 'n', n, 'h', hist .. ARGV[1] .. '|' ..
      channel .. '|' .. campaign .. '|' .. send_id .. '\n')
  else
    redis.call('HSET', KEYS[1], dkey, rec, 'n', n)
  end
  if dn > 512 or dt < now - keep - keep / 4 then
    -- Bound the records (amortized: at most once per 256 new ones or per
    -- quarter retention): drop those past the retention, keep the newest
    -- 256. An allowed send stays idempotent through its history entry.
    local all, recs, drop = redis.call('HGETALL', KEYS[1]), {}, {}
    for j = 1, #all, 2 do
      if string.sub(all[j], 1, 2) == 'd:' then
        local t = tonumber(string.match(all[j + 1],
          '^[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|([^|]*)')) or 0
        recs[#recs + 1] = {t, all[j]}
      end
    end
    table.sort(recs, function(x, y) return x[1] < y[1] end)
    local oldest = nil
    for j = 1, #recs do
      if j <= #recs - 256 or recs[j][1] < now - keep then
        drop[#drop + 1] = recs[j][2]
      elseif oldest == nil then
        oldest = recs[j][1]
      end
    end
    if #drop > 0 then redis.call('HDEL', KEYS[1], unpack(drop)) end
    redis.call('HSET', KEYS[1], 'n', string.format('%d %d', #recs - #drop,
      oldest or now))
  end
  -- Without a profile the key holds only decisions: it goes with them.
  if not p[5] then redis.call('EXPIRE', KEYS[1], keep) end
  if alen ~= '0' then
    -- One field for the decision: each argument of a call costs.
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', alen, '*', 'customer', ARGV[9],
      'decision', base .. '|' .. send_id)
  end
end

-- Too late: the caller answered store_unavailable when its timer ran out.
-- Record that answer, and count the contact only if it was "allow" (the
-- send then went out), so the store matches what the caller was told.
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) >
    tonumber(ARGV[11]) then
  if ARGV[5] ~= '1' then
    store('store_unavailable', -1, '', '', fail == '1', true)
  end
  return {'store_unavailable', -1, '', '', 0}
end

local segs = ';' .. (p[3] or '') .. ';'
local reason, retry, rule, shadow = 'ok', -1, '', ''

local consent = p[2]
if consent == false then consent = dflt end
if consent ~= '1' then reason = 'no_consent' end

if reason == 'ok' and ARGV[6] ~= '' then
  for s in string.gmatch(ARGV[6], '[^;]+') do
    if string.find(segs, ';' .. s .. ';', 1, true) then reason = 'suppressed' break end
  end
end

if reason == 'ok' and ARGV[7] ~= '' then
  local planned = false
  if ARGV[7] ~= '-' then
    local offers = redis.call('HGET', KEYS[2], ARGV[7])
    if offers and string.find(',' .. offers .. ',', ',' .. ARGV[8] .. ',', 1, true) then
      planned = true
    end
  end
  if not planned then reason = 'not_planned' end
end

if reason == 'ok' and qs >= 0 then
  -- The customer's UTC offset at t, from "OFFSET@FROM;..." (ascending).
  local function offset_at(t)
    local off, first = '0', true
    if p[7] then
      for o, at in string.gmatch(p[7], '(-?%d+)@(-?%d+)') do
        if first or tonumber(at) <= t then off = o else break end
        first = false
      end
    end
    return tonumber(off)
  end
  local off = offset_at(now)
  qe = tonumber(qe)
  local loc = (now + off) % 86400
  local inq
  if qs < qe then inq = loc >= qs and loc < qe else inq = loc >= qs or loc < qe end
  if inq then
    -- Quiet hours end at local qe; a clock change on the way moves that instant.
    local t_end = now + (qe - loc + 86400) % 86400
    local off2 = offset_at(t_end)
    if off2 ~= off then t_end = t_end - (off2 - off) end
    reason, retry = 'quiet_hours', t_end - now
  end
end

local stale = false
if reason == 'ok' then
  -- The history is small: it is trimmed to the longest window.
  local times, chans, camps, n = {}, {}, {}, 0
  for t, ch, cp, sid in string.gmatch(hist, '(%d+)|([^|]*)|([^|]*)|([^\n]*)\n') do
    -- A retry of an allowed send whose record was pruned: still the first answer.
    if sid == send_id and ch == channel and cp == campaign then
      return {'ok', -1, '', '', 1}
    end
    t = tonumber(t)
    if t <= now - maxw then
      stale = true
    elseif t <= now then
      n = n + 1
      times[n], chans[n], camps[n] = t, ch, cp
    end
  end
  -- The checks come by ascending limit: none past n contacts can bind.
  for scope, limit, window, seg, sh in string.gmatch(checks,
      '(%a):(%d+):(%d+):([^:;]*):(%d)') do
    limit = tonumber(limit)
    if limit > n then break end
    if seg == '' or string.find(segs, ';' .. seg .. ';', 1, true) then
      window = tonumber(window)
      local from, counted = now - window, {}
      for j = 1, n do
        if times[j] > from and (scope == 'a' or (scope == 'c' and chans[j] == channel) or
            (scope == 'p' and campaign ~= '' and camps[j] == campaign)) then
          counted[#counted + 1] = times[j]
        end
      end
      if #counted >= limit then
        local desc = scope .. ':' .. limit .. ':' .. window .. ':' .. seg
        -- Room opens when the (used - limit + 1)-th oldest contact leaves.
        local wait = -1
        if limit > 0 then
          table.sort(counted)
          wait = counted[#counted - limit + 1] + window - now
        end
        if sh == '1' then
          shadow = shadow .. (shadow == '' and '' or ',') .. desc
        elseif reason == 'ok' or (retry >= 0 and (wait < 0 or wait > retry)) then
          -- Name the cap that holds the customer longest (-1: for ever).
          reason, retry, rule = 'cap', wait, desc
        end
      end
    end
  end
end

if ARGV[5] == '1' then return {reason, retry, rule, shadow, 0} end
store(reason, retry, rule, shadow, reason == 'ok', stale)
return {reason, retry, rule, shadow, 0}
