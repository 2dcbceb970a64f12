-- DORA metrics over the stored rows (docs/DORA.md; definitions in DORA.md of the spec).
-- Views explain every figure; dora_report(project, from, to) sums them up, one row per metric.
-- All calendar arithmetic is in UTC, whatever the session's TimeZone.

-- Per-project settings. A project without a row uses the defaults (incident_window 7 days).
CREATE TABLE dora_settings (
    project_name varchar(255) PRIMARY KEY,
    -- An incident is caused by the latest successful production deployment at most this long before it.
    incident_window interval NOT NULL DEFAULT interval '7 days' CHECK (incident_window > interval '0'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which connection's rows make which project: the connection's project, or, without one, a
-- project of its own named after the connection. scope_id is the connection's cicd_scopes /
-- boards / repos id, the key every row of the connection carries.
CREATE VIEW dora_project_connections AS
SELECT COALESCE(c.project_name, c.name)::varchar(255) AS project_name,
       c.id AS connection_id,
       ('webhook:' || c.id)::varchar(255) AS scope_id
FROM webhook_connections c;

-- A project's incident window: its dora_settings row, else 7 days.
CREATE FUNCTION dora_incident_window(project text) RETURNS interval
LANGUAGE sql STABLE
AS $$
SELECT COALESCE((SELECT s.incident_window FROM dora_settings s WHERE s.project_name = $1), interval '7 days')
$$;

-- Every project's settings, defaults filled in.
CREATE VIEW dora_project_settings AS
SELECT p.project_name, dora_incident_window(p.project_name) AS incident_window
FROM (SELECT DISTINCT project_name FROM dora_project_connections) p;

-- Finished deployments to PRODUCTION of each connection scope, one view per API generation.
-- 1. The `deployments` route (DevLake v0.17+): cicd_deployments rows.
CREATE VIEW dora_production_deployments AS
SELECT d.cicd_scope_id AS scope_id, d.id AS deployment_id, d.result, d.started_date, d.finished_date, d.name
FROM cicd_deployments d
WHERE d.environment = 'PRODUCTION' AND d.status = 'DONE' AND d.finished_date IS NOT NULL;

-- 2. Classic pipelines (`cicd_tasks` + finish): a DONE pipeline with a DEPLOYMENT task in PRODUCTION.
CREATE VIEW dora_production_pipelines AS
SELECT pl.cicd_scope_id AS scope_id, pl.id AS deployment_id, pl.result, pl.started_date, pl.finished_date, pl.name
FROM cicd_pipelines pl
WHERE pl.status = 'DONE' AND pl.finished_date IS NOT NULL
  AND EXISTS (
      SELECT 1 FROM cicd_tasks t
      WHERE t.pipeline_id = pl.id AND t.type = 'DEPLOYMENT' AND t.environment = 'PRODUCTION');

-- Both, per project. (source, deployment_id) is unique; deployment_id alone is the row id in
-- cicd_deployments (source 'deployments') or cicd_pipelines (source 'pipelines').
CREATE VIEW dora_deployments AS
SELECT p.project_name, d.deployment_id, 'deployments'::text AS source, d.result,
       d.started_date, d.finished_date, d.name, p.connection_id
FROM dora_project_connections p
JOIN dora_production_deployments d ON d.scope_id = p.scope_id
UNION ALL
SELECT p.project_name, d.deployment_id, 'pipelines'::text, d.result,
       d.started_date, d.finished_date, d.name, p.connection_id
FROM dora_project_connections p
JOIN dora_production_pipelines d ON d.scope_id = p.scope_id;

-- The commits each of those deployments shipped (a sha listed for two repositories appears twice).
-- Joined from the scope-level views so that a lookup by commit_sha starts from the sha's index.
CREATE VIEW dora_deployment_commits AS
SELECT p.project_name, d.deployment_id, 'deployments'::text AS source, d.result, d.finished_date,
       c.commit_sha, c.repo_url AS repo
FROM dora_project_connections p
JOIN dora_production_deployments d ON d.scope_id = p.scope_id
JOIN cicd_deployment_commits c ON c.cicd_deployment_id = d.deployment_id
UNION ALL
SELECT p.project_name, d.deployment_id, 'pipelines'::text, d.result, d.finished_date,
       c.commit_sha, c.repo_id
FROM dora_project_connections p
JOIN dora_production_pipelines d ON d.scope_id = p.scope_id
JOIN cicd_pipeline_commits c ON c.pipeline_id = d.deployment_id;

-- The changes (commit shas) of a project that a successful production deployment finished in
-- [from_time, to_time) shipped, each once, with: the first successful production deployment of
-- the project that ever shipped it (ties: source, then id), the change's start and the lead time
-- in hours between the two. The start is the earliest created_date of the project's pull
-- requests merged as that sha, else the earliest started_date of a task of a project pipeline
-- that ran on it, else NULL (a change "without a start").
CREATE FUNCTION dora_project_changes(project text, from_time timestamptz, to_time timestamptz)
RETURNS TABLE (
    commit_sha varchar, deployment_id varchar, deployment_source text, deployed_date timestamptz,
    start_date timestamptz, start_source text, lead_time_hours double precision
)
LANGUAGE sql STABLE
AS $$
WITH shipped AS (
    SELECT d.commit_sha
    FROM dora_deployment_commits d
    WHERE d.project_name = $1 AND d.result = 'SUCCESS' AND d.finished_date >= $2 AND d.finished_date < $3
), first_deployments AS (
    -- dora_deployment_commits, restricted to the shipped shas inside each branch so that a short
    -- window is answered by index lookups on commit_sha.
    SELECT DISTINCT ON (x.commit_sha) x.commit_sha, x.deployment_id, x.source, x.finished_date
    FROM (
        SELECT c.commit_sha, d.deployment_id, 'deployments'::text AS source, d.finished_date
        FROM dora_project_connections p
        JOIN dora_production_deployments d ON d.scope_id = p.scope_id
        JOIN cicd_deployment_commits c ON c.cicd_deployment_id = d.deployment_id
        WHERE p.project_name = $1 AND d.result = 'SUCCESS' AND c.commit_sha IN (SELECT s.commit_sha FROM shipped s)
        UNION ALL
        SELECT c.commit_sha, d.deployment_id, 'pipelines'::text, d.finished_date
        FROM dora_project_connections p
        JOIN dora_production_pipelines d ON d.scope_id = p.scope_id
        JOIN cicd_pipeline_commits c ON c.pipeline_id = d.deployment_id
        WHERE p.project_name = $1 AND d.result = 'SUCCESS' AND c.commit_sha IN (SELECT s.commit_sha FROM shipped s)
    ) x
    ORDER BY x.commit_sha, x.finished_date, x.source, x.deployment_id
), pull_request_starts AS (
    SELECT r.merge_commit_sha AS commit_sha, min(r.created_date) AS started
    FROM dora_project_connections p
    JOIN pull_requests r ON r.base_repo_id = p.scope_id
    WHERE p.project_name = $1 AND r.merge_commit_sha IN (SELECT s.commit_sha FROM shipped s)
    GROUP BY r.merge_commit_sha
), task_starts AS (
    SELECT pc.commit_sha, min(t.started_date) AS started
    FROM dora_project_connections p
    JOIN cicd_pipelines pl ON pl.cicd_scope_id = p.scope_id
    JOIN cicd_pipeline_commits pc ON pc.pipeline_id = pl.id
    JOIN cicd_tasks t ON t.pipeline_id = pl.id
    WHERE p.project_name = $1 AND pc.commit_sha IN (SELECT s.commit_sha FROM shipped s)
    GROUP BY pc.commit_sha
)
SELECT f.commit_sha, f.deployment_id, f.source, f.finished_date,
       COALESCE(pr.started, ts.started),
       CASE WHEN pr.started IS NOT NULL THEN 'pull_request' WHEN ts.started IS NOT NULL THEN 'ci_task' END,
       (extract(epoch FROM f.finished_date - COALESCE(pr.started, ts.started)) / 3600)::double precision
FROM first_deployments f
LEFT JOIN pull_request_starts pr ON pr.commit_sha = f.commit_sha
LEFT JOIN task_starts ts ON ts.commit_sha = f.commit_sha
$$;

-- Every change a successful production deployment ever shipped, per project.
CREATE VIEW dora_changes AS
SELECT p.project_name, c.commit_sha, c.deployment_id, c.deployment_source, c.deployed_date,
       c.start_date, c.start_source, c.lead_time_hours
FROM (SELECT DISTINCT project_name FROM dora_project_connections) p
CROSS JOIN LATERAL dora_project_changes(p.project_name, '-infinity', 'infinity') c;

-- Incidents: `incidents` rows, and `issues` of type INCIDENT (one incident per id).
CREATE VIEW dora_incidents AS
SELECT p.project_name, i.id AS incident_id, 'incidents'::text AS source,
       i.created_date, i.resolution_date, i.title
FROM dora_project_connections p
JOIN incidents i ON i.scope_id = p.scope_id
WHERE i.created_date IS NOT NULL
UNION ALL
SELECT p.project_name, i.id, 'issues'::text, i.created_date, i.resolution_date, i.title
FROM dora_project_connections p
JOIN board_issues b ON b.board_id = p.scope_id
JOIN issues i ON i.id = b.issue_id
WHERE i.type = 'INCIDENT' AND i.created_date IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM incidents x WHERE x.id = i.id);

-- The deployment that caused an incident of a project created at `created`: the latest successful
-- production deployment of the project that finished strictly before it and at most the
-- project's incident_window before it (a window day is 24 hours, whatever the session's
-- TimeZone). Ties: source, then id, the greatest. No row when none qualifies.
-- Written per scope and per source so that each lookup is one backward index scan.
CREATE FUNCTION dora_incident_cause(project text, created timestamptz)
RETURNS TABLE (deployment_id varchar, deployment_source text, deployment_finished_date timestamptz)
LANGUAGE sql STABLE
AS $$
SELECT x.deployment_id, x.source, x.finished_date
FROM dora_project_connections p
CROSS JOIN LATERAL (
    SELECT $2 - make_interval(secs => extract(epoch FROM dora_incident_window($1))::double precision) AS earliest
) w
CROSS JOIN LATERAL (
    (SELECT d.deployment_id, 'deployments'::text AS source, d.finished_date
     FROM dora_production_deployments d
     WHERE d.scope_id = p.scope_id AND d.result = 'SUCCESS' AND d.finished_date < $2 AND d.finished_date >= w.earliest
     ORDER BY d.finished_date DESC, d.deployment_id DESC
     LIMIT 1)
    UNION ALL
    (SELECT d.deployment_id, 'pipelines'::text, d.finished_date
     FROM dora_production_pipelines d
     WHERE d.scope_id = p.scope_id AND d.result = 'SUCCESS' AND d.finished_date < $2 AND d.finished_date >= w.earliest
     ORDER BY d.finished_date DESC, d.deployment_id DESC
     LIMIT 1)
) x
WHERE p.project_name = $1
ORDER BY x.finished_date DESC, x.source DESC, x.deployment_id DESC
LIMIT 1
$$;

