-- wrk script: POST /v1/decide for a uniformly random customer and channel;
-- BENCH_HOT (share) of the traffic goes to 100 hot customers instead;
-- BENCH_BATCH > 0 sends /v1/decide/batch bodies of that many decisions.
local N = tonumber(os.getenv("BENCH_N") or "1000000")
local HOT = tonumber(os.getenv("BENCH_HOT") or "0")
local BATCH = tonumber(os.getenv("BENCH_BATCH") or "0")
local chans = {"email", "sms", "push"}
local headers = {["Content-Type"] = "application/json"}

math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "1", 16) % 100000)

local function one()
  local i
  if HOT > 0 and math.random() < HOT then i = math.random(0, 99) else i = math.random(0, N - 1) end
  return string.format('{"customer":"b%012d","channel":"%s"}', i, chans[math.random(1, 3)])
end

request = function()
  if BATCH > 0 then
    local items = {}
    for k = 1, BATCH do items[k] = one() end
    return wrk.format("POST", "/v1/decide/batch", headers,
      '{"requests":[' .. table.concat(items, ",") .. ']}')
  end
  return wrk.format("POST", "/v1/decide", headers, one())
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT rps=%.2f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
