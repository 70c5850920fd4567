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
-- KEYS: 1 audit stream, then per decision the customer hash (the plan
--       bucket its PLAN names lies in the same cluster slot)
-- ARGV: 1 the caller's deadline (unix ms on Redis's clock: pacerd keeps
--         an estimate of the offset between its clock and Redis's): past
--         it the caller has already answered store_unavailable (allow if
--         FAIL_ALLOW)
--       2 P, the number of programs, then P programs, each fixed per
--         channel and config:
--         "CHANNEL CONSENT_DEFAULT QUIET_START QUIET_END FAIL_ALLOW WINDOW KEEP AUDIT
--         RESERVE|"
--         then the checks "scope:limit:window:segment:shadow;..." (scope
--         c|a|p, or k for a category's cap with the category in the
--         segment's place: it applies to decisions on an offer of that
--         category and counts its contacts on every channel) by ascending
--         limit; quiet hours in seconds after local
--         midnight (-1 none), WINDOW the longest cap window, KEEP the record
--         retention (s), AUDIT the audit stream length (0 = off), FAIL_ALLOW
--         1 when the channel's on_store_failure is allow, RESERVE the slots
--         of every cap kept for priority high ([priority] reserve)
--       then one per decision: ten MessagePack values one after another
--         (cmsgpack.unpack reads them in one C call, no pattern to match):
--         NOW (unix seconds as a string; "" = Redis's own clock, the one
--         clock of every pacerd sharing the store), PROGRAM 1..P and FLAGS
--         0-127 (1 dry run, 2 send id made by pacerd so no record of it can
--         exist, 4 schedule, 8 exempt campaign, 16 exempt and not counted,
--         32 priority low, 64 priority high)
--         as integers, then the strings SEND_ID, CUSTOMER, CAMPAIGN and
--         OFFER (or ""), PLAN the live run's bucket of the customer,
--         PREFIX:plan:{TAG}:STEM:K, a string "\nCUSTOMER\to1,o2" per
--         customer ("" = don't check, "-" = none is live, "=RUN" a run
--         written before buckets: its entries are field RUN of
--         PREFIX:{C}:o), SUPPRESS ";seg;seg;" excluding the offer's category
--         or "", CATEGORY the offer's category or ""
-- Returns per decision one string, "ok" for a plain allow, else
-- "reason|retry_after|rule|shadow_rules|duplicate 0|1|next_allowed|
-- reserved_for"; a rule is the position of the denying check in the
-- program (1 = the first), or for a customer's own cap, or a record's
-- check the program no longer has, its text "scope:limit:window:segment"
-- (as records and the audit stream keep it); shadow_rules a ","-joined
-- list of positions (none for a repeated send id); next_allowed the unix time at which every rule
-- together would allow the same request (-1: none, or not time-curable),
-- which for reason "scheduled" is the send time; reserved_for "high" when
-- only the reserve of a cap denied;
-- reason "conflict" when the send id is live for another channel, campaign
-- or offer (nothing is stored).
--
-- The promise: for every cap N/W and every instant s, the contacts in
-- (s - W, s] number at most N. A contact stamped after the decision's time
-- (a client time, or a clock ahead) still counts: a new contact at t is
-- allowed only if every window holding t keeps room.
--
-- Send id records: field d:SEND_ID of the hash, indexed by store time in
-- the sorted set PREFIX:{C}:r, so that old ones are pruned a few at a time
-- (never all of them read at once); kept KEEP seconds, at most
-- RECORDS_MAX per customer (a retry of an allowed send
-- whose record went still finds its history entry).

