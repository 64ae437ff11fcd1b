-- wrk script: POST /api/v1/deviceauth/{id} as an integrator sets a device's key, each
-- request for a device never seen before, with a key from KEYS (comma-separated base64 of
-- DER public keys) in rotation and the bearer TOKEN.
local keys = {}
for key in string.gmatch(os.getenv("KEYS") or "", "[^,]+") do
  keys[#keys + 1] = key
end
-- The run's PREFIX (from bench/deviceauth_writes.py, one per run): no run writes a device
-- of another, and the devices a run stored can be counted by it. One wrk thread per run.
local prefix = os.getenv("PREFIX") or "W"
local n = 0

request = function()
  n = n + 1
  local body = string.format('{"publicKey":"%s"}', keys[(n % #keys) + 1])
  return wrk.format("POST", string.format("/api/v1/deviceauth/%s-%d", prefix, n), {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "none"),
  }, body)
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d errors %d non2xx %d rps %.1f p50_ms %.2f p99_ms %.2f\n",
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
