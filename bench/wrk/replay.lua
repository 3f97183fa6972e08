-- wrk script: replay the requests listed in a file, in turn, on every connection, for a fixed
-- time, then let the requests in flight finish ("drain") instead of dropping them.
--
--   wrk -t1 -c8 -d30s -s bench/wrk/replay.lua http://127.0.0.1:8000 -- requests.tsv 10 8
--
-- Arguments: the requests file, the seconds of load, and the connections of each thread. One
-- request per line, fields separated by tabs: METHOD, PATH, BODY (may be empty), then any number
-- of "Name: value" headers. Bodies are compact JSON, so they hold no tab or newline.
--
-- Why drain: wrk stops by dropping whatever is in flight, but the server works on those requests
-- all the same, so CPU time per completed request would come out too high. Here, once the seconds
-- of load are over, a connection whose answer arrives sends nothing more (delay() parks it); when
-- every connection of a thread has had its last answer, the thread prints "BENCH_DRAINED", and
-- bench/load.py ends wrk with SIGINT (wrk's -d is only a safety cap). Every request sent is then
-- a completed one, and throughput counts only the answers that arrived within the seconds of load.
-- (Counting sent requests in request() would not do: wrk also calls it once to check it.)
--
-- At the end, prints one line "BENCH_RESULT {json}" that bench/load.py reads: completed requests,
-- those completed after the seconds of load ("late"), errors, and the latency
-- distribution as 1,000 quantiles in microseconds (the 0.1st, 0.2nd, ... 99.9th percentiles,
-- then the maximum), so that several runs can be merged with 0.1 % precision in rank.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local requests = {}
local next_index = 0
local deadline = math.huge
local connections = 0
local PARKED_MS = 3600 * 1000

-- Global: done() reads it from every thread with thread:get().
late = 0

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

local function split_tabs(line)
  local fields = {}
  for value in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = value
  end
  return fields
end

function init(args)
  local path = assert(args[1], "usage: wrk ... -s replay.lua URL -- FILE SECONDS CONNECTIONS")
  local seconds = assert(tonumber(args[2]), "seconds of load expected")
  connections = assert(tonumber(args[3]), "connections per thread expected")
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
  deadline = now() + seconds
end

-- Called before every request of a connection: before its first, and after each answer.
function delay()
  if now() < deadline then
    return 0
  end
  -- The seconds of load are over: this connection's last answer has just arrived.
  late = late + 1
  if late == connections then
    io.write("BENCH_DRAINED\n")
    io.flush()
  end
  return PARKED_MS
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function done(summary, latency, _)
  local total_late = 0
  for _, thread in ipairs(threads) do
    total_late = total_late + thread:get("late")
  end
  local quantiles = {}
  if summary.requests > 0 then
    for i = 1, 999 do
      quantiles[i] = string.format("%.1f", latency:percentile(i / 10))
    end
    quantiles[1000] = string.format("%.1f", latency.max) -- Debian's wrk gives 0 for the 100th
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"late":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"quantiles_us":[%s]}\n',
    summary.requests, total_late, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(quantiles, ",")))
end
