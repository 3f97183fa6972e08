-- wrk script: replay the requests listed in a file, in turn, on every connection.
--
--   wrk -t1 -c8 -d10s -s bench/wrk/replay.lua http://127.0.0.1:8000 -- requests.tsv
--
-- One request per line, fields separated by tabs: METHOD, PATH, BODY (may be empty), then any
-- number of "Name: value" headers. Bodies are compact JSON, so they hold no tab or newline.
-- When the run ends, prints one line "BENCH_RESULT {json}" with the counts and latency
-- percentiles (microseconds) that bench/load.py reads.

local requests = {}
local next_index = 0

local function split_tabs(line)
  local fields = {}
  for value in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = value
  end
  return fields
end

function init(args)
  local path = assert(args[1], "usage: wrk ... -s replay.lua URL -- REQUESTS_FILE")
  local file = assert(io.open(path, "r"))
  for line in file:lines() do
    if line ~= "" then
      local fields = split_tabs(line)
      local headers = {}
      for i = 4, #fields do
        local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
        assert(name, "bad header in " .. path .. ": " .. fields[i])
        headers[name] = value
      end
      local body = fields[3]
      if body == "" then body = nil end
      requests[#requests + 1] = wrk.format(fields[1], fields[2], headers, body)
    end
  end
  file:close()
  assert(#requests > 0, "no requests in " .. path)
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
