-- Issues upserts over a large key space: every request creates or replaces one issue.
-- wrk -s bench/issues.lua  (env LAKEHOOK_CONNECTION, LAKEHOOK_KEY; optional LAKEHOOK_DELAY_MS)
--
-- The request head is built once; per request only the body and its length change (wrk and
-- Lakehook share the machine's cores, so a cheap script leaves them to the system measured).
local connection = os.getenv("LAKEHOOK_CONNECTION")
local key = os.getenv("LAKEHOOK_KEY")
local delay_ms = tonumber(os.getenv("LAKEHOOK_DELAY_MS") or "0")
local head

function setup(thread)
  thread:set("seed", math.random(1, 1000000000))
end

function init(args)
  math.randomseed(seed)
  local host = wrk.headers["Host"] or (wrk.host .. ":" .. wrk.port)
  head = "POST /api/plugins/webhook/" .. connection .. "/issues HTTP/1.1\r\n"
    .. "Host: " .. host .. "\r\n"
    .. "Authorization: Bearer " .. key .. "\r\n"
    .. "Content-Type: application/json\r\n"
    .. "Content-Length: "
end

local format = string.format

function request()
  local n = math.random(1, 1000000)
  local body = format('{"board_key":"BENCH","issue_key":"B-%d","title":"benchmark issue %d","type":"BUG","status":"TODO","original_status":"created","story_point":3,"created_date":"2024-01-01T12:00:00+00:00","lead_time_minutes":0,"creator_id":"u1","creator_name":"bench","assignee_id":"u2","assignee_name":"bench"}', n, n)
  return head .. #body .. "\r\n\r\n" .. body
end

if delay_ms > 0 then
  function delay() return delay_ms end
end
