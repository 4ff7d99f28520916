-- One Emoncms input per request (the same readings as ingest.lua's single ones: 10 sensors,
-- unique increasing times): POST /input/post?node=r&json=temperature_S:V&time=T&apikey=KEY
local k, nthreads, tid = 0, 1, 0
local start_ts, nsensors, key
function init(args)
  nsensors = 10
  start_ts = tonumber(args[1])
  key = os.getenv("APIKEY")
  wrk.method = "POST"
end
function request()
  local slot = k * nthreads + tid
  k = k + 1
  local s = slot % nsensors
  local ts = start_ts + math.floor(slot / nsensors)
  local v = 20 + s + ((ts * 7 + s * 13) % 1000) / 100
  local path = string.format("/input/post?node=r&json=temperature_%d:%.2f&time=%d&apikey=%s", s, v, ts, key)
  return wrk.format(nil, path)
end
function done(summary, latency, requests)
  local s = summary
  local errs = s.errors.connect + s.errors.read + s.errors.write + s.errors.status + s.errors.timeout
  io.write(string.format("RESULT requests=%d rps=%.1f errors=%d non2xx=%d lat_ms_p50=%.2f lat_ms_p99=%.2f\n",
    s.requests, s.requests / (s.duration / 1e6), errs, s.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
