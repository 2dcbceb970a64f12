-- The DORA data set of bench/dora.sh (docs/DORA.md, "Performance"), loaded into a freshly
-- migrated database. Project `perf` (two connections): 100,000 production deployments over the
-- two years before now (about 137 a day) — 80,000 through `deployments` with one commit each (one
-- in ten also re-shipping an older commit), 20,000 classic pipelines with a BUILD and a
-- PRODUCTION DEPLOYMENT task and one commit; results 1 in 12 FAILURE, 1 in 50 ABORT. A pull
-- request for 7 deployed commits in 10 (56,000); 2,000 incidents (issues of type INCIDENT and
-- their incidents rows), 9 in 10 resolved. Project `other`: 10,000 deployments over the last year.
SET synchronous_commit = off;
INSERT INTO webhook_connections (id, name, project_name, api_key_hash, api_key_hint) VALUES
  (900001, 'perf-a', 'perf', repeat('a', 64), 'a'),
  (900002, 'perf-b', 'perf', repeat('b', 64), 'b'),
  (900003, 'other', NULL, repeat('c', 64), 'c');
CREATE TEMP TABLE g AS
SELECT i, 900001 + i % 2 AS conn,
       CASE WHEN i % 50 = 0 THEN 'ABORT' WHEN i % 12 = 0 THEN 'FAILURE' ELSE 'SUCCESS' END AS result,
       now() - interval '730 days' * (1 - i / 80000.0) AS finished
FROM generate_series(1, 80000) AS i;
INSERT INTO cicd_deployments (id, cicd_scope_id, name, result, status, environment, started_date, finished_date,
                              _raw_data_table, _raw_data_params)
SELECT 'webhook:' || conn || ':d' || i, 'webhook:' || conn, 'd' || i, result, 'DONE', 'PRODUCTION',
       finished - interval '20 minutes', finished, 'webhook', conn::text
FROM g;
INSERT INTO cicd_deployment_commits (id, commit_sha, cicd_scope_id, cicd_deployment_id, result, environment,
                                     repo_url, _raw_data_table, _raw_data_params)
SELECT 'webhook:' || conn || ':d' || i || ':r:' || sha, sha, 'webhook:' || conn, 'webhook:' || conn || ':d' || i,
       result, 'PRODUCTION', 'https://example.com/repo', 'webhook', conn::text
FROM g, LATERAL (SELECT md5('c' || i) UNION ALL SELECT md5('c' || (i - 40)) WHERE i % 10 = 0) AS s(sha);
INSERT INTO pull_requests (id, base_repo_id, status, title, pull_request_key, created_date, merge_commit_sha,
                           _raw_data_table, _raw_data_params)
SELECT 'webhook:' || conn || ':' || i, 'webhook:' || conn, 'MERGED', 'pr', i,
       finished - interval '1 hour' * (1 + i % 100), md5('c' || i), 'webhook', conn::text
FROM g WHERE i % 10 < 7;
INSERT INTO cicd_pipelines (id, name, result, status, type, environment, started_date, finished_date, cicd_scope_id,
                            _raw_data_table, _raw_data_params)
SELECT 'webhook:900001:p' || i, 'p' || i, CASE WHEN i % 15 = 0 THEN 'FAILURE' ELSE 'SUCCESS' END, 'DONE', '',
       'PRODUCTION', f - interval '30 minutes', f, 'webhook:900001', 'webhook', '900001'
FROM generate_series(1, 20000) AS i, LATERAL (SELECT now() - interval '730 days' * (1 - i / 20000.0) AS f) AS t;
INSERT INTO cicd_tasks (id, name, pipeline_id, result, status, type, environment, started_date, finished_date,
                        cicd_scope_id, _raw_data_table, _raw_data_params)
SELECT p.id || ':' || t.name, t.name, p.id, p.result, 'DONE', t.type, t.environment, p.started_date + t.offset_,
       p.started_date + t.offset_ + interval '15 minutes', p.cicd_scope_id, 'webhook', '900001'
FROM cicd_pipelines p,
     (VALUES ('build', 'BUILD', 'TESTING', interval '0'), ('deploy', 'DEPLOYMENT', 'PRODUCTION', interval '15 minutes'))
         AS t(name, type, environment, offset_);
INSERT INTO cicd_pipeline_commits (pipeline_id, commit_sha, repo_id, _raw_data_table, _raw_data_params)
SELECT id, md5(id), 'repo', 'webhook', '900001' FROM cicd_pipelines;
INSERT INTO issues (id, issue_key, title, status, type, created_date, resolution_date, _raw_data_table, _raw_data_params)
SELECT 'webhook:900002:INC-' || i, 'INC-' || i, 'incident', 'DONE', 'INCIDENT', c,
       CASE WHEN i % 10 <> 0 THEN c + interval '1 minute' * (i % 600) END, 'webhook', '900002'
FROM generate_series(1, 2000) AS i, LATERAL (SELECT now() - interval '730 days' * (1 - i / 2000.0) AS c) AS t;
INSERT INTO board_issues (board_id, issue_id, _raw_data_table, _raw_data_params)
SELECT 'webhook:900002', id, 'webhook', '900002' FROM issues;
INSERT INTO incidents (id, incident_key, title, status, created_date, resolution_date, "table", scope_id,
                       _raw_data_table, _raw_data_params)
SELECT id, issue_key, title, status, created_date, resolution_date, 'boards', 'webhook:900002', 'webhook', '900002'
FROM issues;
INSERT INTO cicd_deployments (id, cicd_scope_id, name, result, status, environment, started_date, finished_date,
                              _raw_data_table, _raw_data_params)
SELECT 'webhook:900003:d' || i, 'webhook:900003', 'd' || i, 'SUCCESS', 'DONE', 'PRODUCTION', f - interval '5 minutes',
       f, 'webhook', '900003'
FROM generate_series(1, 10000) AS i, LATERAL (SELECT now() - interval '365 days' * (1 - i / 10000.0) AS f) AS t;
INSERT INTO cicd_deployment_commits (id, commit_sha, cicd_scope_id, cicd_deployment_id, result, environment, repo_url,
                                     _raw_data_table, _raw_data_params)
SELECT id || ':r', md5(id), cicd_scope_id, id, result, 'PRODUCTION', 'r', 'webhook', '900003'
FROM cicd_deployments WHERE cicd_scope_id = 'webhook:900003';
ANALYZE;
