-- Issues upserts over a large key space: every request creates or replaces one issue.
-- wrk -s bench/issues.lua  (env LAKEHOOK_CONNECTION, LAKEHOOK_KEY; optional LAKEHOOK_DELAY_MS)
local connection = os.getenv("LAKEHOOK_CONNECTION")
local key = os.getenv("LAKEHOOK_KEY")
local delay_ms = tonumber(os.getenv("LAKEHOOK_DELAY_MS") or "0")
local counter = 0

function setup(thread)
  thread:set("seed", math.random(1, 1000000000))
end

function init(args)
  math.randomseed(seed)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local n = math.random(1, 1000000)
  local body = string.format('{"board_key":"BENCH","issue_key":"B-%d","title":"benchmark issue %d","type":"BUG","status":"TODO","original_status":"created","story_point":3,"created_date":"2024-01-01T12:00:00+00:00","lead_time_minutes":0,"creator_id":"u1","creator_name":"bench","assignee_id":"u2","assignee_name":"bench"}', n, n)
  return wrk.format(nil, "/api/plugins/webhook/" .. connection .. "/issues", nil, body)
end

if delay_ms > 0 then
  function delay() return delay_ms end
end
