-- What the posting workloads (tasks.lua, mixed.lua) share: the connection and key from the
-- environment, a step counter, and a per-thread name prefix new for each wrk run. Globals, so
-- that the script that runs this file (dofile, in each of wrk's threads) sees them.
connection = os.getenv("LAKEHOOK_CONNECTION")
key = os.getenv("LAKEHOOK_KEY")
step = 0

-- A new seed per wrk run, so that consecutive runs (bench/soak.sh) use new pipeline names.
math.randomseed(os.time())

function setup(thread)
  thread:set("prefix", string.format("%08x", math.random(0, 0x7fffffff)))
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. key
end