-- The offers "o1,o2" of customer in a plan bucket (a string of
-- "\nCUSTOMER\tOFFERS" records, include/pacer/keys.h), or nil.
local function plan_offers(bucket, customer)
  local b = redis.call('GET', bucket)
  if not b then return nil end
  local at = string.find(b, '\n' .. customer .. '\t', 1, true)
  if not at then return nil end
  return string.match(b, '^[^\n]*', at + #customer + 2)
end
registered.plan_offers = plan_offers

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
  local ch, dflt, qs, qe, fail, maxw, keep, alen, reserve, checks =
    string.match(text,
    '^(%S+) (%d) (-?%d+) (-?%d+) (%d) (%d+) (%d+) (%d+) (%d+)|(.*)$')
  local list, cats = {}, false
  for scope, limit, window, seg, sh in string.gmatch(checks,
      '(%a):(%d+):(%d+):([^:;]*):(%d)') do
    -- A check: scope, limit, window, segment, shadow, rule, ";segment;",
    -- category (a category's cap: its segment is everyone).
    local k = {scope, tonumber(limit), tonumber(window), seg, sh == '1',
      scope .. ':' .. limit .. ':' .. window .. ':' .. seg, ';' .. seg .. ';'}
    if scope == 'k' then k[4], k[7], k[8], cats = '', ';;', seg, true end
    list[#list + 1] = k
  end
  return {ch = ch, field = 'c:' .. ch, dflt = dflt, qs = tonumber(qs),
    qe = tonumber(qe), fail = fail == '1', maxw = tonumber(maxw),
    keep = tonumber(keep), alen = tonumber(alen), reserve = tonumber(reserve),
    checks = list, cats = cats}
end)

-- A customer's own caps by their text, "CHANNEL|all LIMIT WINDOW;...": as a
-- list of {channel, limit, window}.
local own_caps = cached(1024, function(text)
  local l = {}
  for chan, limit, window in string.gmatch(text, '([^%s;]+) (%d+) (%d+)') do
    l[#l + 1] = {chan, tonumber(limit), tonumber(window)}
  end
  return l
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

-- Records kept per customer at most: a caller's new send ids cannot grow a
-- hash without bound (the oldest go first, PRUNE_MAX at a time, so that a
-- hot customer is pruned once per PRUNE_MAX decisions, never all at once).
local RECORDS_MAX = 512
local PRUNE_MAX = 64

-- Whether a contact (channel c, campaign cp, category kc) counts for check
-- k. (C and A: the customer's own caps on the channel and on all channels;
-- k: a category's, whose contacts count on every channel.)
local function in_scope(k, ch, campaign, c, cp, kc)
  local scope = k[1]
  return scope == 'a' or scope == 'A' or
    ((scope == 'c' or scope == 'C') and c == ch) or
    (scope == 'p' and campaign ~= '' and cp == campaign) or
    (scope == 'k' and kc == k[8])
end

-- The most of the contacts list[1..n] in one window (s - w, s] holding t:
-- s runs over [t, t + w), and the count only rises at a contact, so s = t
-- and the contacts in (t, t + w) are the places to look.
local function peak(list, n, t, w)
  local best = 0
  for i = 0, n do
    local s = t
    if i > 0 then s = list[i] end
    if i == 0 or (s > t and s < t + w) then
      local used = 0
      for j = 1, n do
        local c = list[j]
        if c > s - w and c <= s then used = used + 1 end
      end
      if used > best then best = used end
    end
  end
  return best
end

-- The earliest instant after t at which one more contact fits under limit
-- in every window: room opens only when a contact leaves a window (its
-- time + w). Past the last of those no window holds a contact, so one is
-- always found (-1 for a limit of 0: never).
local function next_room(list, n, t, w, limit)
  if limit <= 0 then return -1 end
  local at = {}
  for j = 1, n do
    if list[j] + w > t then at[#at + 1] = list[j] + w end
  end
  table.sort(at)
  for j = 1, #at do
    if peak(list, n, at[j], w) < limit then return at[j] end
  end
  return -1
end

-- The fields of a record "reason|retry|rule|shadow|channel|campaign|time|
-- offer|state".
local function record_fields(rec)
  local f = {}
  for v in string.gmatch(rec .. '|', '([^|]*)|') do f[#f + 1] = v end
  return f
end

local function decide_call(KEYS, ARGV)
  local deadline, nprog = tonumber(ARGV[1]), tonumber(ARGV[2])
  local progs = {}
  for j = 1, nprog do progs[j] = program(ARGV[2 + j]) end

  -- Redis's clock: "now" of every decision without a client time, the
  -- clock of records and trimming, and the judge of lateness (the caller
  -- answered store_unavailable when its timer ran out).
  local clock = redis.call('TIME')
  local cnow_s, cnow = clock[1], tonumber(clock[1])
  -- Records are indexed in microseconds, one apart within the call, so
  -- the oldest goes first even among those of one second.
  local seq = cnow * 1000000 + tonumber(clock[2])
  local late = cnow * 1000 + math.floor(tonumber(clock[2]) / 1000) > deadline

  -- The decision at hand (set by the loop at the end), and its stored state.
  local key, idx, pg, now, now_s, campaign, send_id, offer, customer, category
  local p, hist, replaced
  -- The longest window the decision at hand looks at (the config's, or a
  -- customer's own cap's): history is trimmed only past it.
  local keepw
  local audited = false
  -- Reused from one decision to the next: the contacts in the window, and
  -- those one check counts.
  local times, chans, camps, cats, list = {}, {}, {}, {}, {}

  -- Drop records past the retention, or the oldest past RECORDS_MAX, at
  -- most PRUNE_MAX of them (the next decision goes on), and set the count.
  local function prune(keep)
    local drop = redis.call('ZRANGEBYSCORE', idx, '-inf',
      '(' .. string.format('%d', (cnow - keep) * 1000000), 'LIMIT', 0,
      PRUNE_MAX)
    local total = redis.call('ZCARD', idx)
    if #drop < PRUNE_MAX and total - #drop > RECORDS_MAX then
      drop = redis.call('ZRANGE', idx, 0,
        math.min(total - RECORDS_MAX + PRUNE_MAX, 2 * PRUNE_MAX) - 1)
    end
    if #drop > 0 then
      local f = {}
      for j = 1, #drop do f[j] = 'd:' .. drop[j] end
      redis.call('HDEL', key, unpack(f))
      redis.call('ZREM', idx, unpack(drop))
    end
    local first = redis.call('ZRANGE', idx, 0, 0, 'WITHSCORES')
    local oldest = cnow
    if first[2] then oldest = math.floor(tonumber(first[2]) / 1000000) end
    redis.call('HSET', key, 'n', string.format('%d %d', total - #drop, oldest))
  end

  -- Write the answer: the record (indexed by store time), the contact when
  -- reserved (history trimmed to the longest window), the record count
  -- "COUNT OLDEST_TIME", the audit entry (customer, and decision =
  -- "reason|retry|rule|shadow|channel|campaign|time|offer|send_id").
  -- A stored rule text as the answer names it: its position in the
  -- program when the program has it (see the answer above).
  local function position(rule)
    if rule == '' then return '' end
    for i = 1, #pg.checks do
      if pg.checks[i][6] == rule then return string.format('%d', i) end
    end
    return rule
  end

  local function store(reason, retry, rule, shadow, reserve, stale, at, held)
    local base = reason .. '|' ..
      (retry < 0 and '-1' or string.format('%d', retry)) ..
      '|' .. rule .. '|' .. shadow .. '|' .. pg.ch .. '|' .. campaign .. '|' ..
      now_s .. '|' .. offer
    -- A count that does not parse starts again (and is fixed at the next
    -- pruning) rather than failing every decision of the call.
    local dn, dt = 1, cnow
    local a, b = string.match(p[5] or '', '^(%d+) (%d+)$')
    if a then dn, dt = tonumber(a) + 1, tonumber(b) end
    local n = string.format('%d %d', dn, dt)
    if reserve then
      if stale then
        -- Only what no window of a decision now or later can hold: a
        -- client time far ahead must not trim what Redis's now needs.
        local kept, from = {}, math.min(now, cnow) - keepw
        for e, t in string.gmatch(hist, '((%d+)|[^\n]*\n)') do
          if tonumber(t) > from then kept[#kept + 1] = e end
        end
        hist = table.concat(kept)
      end
      redis.call('HSET', key, 'd:' .. send_id, base .. '||' .. held, 'n', n,
        'h', hist .. (at or now_s) .. '|' .. pg.ch .. '|' .. campaign .. '|' ..
        send_id .. (category == '' and '\n' or '|' .. category .. '\n'))
    elseif replaced then
      redis.call('HSET', key, 'd:' .. send_id, base .. '||' .. held, 'n', n,
        'h', hist)
    else
      redis.call('HSET', key, 'd:' .. send_id, base .. '||' .. held, 'n', n)
    end
    seq = seq + 1
    redis.call('ZADD', idx, string.format('%d', seq), send_id)
    local keep = pg.keep
    if dn > RECORDS_MAX or dt < cnow - keep then prune(keep) end
    -- Without a profile the key holds only decisions: it goes with them.
    if not p[4] then
      redis.call('EXPIRE', key, keep)
      redis.call('EXPIRE', idx, keep)
    end
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

  -- When quiet hours hold t in the customer's zone, the instant they end
  -- (a clock change on the way moves it), else nil.
  local function quiet_until(t)
    local qs, qe = pg.qs, pg.qe
    local off = offset_at(t)
    local loc = (t + off) % 86400
    local inq
    if qs < qe then
      inq = loc >= qs and loc < qe
    else
      inq = loc >= qs or loc < qe
    end
    if not inq then return nil end
    local t_end = t + (qe - loc + 86400) % 86400
    local off2 = offset_at(t_end)
    if off2 ~= off then t_end = t_end - (off2 - off) end
    return t_end
  end

  -- Whether check k applies to the decision at hand: its segment's
  -- members (segs ";seg;...;"), and a category's cap to an offer of it.
  local function applies(k, segs)
    return (k[4] == '' or string.find(segs, k[7], 1, true)) and
      (k[8] == nil or k[8] == category)
  end

  -- The contacts of history (times, chans, camps, cats 1..n) that check k
  -- counts in windows holding t (after t - window) into l; how many.
  local function counted(l, k, n, t)
    local m, wfrom, ch = 0, t - k[3], pg.ch
    for j = 1, n do
      if times[j] > wfrom and in_scope(k, ch, campaign, chans[j],
          camps[j], cats[j]) then
        m = m + 1
        l[m] = times[j]
      end
    end
    return m
  end

  -- The earliest instant from now at which every rule that time can cure
  -- allows the request together (quiet hours in the customer's zone, each
  -- enforced cap at the decision's priority): each moves t to its own next
  -- allowed instant until none moves it. -1 when no wait helps.
  local function allowed_from(n, segs, cut, own, pause)
    local caps = {}
    for i = 1, #pg.checks + #own do
      local k = pg.checks[i] or own[i - #pg.checks]
      if not k[5] and applies(k, segs) then
        local l = {}
        caps[#caps + 1] = {l, counted(l, k, n, now), k[3], k[2] - cut}
      end
    end
    local t = now
    if pause > t then t = pause end
    for _ = 1, 64 do
      local moved = false
      if pg.qs >= 0 then
        local e = quiet_until(t)
        if e then t, moved = e, true end
      end
      for i = 1, #caps do
        local c = caps[i]
        if c[4] <= 0 then return -1 end
        if peak(c[1], c[2], t, c[3]) >= c[4] then
          local r = next_room(c[1], c[2], t, c[3], c[4])
          if r < 0 then return -1 end
          t, moved = r, true
        end
      end
      if not moved then return t end
    end
    return -1
  end

  -- allowed_from when no contact lies after now (the usual case): a cap
  -- that has room at some instant keeps it later (contacts only leave its
  -- window), so one pass finds the answer: the latest of the pause and each
  -- cap's first room, moved past quiet hours. Nothing is allocated.
  local function allowed_settled(n, segs, cut, own, pause)
    local nc, t = #pg.checks, now
    if pause > t then t = pause end
    for i = 1, nc + #own do
      local k = pg.checks[i] or own[i - nc]
      if not k[5] and applies(k, segs) then
        local eff, window = k[2] - cut, k[3]
        if eff <= 0 then return -1 end
        local m = counted(list, k, n, t)
        if m >= eff then
          t = next_room(list, m, t, window, eff)
          if t < 0 then return -1 end
        end
      end
    end
    if pg.qs >= 0 then
      local e = quiet_until(t)
      if e then t = e end
    end
    return t
  end

  -- Decide the decision at hand: reason, retry_after, rule, shadow,
  -- duplicate, next_allowed, reserved_for.
  local function decide(flags, plan, suppress)
    local dry, fresh = flags % 2 == 1, flags % 4 >= 2
    local sched, exempt = flags % 8 >= 4, flags % 16 >= 8
    keepw = pg.maxw
    local uncounted = flags % 32 >= 16
    -- Slots of every cap this priority leaves to higher ones.
    local cut = pg.reserve
    if flags >= 64 then cut = 0 elseif flags % 64 >= 32 then cut = 2 * cut end
    -- p: consent, segments, history, profile marker, record count, offsets
    -- (only when the channel has quiet hours: the table is long), record,
    -- the customer's own caps, their pause. "d:" (no send id is empty)
    -- holds the place of what is not read.
    p = redis.call('HMGET', key, pg.field, 'seg', 'h', 'pv', 'n',
      pg.qs >= 0 and 'tzt' or 'd:', fresh and 'd:' or 'd:' .. send_id, 'ucap',
      'pause')
    if p[7] then
      local f = record_fields(p[7])
      -- A send id names one send: another channel, campaign or offer is
      -- the caller's mistake, and changes nothing.
      if f[5] ~= pg.ch or f[6] ~= campaign or f[8] ~= offer then
        return 'conflict', -1, '', '', 0, -1, ''
      end
      -- A live answer is the answer; a cancelled send, or one the caller
      -- was told store_unavailable, is decided anew.
      if f[1] ~= 'store_unavailable' and f[9] ~= 'released' then
        local retry = tonumber(f[2])
        local na = -1
        if retry >= 0 then na = tonumber(f[7]) + retry end
        return f[1], retry, position(f[3]), '', 1, na, f[10] or ''
      end
    end
    hist = p[3] or ''
    -- A late call that reserved on a fail-open answer left a contact: the
    -- new decision takes its place, so the send counts once (and a cancel
    -- releases it).
    replaced = false
    if p[7] and not dry and (string.find(hist, '|' .. send_id .. '\n', 1, true)
        or string.find(hist, '|' .. send_id .. '|', 1, true)) then
      local kept = {}
      for e, sid in string.gmatch(hist,
          '(%d+|[^|\n]*|[^|\n]*|([^|\n]*)[^\n]*\n)') do
        if sid ~= send_id then kept[#kept + 1] = e end
      end
      hist, replaced = table.concat(kept), true
    end

    -- Record the answer the caller was given, and count the contact only if
    -- it was "allow" (the send then went out), so the store matches it.
    if late then
      if not dry then
        store('store_unavailable', -1, '', '', pg.fail, false, nil, '')
      end
      return 'store_unavailable', -1, '', '', 0, -1, ''
    end

    local segs = p[2]
    if segs then segs = ';' .. segs .. ';' else segs = '' end
    local reason, retry, rule, shadow, held = 'ok', -1, '', '', ''
    -- The answer's names of rule and shadow (positions; texts are stored).
    local at_rule, at_shadow = '', ''

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
        local offers
        if string.byte(plan) == 61 then
          offers = redis.call('HGET', string.sub(key, 1, -2) .. 'o',
            string.sub(plan, 2))
        else
          offers = plan_offers(plan, customer)
        end
        if offers and string.find(',' .. offers .. ',', ',' .. offer .. ',', 1,
            true) then
          planned = true
        end
      end
      if not planned then reason = 'not_planned' end
    end

    -- Exempt messages (security alerts, service messages) skip quiet hours
    -- and caps; consent, exclusions and the plan still apply.
    -- The customer's own pause (a preference centre) holds marketing.
    local pause = tonumber(p[9] or '0') or 0
    if exempt then pause = 0 end
    if reason == 'ok' and pause > now then reason = 'paused' end
    if reason == 'ok' and pg.qs >= 0 and not exempt then
      local e = quiet_until(now)
      if e then reason, retry = 'quiet_hours', e - now end
    end
    -- The customer's own caps only add to the configured ones.
    local own = {}
    if p[8] and not exempt then
      for _, u in ipairs(own_caps(p[8])) do
        local scope
        if u[1] == 'all' then scope = 'A' elseif u[1] == pg.ch then scope = 'C' end
        if scope then
          own[#own + 1] = {scope, u[2], u[3], '', false,
            scope .. ':' .. u[2] .. ':' .. u[3] .. ':', ';;'}
        end
      end
    end

    -- The history is small: it is trimmed to the longest window. Every
    -- contact after now - WINDOW can share a window with now, however far
    -- ahead it is stamped.
    local stale, n, later = false, 0, false
    keepw = pg.maxw
    for i = 1, #own do
      if own[i][3] > keepw then keepw = own[i][3] end
    end
    if reason == 'ok' or reason == 'quiet_hours' or reason == 'paused' then
      local from, ch = now - keepw, pg.ch
      local trim = math.min(now, cnow) - keepw
      -- Captures cost: a send id made by pacerd is in no history, and
      -- without a campaign no contact's campaign is compared.
      -- A contact is "TIME|CHANNEL|CAMPAIGN|SEND_ID", then "|CATEGORY"
      -- for an offer of a category (read only when a category's cap is
      -- checked).
      local pat
      if not fresh or pg.cats then
        pat = '(%d+)|([^|]*)|([^|]*)|([^|\n]*)|?([^\n]*)\n'
      elseif campaign ~= '' then
        pat = '(%d+)|([^|]*)|([^|]*)|[^\n]*\n'
      else
        pat = '(%d+)|([^|]*)|[^\n]*\n'
      end
      for t, c, cp, sid, kc in string.gmatch(hist, pat) do
        -- A retry of an allowed send whose record was pruned: still the
        -- first answer (with a record, the record is the answer).
        if not fresh and sid == send_id and not p[7] then
          if c == ch and cp == campaign then
            return 'ok', -1, '', '', 1, -1, ''
          end
          return 'conflict', -1, '', '', 0, -1, ''
        end
        t = tonumber(t)
        if t <= trim then stale = true end
        if t > now then later = true end
        if t > from then
          n = n + 1
          times[n], chans[n], camps[n], cats[n] = t, c, cp, kc
        end
      end
    end
    local full = false
    if reason == 'ok' and not exempt then
      -- The checks come by ascending limit: none past n contacts can bind
      -- (the customer's own caps, after them, are few and not sorted).
      local checks, nc = pg.checks, #pg.checks
      for i = 1, nc + #own do
        local k = checks[i] or own[i - nc]
        local limit, window = k[2], k[3]
        -- Shadow rules judge as configured; enforced ones leave the
        -- reserve of this priority.
        local eff = limit
        if not k[5] then eff = limit - cut end
        if i <= nc and limit - cut > n then
          -- Skip to the customer's own caps.
        elseif applies(k, segs) then
          local m = counted(list, k, n, now)
          local used = -1
          if m >= eff then used = peak(list, m, now, window) end
          if used >= eff then
            local wait, at = -1, next_room(list, m, now, window, eff)
            if at >= 0 then wait = at - now end
            if k[5] then
              shadow = shadow .. (shadow == '' and '' or ',') .. k[6]
              at_shadow = at_shadow .. (at_shadow == '' and '' or ',') ..
                string.format('%d', i)
            else
              -- reserved_for high only when every denying cap is short
              -- only by the reserve: a full one denies high too.
              if used >= limit then full = true end
              if reason == 'ok' or
                  (retry >= 0 and (wait < 0 or wait > retry)) then
                -- Name the cap that holds the customer longest (-1: for
                -- ever); of equal ones the first by ascending limit.
                reason, retry, rule = 'cap', wait, k[6]
                at_rule = i <= nc and string.format('%d', i) or k[6]
              end
            end
          end
        end
      end
    end

    if reason == 'cap' and not full then held = 'high' end
    -- Time can cure quiet hours and caps: when every rule allows together.
    local na = -1
    if reason == 'quiet_hours' or reason == 'cap' or reason == 'paused' then
      if later then
        na = allowed_from(n, segs, cut, own, pause)
      else
        na = allowed_settled(n, segs, cut, own, pause)
      end
      retry = na >= 0 and na - now or -1
    end
    -- Held, not dropped: the contact is reserved at that instant, so no
    -- later decision (before or after it) can overfill a window with it.
    if sched and na >= 0 then
      if not dry then
        store('scheduled', na - now, '', shadow, true, stale,
          string.format('%d', na), '')
      end
      return 'scheduled', na - now, '', at_shadow, 0, na, ''
    end

    if not dry then
      store(reason, retry, rule, shadow, reason == 'ok' and not uncounted,
        stale, nil, held)
    end
    return reason, retry, at_rule, at_shadow, 0, na, held
  end

  local out, o = {}, 0
  for i = 1, #KEYS - 1 do
    local prog, flags, plan, suppress
    key = KEYS[1 + i]
    idx = string.sub(key, 1, -2) .. 'r'
    now_s, prog, flags, send_id, customer, campaign, offer, plan, suppress,
      category = cmsgpack.unpack(ARGV[2 + nprog + i])
    if now_s == '' then now_s = cnow_s end
    now, pg = tonumber(now_s), progs[prog]
    local reason, retry, rule, shadow, dup, na, held =
      decide(flags, plan, suppress)
    o = o + 1
    if reason == 'ok' and shadow == '' and dup == 0 then
      out[o] = 'ok'
    else
      out[o] = reason .. '|' .. string.format('%d', retry) .. '|' .. rule ..
        '|' .. shadow .. '|' .. dup .. '|' .. string.format('%d', na) .. '|' ..
        held
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
