-- wrk script: PUT /api/v1/Mode/manual round-robin over the thermostats in SERIALS,
-- with a different set point each time so that every request is a real change.
local serials = {}
for serial in string.gmatch(os.getenv("SERIALS") or "BENCH1", "[^,]+") do
  serials[#serials + 1] = serial
end
local n = 0

request = function()
  n = n + 1
  local body = string.format('{"serialNumber":"%s","temperature":%d}',
    serials[(n % #serials) + 1], 1500 + n % 100)
  return wrk.format("PUT", "/api/v1/Mode/manual", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
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
