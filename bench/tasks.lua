-- CI/CD tasks for many pipelines: three tasks per pipeline, then its finish. The finish of a
-- pipeline is sent a few pipelines later, so that with many connections per thread it does not
-- overtake its own tasks (which would be refused with 403, correctly).
-- connection, key, step, prefix, setup and init: bench/posting.lua (run from the project folder).
dofile("bench/posting.lua")

local results = { "SUCCESS", "SUCCESS", "FAILURE" }

function request()
  local pipeline = string.format("%s-%d", prefix, math.floor(step / 4))
  local phase = step % 4
  step = step + 1
  if phase == 3 then
    local earlier = math.floor(step / 4) - 16
    if earlier < 0 then
      return wrk.format("GET", "/livez")
    end
    return wrk.format(nil, "/api/plugins/webhook/" .. connection .. "/cicd_pipeline/" .. string.format("%s-%d", prefix, earlier) .. "/finish", nil, "")
  end
  local body = string.format('{"pipeline_name":"%s","name":"task-%d","result":"%s","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T12:0%d:00Z","finished_date":"2024-01-01T12:1%d:00Z","repo_id":"bench","branch":"main","commit_sha":"%s%d"}', pipeline, phase, results[phase + 1], phase, phase, prefix, step)
  return wrk.format(nil, "/api/plugins/webhook/" .. connection .. "/cicd_tasks", nil, body)
end
