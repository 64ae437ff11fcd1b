-- wrk script: POST /2/shockers/control, one Shock item (intensity 50, 1000 ms) a request,
-- round-robin over PAIRS ("token@shockerId,..."): each shocker is sent with its owner's
-- API token, so that a spread over many users' shockers is one rotation.
local pairs_ = {}
for token, shocker in string.gmatch(os.getenv("PAIRS") or "", "([^,@]+)@([^,]+)") do
  pairs_[#pairs_ + 1] = {
    headers = {
      ["Content-Type"] = "application/json",
      ["OpenShockToken"] = token,
      -- The API refuses an empty User-Agent (403), and wrk sends none of its own.
      ["User-Agent"] = "hubline-bench",
    },
    body = string.format(
      '{"shocks":[{"id":"%s","type":"Shock","intensity":50,"duration":1000}]}', shocker),
  }
end
local n = 0

request = function()
  n = n + 1
  local pair = pairs_[(n % #pairs_) + 1]
  return wrk.format("POST", "/2/shockers/control", pair.headers, pair.body)
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d errors %d non2xx %d rps %.1f p50_ms %.2f p99_ms %.2f\n",
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
