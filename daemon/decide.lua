-- pacer decide: for each decision of the call, check every rule that needs
-- the customer's stored state and reserve the contact, as one atomic step
-- (Redis runs a function alone). pacerd sends the decisions that arrive in
-- one turn of its event loop (or a batch's) as one call, so the call's fixed
-- costs (the call itself, TIME) are shared; a program is parsed once and
-- kept by the library (it lives as long as the library is loaded).
-- All of a customer's state is one hash (include/pacer/keys.h), so a
-- decision is one HMGET and one HSET (each redis.call costs about a
-- microsecond); the decisions of a call run in order, so two for one
-- customer see each other.
--
-- Every byte and every string a script makes costs (Redis's Lua hashes each
-- new string in full), and so does every argument: a decision is one key and
-- one argument, and numbers stay strings where they are only copied.
--
-- KEYS: 1 audit stream, then per decision the customer hash (its plan
--       entries hash, PREFIX:{C}:o, is derived from it: it has the same hash
--       tag, so it is in the same cluster slot)
-- ARGV: 1 the caller's deadline (unix ms): past it the caller has already
--         answered store_unavailable (allow if FAIL_ALLOW)
--       2 P, the number of programs, then P programs, each fixed per
--         channel and config:
--         "CHANNEL CONSENT_DEFAULT QUIET_START QUIET_END FAIL_ALLOW WINDOW KEEP AUDIT|"
--         then the checks "scope:limit:window:segment:shadow;..." (scope
--         c|a|p) by ascending limit; quiet hours in seconds after local
--         midnight (-1 none), WINDOW the longest cap window, KEEP the record
--         retention (s), AUDIT the audit stream length (0 = off), FAIL_ALLOW
--         1 when the channel's on_store_failure is allow
--       then one per decision: nine MessagePack values one after another
--         (cmsgpack.unpack reads them in one C call, no pattern to match):
--         NOW (unix seconds, as a string), PROGRAM 1..P and FLAGS 0-3 (1
--         dry run + 2 send id made by pacerd, so no record of it can exist)
--         as integers, then the strings SEND_ID, CUSTOMER, CAMPAIGN and
--         OFFER (or ""), PLAN the live plan run id ("" = don't check, "-" =
--         none is live), SUPPRESS ";seg;seg;" excluding the offer's category
--         or ""
-- Returns per decision one string, "ok" for a plain allow, else
-- "reason|retry_after|rule|shadow_rules|duplicate 0|1"; a rule is
-- "scope:limit:window:segment", shadow_rules a ","-joined list of them.

-- A function returning parse(text), parsing each text once: the library
-- keeps the results (emptied when it holds max of them) across calls.
local function cached(max, parse)
  local kept, n = {}, 0
  return function(text)
    local v = kept[text]
    if v then return v end
    v = parse(text)
    if n >= max then kept, n = {}, 0 end
    kept[text], n = v, n + 1
    return v
  end
end

-- Programs by their text (a reload brings new texts).
local program = cached(64, function(text)
  local ch, dflt, qs, qe, fail, maxw, keep, alen, checks = string.match(text,
    '^(%S+) (%d) (-?%d+) (-?%d+) (%d) (%d+) (%d+) (%d+)|(.*)$')
  local list = {}
  for scope, limit, window, seg, sh in string.gmatch(checks,
      '(%a):(%d+):(%d+):([^:;]*):(%d)') do
    list[#list + 1] = {scope, tonumber(limit), tonumber(window), seg, sh == '1',
      scope .. ':' .. limit .. ':' .. window .. ':' .. seg, ';' .. seg .. ';'}
  end
  return {ch = ch, field = 'c:' .. ch, dflt = dflt, qs = tonumber(qs),
    qe = tonumber(qe), fail = fail == '1', maxw = tonumber(maxw),
    keep = tonumber(keep), alen = tonumber(alen), checks = list}
end)

-- Offset tables by their text, "OFFSET@FROM;..." (ascending FROM): the
-- customers of a zone share one text. As a list FROM, OFFSET, ...
local zone = cached(1024, function(text)
  local z = {}
  for o, at in string.gmatch(text, '(-?%d+)@(-?%d+)') do
    z[#z + 1], z[#z + 2] = tonumber(at), tonumber(o)
  end
  return z
end)

local function decide_call(KEYS, ARGV)
  local deadline, nprog = tonumber(ARGV[1]), tonumber(ARGV[2])
  local progs = {}
  for j = 1, nprog do progs[j] = program(ARGV[2 + j]) end

  -- Too late: the caller answered store_unavailable when its timer ran out.
  local clock = redis.call('TIME')
  local late = tonumber(clock[1]) * 1000 +
    math.floor(tonumber(clock[2]) / 1000) > deadline

  -- The decision at hand (set by the loop at the end), and its stored state.
  local key, pg, now, now_s, campaign, send_id, offer, customer
  local p, hist
  local audited = false
  -- Reused from one decision to the next: the contacts in the window.
  local times, chans, camps = {}, {}, {}

  -- Write the answer: the record, the contact when reserved (history trimmed
  -- to the longest window), the bounded record count "COUNT OLDEST_TIME", the
  -- audit entry (customer, and decision = "reason|retry|rule|shadow|channel|
  -- campaign|time|offer|send_id").
  local function store(reason, retry, rule, shadow, reserve, stale)
    local base = reason .. '|' ..
      (retry < 0 and '-1' or string.format('%d', retry)) ..
      '|' .. rule .. '|' .. shadow .. '|' .. pg.ch .. '|' .. campaign .. '|' ..
      now_s .. '|' .. offer
    -- A count that does not parse starts again (and is fixed at the next
    -- bounding) rather than failing every decision of the call.
    local dn, dt = 1, now
    local a, b = string.match(p[5] or '', '^(%d+) (%d+)$')
    if a then dn, dt = tonumber(a) + 1, tonumber(b) end
    local n = string.format('%d %d', dn, dt)
    if reserve then
      if stale then
        local kept, from = {}, now - pg.maxw
        for e, t in string.gmatch(hist, '((%d+)|[^\n]*\n)') do
          if tonumber(t) > from then kept[#kept + 1] = e end
        end
        hist = table.concat(kept)
      end
      redis.call('HSET', key, 'd:' .. send_id, base .. '|', 'n', n, 'h', hist ..
        now_s .. '|' .. pg.ch .. '|' .. campaign .. '|' .. send_id .. '\n')
    else
      redis.call('HSET', key, 'd:' .. send_id, base .. '|', 'n', n)
    end
    local keep = pg.keep
    if dn > 512 or dt < now - keep - keep / 4 then
      -- Bound the records (amortized: at most once per 256 new ones or per
      -- quarter retention): drop those past the retention, keep the newest
      -- 256. An allowed send stays idempotent through its history entry.
      local all, recs, drop = redis.call('HGETALL', key), {}, {}
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
      if #drop > 0 then redis.call('HDEL', key, unpack(drop)) end
      redis.call('HSET', key, 'n', string.format('%d %d', #recs - #drop,
        oldest or now))
    end
    -- Without a profile the key holds only decisions: it goes with them.
    if not p[4] then redis.call('EXPIRE', key, keep) end
    if pg.alen > 0 then
      -- One field for the decision: each argument of a call costs. The
      -- stream is trimmed once per call, after the loop.
      redis.call('XADD', KEYS[1], '*', 'customer', customer, 'decision',
        base .. '|' .. send_id)
      audited = true
    end
  end

  -- The customer's UTC offset at t: the first entry's, then each later
  -- one's from its time on.
  local function offset_at(t)
    if not p[6] then return 0 end
    local z = zone(p[6])
    local off = z[2] or 0
    for j = 3, #z, 2 do
      if z[j] <= t then off = z[j + 1] else break end
    end
    return off
  end

  -- Decide the decision at hand: reason, retry_after, rule, shadow, duplicate.
  local function decide(flags, plan, suppress)
    local dry, fresh = flags % 2 == 1, flags >= 2
    -- p: consent, segments, history, profile marker, record count, offsets
    -- (only when the channel has quiet hours: the table is long), record.
    if pg.qs >= 0 then
      if fresh then
        p = redis.call('HMGET', key, pg.field, 'seg', 'h', 'pv', 'n', 'tzt')
      else
        p = redis.call('HMGET', key, pg.field, 'seg', 'h', 'pv', 'n', 'tzt',
          'd:' .. send_id)
      end
    elseif fresh then
      p = redis.call('HMGET', key, pg.field, 'seg', 'h', 'pv', 'n')
    else
      -- 'pv' again holds the offsets' place (not read without quiet hours).
      p = redis.call('HMGET', key, pg.field, 'seg', 'h', 'pv', 'n', 'pv',
        'd:' .. send_id)
    end
    if p[7] then
      local f = {}
      for v in string.gmatch(p[7] .. '|', '([^|]*)|') do f[#f + 1] = v end
      return f[1], tonumber(f[2]), f[3], f[4], 1
    end
    hist = p[3] or ''

    -- Record the answer the caller was given, and count the contact only if
    -- it was "allow" (the send then went out), so the store matches it.
    if late then
      if not dry then store('store_unavailable', -1, '', '', pg.fail, true) end
      return 'store_unavailable', -1, '', '', 0
    end

    local segs = p[2]
    if segs then segs = ';' .. segs .. ';' else segs = '' end
    local reason, retry, rule, shadow = 'ok', -1, '', ''

    local consent = p[1]
    if consent == false then consent = pg.dflt end
    if consent ~= '1' then reason = 'no_consent' end

    if reason == 'ok' and suppress ~= '' and segs ~= '' then
      for sg in string.gmatch(suppress, '[^;]+') do
        if string.find(segs, ';' .. sg .. ';', 1, true) then
          reason = 'suppressed'
          break
        end
      end
    end

    if reason == 'ok' and plan ~= '' then
      local planned = false
      if plan ~= '-' then
        local offers = redis.call('HGET', string.sub(key, 1, -2) .. 'o', plan)
        if offers and string.find(',' .. offers .. ',', ',' .. offer .. ',', 1,
            true) then
          planned = true
        end
      end
      if not planned then reason = 'not_planned' end
    end

    if reason == 'ok' and pg.qs >= 0 then
      local qs, qe = pg.qs, pg.qe
      local off = offset_at(now)
      local loc = (now + off) % 86400
      local inq
      if qs < qe then
        inq = loc >= qs and loc < qe
      else
        inq = loc >= qs or loc < qe
      end
      if inq then
        -- Quiet hours end at local qe; a clock change on the way moves
        -- that instant.
        local t_end = now + (qe - loc + 86400) % 86400
        local off2 = offset_at(t_end)
        if off2 ~= off then t_end = t_end - (off2 - off) end
        reason, retry = 'quiet_hours', t_end - now
      end
    end

    local stale = false
    if reason == 'ok' then
      -- The history is small: it is trimmed to the longest window.
      local n, from, ch = 0, now - pg.maxw, pg.ch
      -- Captures cost: a send id made by pacerd is in no history, and
      -- without a campaign no contact's campaign is compared.
      local pat
      if not fresh then
        pat = '(%d+)|([^|]*)|([^|]*)|([^\n]*)\n'
      elseif campaign ~= '' then
        pat = '(%d+)|([^|]*)|([^|]*)|[^\n]*\n'
      else
        pat = '(%d+)|([^|]*)|[^\n]*\n'
      end
      for t, c, cp, sid in string.gmatch(hist, pat) do
        -- A retry of an allowed send whose record was pruned: still the
        -- first answer.
        if not fresh and sid == send_id and c == ch and cp == campaign then
          return 'ok', -1, '', '', 1
        end
        t = tonumber(t)
        if t <= from then
          stale = true
        elseif t <= now then
          n = n + 1
          times[n], chans[n], camps[n] = t, c, cp
        end
      end
      -- The checks come by ascending limit: none past n contacts can bind.
      local checks = pg.checks
      for i = 1, #checks do
        local k = checks[i]
        local scope, limit, window = k[1], k[2], k[3]
        if limit > n then break end
        if k[4] == '' or string.find(segs, k[7], 1, true) then
          local wfrom, used = now - window, 0
          for j = 1, n do
            if times[j] > wfrom and (scope == 'a' or (scope == 'c' and chans[j] == ch) or
                (scope == 'p' and campaign ~= '' and camps[j] == campaign)) then
              used = used + 1
            end
          end
          if used >= limit then
            -- Room opens when the (used - limit + 1)-th oldest contact leaves.
            local wait = -1
            if limit > 0 then
              local counted = {}
              for j = 1, n do
                if times[j] > wfrom and (scope == 'a' or (scope == 'c' and chans[j] == ch) or
                    (scope == 'p' and campaign ~= '' and camps[j] == campaign)) then
                  counted[#counted + 1] = times[j]
                end
              end
              table.sort(counted)
              wait = counted[used - limit + 1] + window - now
            end
            if k[5] then
              shadow = shadow .. (shadow == '' and '' or ',') .. k[6]
            elseif reason == 'ok' or
                (retry >= 0 and (wait < 0 or wait > retry)) then
              -- Name the cap that holds the customer longest (-1: for ever).
              reason, retry, rule = 'cap', wait, k[6]
            end
          end
        end
      end
    end

    if not dry then
      store(reason, retry, rule, shadow, reason == 'ok', stale)
    end
    return reason, retry, rule, shadow, 0
  end

  local out, o = {}, 0
  for i = 1, #KEYS - 1 do
    local prog, flags, plan, suppress
    key = KEYS[1 + i]
    now_s, prog, flags, send_id, customer, campaign, offer, plan, suppress =
      cmsgpack.unpack(ARGV[2 + nprog + i])
    now, pg = tonumber(now_s), progs[prog]
    local reason, retry, rule, shadow, dup = decide(flags, plan, suppress)
    o = o + 1
    if reason == 'ok' and shadow == '' and dup == 0 then
      out[o] = 'ok'
    else
      out[o] = reason .. '|' .. string.format('%d', retry) .. '|' .. rule ..
        '|' .. shadow .. '|' .. dup
    end
  end
  if audited then
    local alen = 0
    for _, g in pairs(progs) do alen = math.max(alen, g.alen) end
    redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', alen)
  end
  return out
end
register('decide', decide_call)
