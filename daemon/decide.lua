-- pacer decide: check every rule that needs the customer's stored state and
-- reserve the contact, as one atomic step (Redis runs a script alone).
--
-- KEYS: 1 profile hash, 2 history zset, 3 decisions hash (idempotency and
--       recent decisions), 4 plan entries hash, 5 audit stream
-- ARGV: 1 now, 2 channel, 3 campaign|"", 4 send_id, 5 dry_run 0|1,
--       6 consent default 0|1, 7 quiet start (s after local midnight, -1 none),
--       8 quiet end, 9 ";seg;seg;" excluding this offer's category|"",
--       10 live plan run id ("" = don't check, "-" = none is live), 11 offer|"",
--       12 longest window (s), 13 decision retention (s), 14 audit stream
--       length (0 = off), 15 customer id,
--       16 checks: "scope:limit:window:segment:shadow;..." with scope c|a|p,
--       17 the caller's deadline (unix ms): past it the caller has already
--       answered store_unavailable, 18 that answer's allow 0|1
--       (the channel's on_store_failure)
-- Returns {reason, retry_after, rule, shadow_rules, duplicate 0|1}; a rule
-- is "scope:limit:window:segment", shadow_rules a ","-joined list of them.
-- A decision record (KEYS[3] field send_id) is
-- "reason|retry|rule|shadow|channel|campaign|time|offer|state".
local now = tonumber(ARGV[1])
local channel, campaign, send_id = ARGV[2], ARGV[3], ARGV[4]

local prev = redis.call('HGET', KEYS[3], send_id)
if prev then
  local f = {}
  for v in string.gmatch(prev .. '|', '([^|]*)|') do f[#f + 1] = v end
  return {f[1], tonumber(f[2]), f[3], f[4], 1}
end

-- Too late: the caller answered store_unavailable when its timer ran out.
-- Record that answer, and count the contact only if it was "allow" (the
-- send then went out), so the store matches what the caller was told.
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[17]) then
  if ARGV[5] ~= '1' then
    if ARGV[18] == '1' then
      redis.call('ZADD', KEYS[2], ARGV[1], channel .. '|' .. campaign .. '|' .. send_id)
      redis.call('EXPIRE', KEYS[2], ARGV[12])
    end
    redis.call('HSET', KEYS[3], send_id, table.concat({'store_unavailable', -1, '', '',
      channel, campaign, ARGV[1], ARGV[11], ''}, '|'))
    redis.call('EXPIRE', KEYS[3], ARGV[13])
  end
  return {'store_unavailable', -1, '', '', 0}
end

local p = redis.call('HMGET', KEYS[1], 'c:' .. channel, 'tzt', 'seg')
local segs = ';' .. (p[3] or '') .. ';'
local reason, retry, rule, shadow = 'ok', -1, '', ''

local consent = p[1]
if consent == false then consent = ARGV[6] end
if consent ~= '1' then reason = 'no_consent' end

if reason == 'ok' and ARGV[9] ~= '' then
  for s in string.gmatch(ARGV[9], '[^;]+') do
    if string.find(segs, ';' .. s .. ';', 1, true) then reason = 'suppressed' break end
  end
end

if reason == 'ok' and ARGV[10] ~= '' then
  local planned = false
  if ARGV[10] ~= '-' then
    local offers = redis.call('HGET', KEYS[4], ARGV[10])
    if offers and string.find(',' .. offers .. ',', ',' .. ARGV[11] .. ',', 1, true) then
      planned = true
    end
  end
  if not planned then reason = 'not_planned' end
end

local qs = tonumber(ARGV[7])
if reason == 'ok' and qs >= 0 then
  -- The customer's UTC offset at t, from "OFFSET@FROM;..." (ascending).
  local function offset_at(t)
    local off, first = 0, true
    if p[2] then
      for o, at in string.gmatch(p[2], '(-?%d+)@(-?%d+)') do
        if first or tonumber(at) <= t then off = tonumber(o) end
        first = false
      end
    end
    return off
  end
  local off = offset_at(now)
  local qe = tonumber(ARGV[8])
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

local maxw = tonumber(ARGV[12])
local stale = false
if reason == 'ok' then
  -- The whole history is small: it is trimmed to the longest window.
  local h = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
  local times, members = {}, {}
  -- A retry of an allowed send whose record was pruned: still the first answer.
  local mine = channel .. '|' .. campaign .. '|' .. send_id
  for j = 1, #h, 2 do
    if h[j] == mine then return {'ok', -1, '', '', 1} end
    local t = tonumber(h[j + 1])
    if t <= now - maxw then stale = true end
    if t > now - maxw and t <= now then
      times[#times + 1] = t
      members[#members + 1] = h[j]
    end
  end
  local chp = channel .. '|'
  for scope, limit, window, seg, sh in string.gmatch(ARGV[16],
      '(%a):(%d+):(%d+):([^:;]*):(%d)') do
    limit, window = tonumber(limit), tonumber(window)
    if seg == '' or string.find(segs, ';' .. seg .. ';', 1, true) then
      local from, counted = now - window, {}
      for j = 1, #times do
        local t = times[j]
        if t > from then
          local m, counts = members[j], false
          if scope == 'a' then
            counts = true
          elseif scope == 'c' then
            counts = string.sub(m, 1, #chp) == chp
          else
            counts = campaign ~= '' and string.match(m, '^[^|]*|([^|]*)|') == campaign
          end
          if counts then counted[#counted + 1] = t end
        end
      end
      if #counted >= limit then
        local desc = scope .. ':' .. limit .. ':' .. window .. ':' .. seg
        -- Room opens when the (used - limit + 1)-th oldest contact leaves.
        local wait = -1
        if limit > 0 then wait = counted[#counted - limit + 1] + window - now end
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

if reason == 'ok' then
  -- Strings from ARGV, not numbers: Lua would format them again.
  redis.call('ZADD', KEYS[2], ARGV[1], channel .. '|' .. campaign .. '|' .. send_id)
  if stale then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - maxw) end
  redis.call('EXPIRE', KEYS[2], ARGV[12])
end

local keep = tonumber(ARGV[13])
if redis.call('HSET', KEYS[3], send_id, table.concat({reason, retry, rule, shadow,
    channel, campaign, ARGV[1], ARGV[11], ''}, '|')) == 1 and
    redis.call('HLEN', KEYS[3]) > 512 then
  -- Bound the records: keep the newest 256 (amortized: once per 256 new
  -- ones). An allowed send stays idempotent through its history entry.
  local all, recs, drop = redis.call('HGETALL', KEYS[3]), {}, {}
  for j = 1, #all, 2 do
    local t = tonumber(string.match(all[j + 1],
      '^[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|([^|]*)')) or 0
    recs[#recs + 1] = {t, all[j]}
  end
  table.sort(recs, function(x, y) return x[1] < y[1] end)
  for j = 1, #recs do
    if j <= #recs - 256 or recs[j][1] < now - keep then drop[#drop + 1] = recs[j][2] end
  end
  if #drop > 0 then redis.call('HDEL', KEYS[3], unpack(drop)) end
end
redis.call('EXPIRE', KEYS[3], ARGV[13])

if ARGV[14] ~= '0' then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[14], '*', 'customer', ARGV[15],
    'time', ARGV[1], 'channel', channel, 'campaign', campaign, 'offer', ARGV[11],
    'send_id', send_id, 'reason', reason, 'rule', rule, 'shadow', shadow)
end
return {reason, retry, rule, shadow, 0}
