-- wrk script for bench.load: sends the session cookie and the proxy's HTTPS header, and
-- prints one JSON line of figures (latencies in microseconds) after the run.
-- Usage: BENCH_COOKIE="sessionid=..." wrk -s bench/wrk.lua ...

local cookie = os.getenv("BENCH_COOKIE") or ""

init = function(args)
  wrk.headers["Cookie"] = cookie
  wrk.headers["X-Forwarded-Proto"] = "https"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, ' ..
    '"errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