-- Each incident and the deployment that caused it (deployment_id NULL when none did).
CREATE VIEW dora_incident_causes AS
SELECT i.project_name, i.incident_id, i.source AS incident_source,
       i.created_date AS incident_created_date, i.resolution_date AS incident_resolution_date,
       c.deployment_id, c.deployment_source, c.deployment_finished_date
FROM dora_incidents i
LEFT JOIN LATERAL dora_incident_cause(i.project_name, i.created_date) c ON true;

-- The four metrics of one project over [from_time, to_time), one row each, in DORA.md's order.
CREATE FUNCTION dora_report(
    project text,
    from_time timestamptz DEFAULT now() - interval '30 days',
    to_time timestamptz DEFAULT now()
) RETURNS TABLE (
    metric text, value double precision, unit text, level text,
    numerator bigint, denominator bigint, ids text[]
)
LANGUAGE plpgsql STABLE
SET TimeZone = 'UTC'
SET jit = off
AS $function$
BEGIN
    -- EXECUTE plans the query for these very arguments (a custom plan), so the planner knows how
    -- many rows the project and the window hold: index probes for a short window, hash joins
    -- for a long one. $1 = project, $2 = from_time, $3 = to_time.
    RETURN QUERY EXECUTE $query$
WITH deployments AS (
    SELECT deployment_id, source, result, finished_date
    FROM dora_deployments
    WHERE project_name = $1 AND finished_date >= $2 AND finished_date < $3
), weeks AS (
    SELECT w AS week_start
    FROM generate_series(date_trunc('week', $2 AT TIME ZONE 'UTC'),
                         $3 AT TIME ZONE 'UTC' - interval '1 microsecond', interval '1 week') AS w
    WHERE $2 < $3
), months AS (
    SELECT m AS month_start
    FROM generate_series(date_trunc('month', $2 AT TIME ZONE 'UTC'),
                         $3 AT TIME ZONE 'UTC' - interval '1 microsecond', interval '1 month') AS m
    WHERE $2 < $3
), deployment_days AS (
    SELECT DISTINCT (finished_date AT TIME ZONE 'UTC')::date AS day FROM deployments WHERE result = 'SUCCESS'
), weekly AS (
    SELECT w.week_start, count(d.day) AS days
    FROM weeks w LEFT JOIN deployment_days d ON d.day >= w.week_start AND d.day < w.week_start + interval '1 week'
    GROUP BY w.week_start
), monthly AS (
    SELECT m.month_start, count(d.day) AS days
    FROM months m LEFT JOIN deployment_days d ON d.day >= m.month_start AND d.day < m.month_start + interval '1 month'
    GROUP BY m.month_start
), frequency AS (
    SELECT (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FROM weekly) AS weekly_median,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FROM monthly) AS monthly_median,
           (SELECT count(*) FROM deployment_days) AS day_count,
           (SELECT count(*) FROM weeks) AS week_count,
           ARRAY(SELECT deployment_id::text FROM deployments WHERE result = 'SUCCESS'
                 ORDER BY deployment_id COLLATE "C") AS ids
), changes AS (
    SELECT commit_sha, start_date, lead_time_hours FROM dora_project_changes($1, $2, $3)
), lead AS (
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lead_time_hours)
               FILTER (WHERE start_date IS NOT NULL) AS median,
           count(*) FILTER (WHERE start_date IS NOT NULL) AS with_start,
           count(*) AS deployed,
           COALESCE(array_agg(commit_sha::text ORDER BY commit_sha COLLATE "C")
               FILTER (WHERE start_date IS NOT NULL), '{}') AS ids
    FROM changes
), causes AS (
    -- A cause finished in [from, to) and at most the window before its incident, so only
    -- incidents created in (from, to + window) can name one.
    SELECT DISTINCT c.deployment_source, c.deployment_id
    FROM dora_incidents i
    CROSS JOIN LATERAL dora_incident_cause($1, i.created_date) c
    WHERE i.project_name = $1
      AND i.created_date > $2
      AND i.created_date < $3 + make_interval(secs => extract(epoch FROM dora_incident_window($1))::double precision)
      AND c.deployment_finished_date >= $2 AND c.deployment_finished_date < $3
), failures AS (
    SELECT count(*) FILTER (WHERE d.result = 'FAILURE' OR c.deployment_id IS NOT NULL) AS failed,
           count(*) AS total,
           COALESCE(array_agg(d.deployment_id::text ORDER BY d.deployment_id COLLATE "C")
               FILTER (WHERE d.result = 'FAILURE' OR c.deployment_id IS NOT NULL), '{}') AS ids
    FROM deployments d
    LEFT JOIN causes c ON c.deployment_id = d.deployment_id AND c.deployment_source = d.source
    WHERE d.result IN ('SUCCESS', 'FAILURE')
), incidents AS (
    SELECT incident_id, created_date, resolution_date
    FROM dora_incidents
    WHERE project_name = $1 AND created_date >= $2 AND created_date < $3
), recovery AS (
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolution_date - created_date) / 3600)
               FILTER (WHERE resolution_date IS NOT NULL) AS median,
           count(*) FILTER (WHERE resolution_date IS NOT NULL) AS resolved,
           count(*) AS created,
           COALESCE(array_agg(incident_id::text ORDER BY incident_id COLLATE "C")
               FILTER (WHERE resolution_date IS NOT NULL), '{}') AS ids
    FROM incidents
)
SELECT metric, value, unit, level, numerator, denominator, ids
FROM (
    SELECT 1 AS position, 'deployment_frequency' AS metric,
           CASE WHEN week_count > 0 THEN weekly_median END AS value, 'days/week' AS unit,
           CASE WHEN week_count = 0 THEN NULL
                WHEN weekly_median >= 5 THEN 'elite'
                WHEN weekly_median >= 1 THEN 'high'
                WHEN monthly_median >= 1 THEN 'medium'
                ELSE 'low' END AS level,
           day_count AS numerator, week_count AS denominator, ids
    FROM frequency
    UNION ALL
    SELECT 2, 'lead_time_for_changes', median, 'hours',
           CASE WHEN median IS NULL THEN NULL
                WHEN median < 24 THEN 'elite'
                WHEN median < 24 * 7 THEN 'high'
                WHEN median < 24 * 30 THEN 'medium'
                ELSE 'low' END,
           with_start, deployed, ids
    FROM lead
    UNION ALL
    SELECT 3, 'change_failure_rate', CASE WHEN total > 0 THEN failed::double precision / total END, 'ratio',
           CASE WHEN total = 0 THEN NULL
                WHEN failed::double precision / total <= 0.05 THEN 'elite'
                WHEN failed::double precision / total <= 0.10 THEN 'high'
                WHEN failed::double precision / total <= 0.15 THEN 'medium'
                ELSE 'low' END,
           failed, total, ids
    FROM failures
    UNION ALL
    SELECT 4, 'failed_deployment_recovery_time', median, 'hours',
           CASE WHEN median IS NULL THEN NULL
                WHEN median < 1 THEN 'elite'
                WHEN median < 24 THEN 'high'
                WHEN median < 24 * 7 THEN 'medium'
                ELSE 'low' END,
           resolved, created, ids
    FROM recovery
) AS report
ORDER BY position
$query$ USING project, from_time, to_time;
END
$function$;

-- What the views look rows up by: a project's deployments by finish date, a change's first
-- deployment, pull requests and CI runs by sha, a project's incidents.
CREATE INDEX cicd_deployments_scope_finished_idx ON cicd_deployments (cicd_scope_id, finished_date);
CREATE INDEX cicd_pipelines_scope_finished_idx ON cicd_pipelines (cicd_scope_id, finished_date);
CREATE INDEX cicd_deployment_commits_commit_sha_idx ON cicd_deployment_commits (commit_sha);
CREATE INDEX cicd_pipeline_commits_commit_sha_idx ON cicd_pipeline_commits (commit_sha);
CREATE INDEX pull_requests_merge_commit_sha_idx ON pull_requests (merge_commit_sha);
CREATE INDEX incidents_scope_id_created_idx ON incidents (scope_id, created_date);
CREATE INDEX webhook_connections_project_idx ON webhook_connections ((COALESCE(project_name, name)));
