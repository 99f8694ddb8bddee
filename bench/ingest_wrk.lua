-- wrk script for bench/ingest_bench.py: every request is one agent push of 5 new samples
-- from one of N nodes (round robin), each with its own token. Reads its nodes from the
-- file named by FORGE_BENCH_NODES ("node_id token" per line) and the sample shape from
-- FORGE_BENCH_SAMPLE (one JSON sample with "ts":0).
local nodes = {}
for line in io.lines(os.getenv("FORGE_BENCH_NODES")) do
  local id, tok = line:match("^(%S+) (%S+)$")
  if id then nodes[#nodes + 1] = { id = id, auth = "Bearer " .. tok } end
end
local f = io.open(os.getenv("FORGE_BENCH_SAMPLE")); local sample = f:read("*a"); f:close()
local head, tail = sample:match('^(.-"ts":)0(.*)$')
local counter = 0
local next_thread = 0
local threads = tonumber(os.getenv("FORGE_BENCH_THREADS") or "2")
local base = tonumber(os.getenv("FORGE_BENCH_T0"))

function setup(thread)
  thread:set("thread_no", next_thread)  -- a global of that thread's own Lua state
  next_thread = next_thread + 1
end

-- Each wrk thread owns every threads-th node, so no two threads push the same node, and
-- keeps each node's clock as a real agent's: push k carries seconds 5k .. 5k+4, so a node
-- fills one minute bucket with 60 samples, as on a real fleet.
local mine = {}
function init(args)
  for i = thread_no + 1, #nodes, threads do mine[#mine + 1] = { node = nodes[i], pushes = 0 } end
end

-- FORGE_BENCH_RATE (pushes/s over all threads) paces the load: each thread hands out send
-- slots 1/(rate/threads) s apart, and a connection that got its answer waits for the next
-- free slot, so the offered rate holds whatever the latency (as long as enough
-- connections are open). Without it, connections push as fast as they can.
local rate = tonumber(os.getenv("FORGE_BENCH_RATE") or "0")
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } forge_timespec;
  int clock_gettime(int clk_id, forge_timespec *tp);
]]
local ts = ffi.new("forge_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local next_slot = nil

function delay()
  if rate <= 0 then return 0 end
  local now = now_ms()
  local step = 1000 * threads / rate
  next_slot = next_slot and math.max(next_slot + step, now - 10 * step) or now
  return math.max(0, math.floor(next_slot - now + 0.5))
end

function request()
  counter = counter + 1
  local m = mine[(counter - 1) % #mine + 1]
  local t = base + m.pushes * 5
  m.pushes = m.pushes + 1
  local parts = {}
  for k = 0, 4 do parts[#parts + 1] = head .. string.format("%.3f", t + k) .. tail end
  local body = '{"samples":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/api/ingest/" .. m.node.id,
    { ["Authorization"] = m.node.auth, ["Content-Type"] = "application/json" }, body)
end
