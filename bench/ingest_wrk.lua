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
local thread_no = 0
local base = tonumber(os.getenv("FORGE_BENCH_T0"))

function setup(thread)
  thread:set("thread_no", thread_no)
  thread_no = thread_no + 1
end

local delay_ms = tonumber(os.getenv("FORGE_BENCH_DELAY_MS") or "0")

function delay()
  return delay_ms
end

function request()
  counter = counter + 1
  local n = nodes[(counter * 7 + thread_no) % #nodes + 1]
  local t = base + (counter * 2 + thread_no) * 0.01  -- per node, pushes land >= 40 s apart
  local parts = {}
  for k = 0, 4 do parts[#parts + 1] = head .. string.format("%.3f", t + k) .. tail end
  local body = '{"samples":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/api/ingest/" .. n.id,
    { ["Authorization"] = n.auth, ["Content-Type"] = "application/json" }, body)
end
