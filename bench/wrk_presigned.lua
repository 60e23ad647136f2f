-- wrk script: send PRE-SIGNED raw requests (built and signed in Python), each exactly once.
-- args: REQUEST_FILE NTHREADS STOP_WHEN_DONE(0|1)
-- REQUEST_FILE holds records "LEN\n" followed by LEN bytes of a complete HTTP/1.1 request.
-- Thread k sends records k, k+N, k+2N, ...; when its share is used up it sends cheap
-- "GET /healthz" fillers (counted as `exhausted`) and, with STOP_WHEN_DONE=1, stops as soon
-- as every one of its real requests has been answered.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  stop_when_done = args[3] == "1"
  reqs = {}
  local f = assert(io.open(path, "rb"))
  local i = 0
  while true do
    local line = f:read("*l")
    if not line then break end
    local data = f:read(tonumber(line))
    if i % nthreads == tid then reqs[#reqs + 1] = data end
    i = i + 1
  end
  f:close()
  idx = 0
  exhausted = 0
  real = 0
  codes = {}
  filler = "GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"
  -- wrk calls request() once on thread 0 to check for pipelining before anything is sent;
  -- answer that call with a filler so no real request is consumed unsent.
  skip_first = (tid == 0)
end

function request()
  if skip_first then
    skip_first = false
    return filler
  end
  idx = idx + 1
  if idx <= #reqs then return reqs[idx] end
  exhausted = exhausted + 1
  return filler
end

function response(status, headers, body)
  -- intake answers carry "external_id"; /healthz fillers do not
  if body and string.find(body, "external_id", 1, true) then
    real = real + 1
    local k = tostring(status)
    codes[k] = (codes[k] or 0) + 1
  elseif status ~= 200 then
    real = real + 1
    local k = tostring(status)
    codes[k] = (codes[k] or 0) + 1
  end
  if stop_when_done and real >= #reqs and not announced then
    -- wrk's main thread sleeps for the whole -d duration; tell the bench (which then sends
    -- SIGINT, making wrk print its summary at once) and stop this thread.
    announced = true
    io.write("THREADDONE\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local codes_all, real_all, exh_all = {}, 0, 0
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    for k, v in pairs(c) do codes_all[k] = (codes_all[k] or 0) + v end
    real_all = real_all + t:get("real")
    exh_all = exh_all + t:get("exhausted")
  end
  local parts = {}
  for k, v in pairs(codes_all) do parts[#parts + 1] = string.format('"%s": %d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"duration_us": %d, "requests": %d, "p50_us": %d, "p99_us": %d, "codes": {%s}, "real": %d, ' ..
    '"exhausted": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.duration, summary.requests, latency:percentile(50), latency:percentile(99), table.concat(parts, ", "),
    real_all, exh_all, e.connect, e.read, e.write, e.status, e.timeout))
end
