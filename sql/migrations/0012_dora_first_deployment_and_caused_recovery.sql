-- Issue 18: two DORA definitions amended (DORA.md of the spec, items 2 and 4).
--
-- 1. Lead time for changes. A change counts only in the window of its first successful
--    production deployment. dora_project_changes(project, from, to) listed every change a
--    successful deployment in the window shipped, so a redeploy or a rollback that shipped an
--    older commit again counted it again, in every later window it was shipped in (with its lead
--    time to the first deployment). Now it lists the changes whose first successful production
--    deployment finished in the window. dora_changes (over all time) is unchanged.
-- 2. Failed deployment recovery time. It covers exactly the failures the change failure rate
--    counts: (a) incidents created in the window that a deployment caused (dora_incident_causes),
--    from created_date to resolution_date; (b) deployments with result FAILURE finished in the
--    window, from their finished_date to the finished_date of the project's next successful
--    production deployment. It used to time every incident created in the window, caused or not,
--    and no failed deployment. numerator = failures recovered, denominator = failures in the
--    window, ids = the recovered incidents' and failed deployments' ids.
--
-- dora_report (migration 0005) is a wrapper over dora_report_window, which is replaced here with
-- the same signature and defaults (CREATE OR REPLACE may not drop a default); only the recovery
-- part of its query differs. Everything else is as in migration 0003.

-- The deployment that recovered from a failure of a project at `failed`: the first successful
-- production deployment of the project that finished strictly after it (ties: source, then id,
-- the smallest; no row while none has). Written per scope and per source, as
-- dora_incident_cause is, so that each lookup is one forward index scan.
CREATE FUNCTION dora_deployment_recovery(project text, failed timestamptz)
RETURNS TABLE (deployment_id varchar, deployment_source text, deployment_finished_date timestamptz)
LANGUAGE sql STABLE
AS $$
SELECT x.deployment_id, x.source, x.finished_date
FROM dora_project_connections p
CROSS JOIN LATERAL (
    (SELECT d.deployment_id, 'deployments'::text AS source, d.finished_date
     FROM dora_production_deployments d
     WHERE d.scope_id = p.scope_id AND d.result = 'SUCCESS' AND d.finished_date > $2
     ORDER BY d.finished_date, d.deployment_id
     LIMIT 1)
    UNION ALL
    (SELECT d.deployment_id, 'pipelines'::text, d.finished_date
     FROM dora_production_pipelines d
     WHERE d.scope_id = p.scope_id AND d.result = 'SUCCESS' AND d.finished_date > $2
     ORDER BY d.finished_date, d.deployment_id
     LIMIT 1)
) x
WHERE p.project_name = $1
ORDER BY x.finished_date, x.source, x.deployment_id
LIMIT 1
$$;

-- Each failed production deployment (result FAILURE) and the deployment that recovered from it
-- (NULL while none has), with the recovery time in hours.
CREATE VIEW dora_failed_deployments AS
SELECT d.project_name, d.deployment_id, d.source, d.finished_date,
       r.deployment_id AS recovery_deployment_id, r.deployment_source AS recovery_deployment_source,
       r.deployment_finished_date AS recovered_date,
       (extract(epoch FROM r.deployment_finished_date - d.finished_date) / 3600)::double precision AS recovery_hours
FROM dora_deployments d
LEFT JOIN LATERAL dora_deployment_recovery(d.project_name, d.finished_date) r ON true
WHERE d.result = 'FAILURE';

-- The changes (commit shas) of a project whose first successful production deployment finished in
-- [from_time, to_time), each once, with: that deployment (ties: source, then id), the change's
-- start and the lead time in hours between the two. The start is the earliest created_date of
-- the project's pull requests merged as that sha, else the earliest started_date of a task of a
-- project pipeline that ran on it, else NULL (a change "without a start").
CREATE OR REPLACE FUNCTION dora_project_changes(project text, from_time timestamptz, to_time timestamptz)
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
), changes AS MATERIALIZED (
    -- MATERIALIZED keeps the window's filter below out of first_deployments: pushed down there,
    -- it made the planner expect a handful of changes and join the pull requests by nested loop
    -- (dora_report('perf') of DoraPerformanceTests went from 0.2 s to 2 s).
    SELECT f.commit_sha, f.deployment_id, f.source, f.finished_date,
           COALESCE(pr.started, ts.started) AS start_date,
           CASE WHEN pr.started IS NOT NULL THEN 'pull_request' WHEN ts.started IS NOT NULL THEN 'ci_task' END AS start_source,
           (extract(epoch FROM f.finished_date - COALESCE(pr.started, ts.started)) / 3600)::double precision AS lead_time_hours
    FROM first_deployments f
    LEFT JOIN pull_request_starts pr ON pr.commit_sha = f.commit_sha
    LEFT JOIN task_starts ts ON ts.commit_sha = f.commit_sha
)
-- Only the changes first deployed in the window: a redeploy or rollback in it of a commit
-- deployed before is no change of this window.
SELECT c.commit_sha, c.deployment_id, c.source, c.finished_date, c.start_date, c.start_source, c.lead_time_hours
FROM changes c
WHERE c.finished_date >= $2 AND c.finished_date < $3
$$;

-- The four metrics of one project over [from_time, to_time), one row each, in DORA.md's order
-- (dora_report fills in the default window and calls this).
CREATE OR REPLACE FUNCTION dora_report_window(
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
), failed_incidents AS (
    -- Incidents created in the window that a deployment caused; an incident without a cause
    -- is no failed deployment. Recovered at the resolution.
    SELECT i.incident_id::text AS id, i.created_date AS failed_date, i.resolution_date AS recovered_date
    FROM dora_incidents i
    CROSS JOIN LATERAL dora_incident_cause($1, i.created_date) c
    WHERE i.project_name = $1 AND i.created_date >= $2 AND i.created_date < $3
), failed_deployments AS (
    -- Deployments with result FAILURE finished in the window, recovered by the project's next
    -- successful production deployment.
    SELECT d.deployment_id::text AS id, d.finished_date AS failed_date, r.deployment_finished_date AS recovered_date
    FROM deployments d
    LEFT JOIN LATERAL dora_deployment_recovery($1, d.finished_date) r ON true
    WHERE d.result = 'FAILURE'
), failed AS (
    SELECT id, failed_date, recovered_date FROM failed_incidents
    UNION ALL
    SELECT id, failed_date, recovered_date FROM failed_deployments
), recovery AS (
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM recovered_date - failed_date) / 3600)
               FILTER (WHERE recovered_date IS NOT NULL) AS median,
           count(*) FILTER (WHERE recovered_date IS NOT NULL) AS recovered,
           count(*) AS failures,
           COALESCE(array_agg(id ORDER BY id COLLATE "C") FILTER (WHERE recovered_date IS NOT NULL), '{}') AS ids
    FROM failed
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
           recovered, failures, ids
    FROM recovery
) AS report
ORDER BY position
$query$ USING project, from_time, to_time;
END
$function$;
