-- A mixed workload: issues, closes, tasks with finishes, deployments.
-- connection, key, step, prefix, setup and init: bench/posting.lua (run from the project folder).
dofile("bench/posting.lua")

function request()
  local base = "/api/plugins/webhook/" .. connection
  step = step + 1
  local kind = step % 8
  local n = math.floor(step / 8)
  if kind <= 2 then
    return wrk.format(nil, base .. "/issues", nil, string.format('{"issue_key":"M-%s-%d-%d","title":"t","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z","type":"%s"}', prefix, n, kind, kind == 2 and "INCIDENT" or "BUG"))
  elseif kind == 3 then
    -- Close an incident created a while ago (not one still in flight on another connection).
    if n < 16 then return wrk.format("GET", "/livez") end
    return wrk.format(nil, base .. "/issue/M-" .. prefix .. "-" .. (n - 16) .. "-2/close", nil, "")
  elseif kind <= 5 then
    return wrk.format(nil, base .. "/cicd_tasks", nil, string.format('{"pipeline_name":"P-%s-%d","name":"t%d","result":"SUCCESS","status":"DONE","type":"DEPLOYMENT","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","finished_date":"2024-01-01T00:05:00Z","repo_id":"r","commit_sha":"c%d"}', prefix, n, kind, n))
  elseif kind == 6 then
    if n < 16 then return wrk.format("GET", "/livez") end
    return wrk.format(nil, base .. "/cicd_pipeline/P-" .. prefix .. "-" .. (n - 16) .. "/finish", nil, "")
  else
    return wrk.format(nil, base .. "/deployments", nil, string.format('{"id":"D-%s-%d","startedDate":"2024-01-01T00:00:00Z","finishedDate":"2024-01-01T00:10:00Z","deploymentCommits":[{"repoUrl":"https://git.example.com/a","commitSha":"a%d"},{"repoUrl":"https://git.example.com/b","commitSha":"b%d"}]}', prefix, n, n, n))
  end
end
