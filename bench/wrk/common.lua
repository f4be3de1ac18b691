-- Shared by every scenario script (loaded with dofile from BENCH_LUA_DIR).
--
-- Each scenario script defines `request()` and may define `scenario_init(opts)`
-- (opts: the `key=value` arguments after `--`) and `classify(status, body)`,
-- which returns "ok", "rejected" (a business refusal, e.g. sold out) or "error".
-- By default 2xx is ok and anything else an error.
--
-- Counters live in each thread's Lua state; `done` adds them up and prints one
-- line `BENCH_JSON {...}` that bench/wrk_runner.py parses.
--
-- Fixed-rate runs: with BENCH_RATE_PER_THREAD set, `delay()` spaces the requests
-- of each thread on a schedule (open loop while enough connections are idle), so
-- that latency is measured at a known load with randomised requests.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local timespec = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

-- ---------------------------------------------------------------- main state
local threads = {}
local thread_count = 0

-- BENCH_PORTS ("8001,8002"): several serve processes on the URL's host; the threads
-- take their ports in turn (bench/context.py, spread_env), each keeping its connections.
local ports = {}
for port in string.gmatch(os.getenv("BENCH_PORTS") or "", "%d+") do
  table.insert(ports, port)
end

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  if #ports > 1 then
    thread.addr = wrk.lookup(wrk.host, ports[(thread_count - 1) % #ports + 1])[1]
  end
  table.insert(threads, thread)
end

-- ---------------------------------------------------------------- thread state
ok_count = 0
rejected_count = 0
error_count = 0
error_sample = ""
opts = {}

function init(args)
  for _, arg in ipairs(args) do
    local key, value = string.match(arg, "^([%w_]+)=(.*)$")
    if key then opts[key] = value end
  end
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919 + math.floor(now_ms() % 1000))
  if scenario_init then scenario_init(opts) end
end

local function default_classify(status, body)
  if status >= 200 and status < 300 then return "ok" end
  return "error"
end

function response(status, headers, body)
  local verdict = (classify or default_classify)(status, body)
  if verdict == "ok" then
    ok_count = ok_count + 1
  elseif verdict == "rejected" then
    rejected_count = rejected_count + 1
  else
    error_count = error_count + 1
    if error_sample == "" then
      error_sample = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

local rate = tonumber(os.getenv("BENCH_RATE_PER_THREAD") or "")
if rate and rate > 0 then
  local interval = 1000.0 / rate
  local next_slot = nil
  function delay()
    local t = now_ms()
    if next_slot == nil or next_slot < t - 50 then next_slot = t end -- fell behind: restart
    local wait = next_slot - t
    next_slot = next_slot + interval
    if wait < 0 then return 0 end
    return math.floor(wait)
  end
end

-- ---------------------------------------------------------------- helpers
function auth_headers(extra)
  local headers = { ["Authorization"] = "Bearer " .. opts.token }
  if extra then for k, v in pairs(extra) do headers[k] = v end end
  return headers
end

-- A random existing store balance (see bench/catalogue.py): SKU number, store number.
function random_store_balance()
  local k = math.random(1, tonumber(opts.skus))
  local width = tonumber(opts.width_base) + (k * 7) % tonumber(opts.width_spread)
  local j = math.random(0, width - 1)
  local s = (k * tonumber(opts.stride_k) + j * tonumber(opts.stride_j)) % tonumber(opts.stores) + 1
  return k, s
end

function sku_id(k) return string.format("SKU-%06d", k) end
function store_id(s) return string.format("ST-%04d", s) end

local function escape(text)
  return (string.gsub(text, '[%c"\\]', " "))
end

function done(summary, latency, requests)
  local ok, rejected, errors, sample = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("ok_count") or 0)
    rejected = rejected + (thread:get("rejected_count") or 0)
    errors = errors + (thread:get("error_count") or 0)
    local s = thread:get("error_sample") or ""
    if sample == "" then sample = s end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"ok":%d,"rejected":%d,"http_errors":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"error_sample":"%s"}\n',
    summary.requests, summary.duration, ok, rejected, errors,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0),
    latency.max, latency.mean, escape(sample)))
end
