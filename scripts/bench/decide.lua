-- wrk script: POST /v1/decide for a uniformly random customer and channel;
-- BENCH_HOT (share) of the traffic goes to 100 hot customers instead;
-- BENCH_BATCH > 0 sends /v1/decide/batch bodies of that many decisions.
-- A single decision's request is made from pieces built once (a request
-- per channel, only the customer's number changes), so the load generator
-- spends little of the machine both servers share.
local N = tonumber(os.getenv("BENCH_N") or "1000000")
local HOT = tonumber(os.getenv("BENCH_HOT") or "0")
local BATCH = tonumber(os.getenv("BENCH_BATCH") or "0")
local chans = {"email", "sms", "push"}
local headers = {["Content-Type"] = "application/json"}
local random, format = math.random, string.format

math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "1", 16) % 100000)

local function customer()
  if HOT > 0 and random() < HOT then return random(0, 99) end
  return random(0, N - 1)
end

local function body(i, ch)
  return format('{"customer":"b%012d","channel":"%s"}', i, ch)
end

local function one()
  return body(customer(), chans[random(1, 3)])
end

-- Per channel: the request up to the customer's number, and after it.
local head, tail = {}, {}
for k, ch in ipairs(chans) do
  local req = wrk.format("POST", "/v1/decide", headers, body(0, ch))
  local at = string.find(req, '"b000000000000"', 1, true)
  head[k], tail[k] = string.sub(req, 1, at + 1), string.sub(req, at + 14)
end

request = function()
  if BATCH > 0 then
    local items = {}
    for k = 1, BATCH do items[k] = one() end
    return wrk.format("POST", "/v1/decide/batch", headers,
      '{"requests":[' .. table.concat(items, ",") .. ']}')
  end
  local k = random(1, 3)
  return head[k] .. format('%012d', customer()) .. tail[k]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT rps=%.2f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
