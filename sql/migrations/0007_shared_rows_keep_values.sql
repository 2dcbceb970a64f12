-- A field not sent never erases what another request wrote into a shared row (API.md,
-- amendments of 2026-12-03; issue 15).
--
-- The single-commit deployment form of DevLake v0.17–v0.20 (`repo_url`, `commit_sha`,
-- `pipeline_id`, …) describes one commit of the deployment `pipeline_id`. DevLake upserted that
-- commit's row and left the deployment's other commits alone, so a pipeline that deploys several
-- repositories posts once per commit under one `pipeline_id` and ends with all of them. Lakehook
-- read the form as a whole deployment of one commit and, through lakehook_upsert_deployment,
-- deleted the commits posted before; and every optional field a post left out (display_title,
-- ref_name, repo_id, commit_msg, result, environment) overwrote what an earlier post of the same
-- deployment or commit had written.
--
-- lakehook_merge_deployment_commit writes that form. A NULL parameter is a value the client did
-- not send: a new row takes the default (SUCCESS, PRODUCTION, `p_default_name`, ''), a stored row
-- keeps its value. The dates are never NULL: DevLake defines a missing end_time as the request's
-- arrival and a missing start_time as the end time, so every post carries its own dates, and they
-- win (keeping a stored end while taking a newly sent start could put the end before the start).
-- As in 0006, the deployment row is upserted first (taking its row lock) and the commit in a later
-- statement, in a fresh snapshot.
--
-- lakehook_upsert_deployment (0006) stays as it is for the `deploymentCommits` form, whose body
-- is the whole deployment and whose re-post replaces it (API.md §6).

CREATE OR REPLACE FUNCTION lakehook_merge_deployment_commit(
    p_id varchar, p_scope varchar, p_raw varchar,
    p_name text, p_default_name text, p_display_title text,
    p_result varchar, p_original_result varchar, p_environment varchar, p_original_environment varchar,
    p_started timestamptz, p_finished timestamptz,
    p_repo_url varchar, p_commit_sha varchar, p_repo_id varchar, p_ref_name varchar, p_commit_msg text,
    p_commit_name varchar)
RETURNS TABLE (deployment_id varchar, commit_id varchar)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    deployment cicd_deployments%ROWTYPE;
    written_id varchar;
BEGIN
    INSERT INTO cicd_deployments AS d (
        id, cicd_scope_id, name, display_title, url, result, original_result, status, original_status,
        environment, original_environment, created_date, started_date, finished_date, duration_sec,
        subtask_name, _raw_data_table, _raw_data_params)
    VALUES (p_id, p_scope, COALESCE(p_name, p_default_name), COALESCE(p_display_title, ''), '',
        COALESCE(p_result, 'SUCCESS'), COALESCE(p_original_result, 'SUCCESS'), 'DONE', 'DONE',
        COALESCE(p_environment, 'PRODUCTION'), COALESCE(p_original_environment, 'PRODUCTION'),
        p_started, p_started, p_finished, extract(epoch FROM p_finished - p_started)::float8,
        '', 'webhook', p_raw)
    ON CONFLICT (id) DO UPDATE SET
        name = COALESCE(p_name, d.name),
        display_title = COALESCE(p_display_title, d.display_title),
        result = COALESCE(p_result, d.result),
        original_result = COALESCE(p_original_result, d.original_result),
        environment = COALESCE(p_environment, d.environment),
        original_environment = COALESCE(p_original_environment, d.original_environment),
        created_date = p_started, started_date = p_started, finished_date = p_finished,
        duration_sec = extract(epoch FROM p_finished - p_started)::float8,
        updated_at = now()
    RETURNING * INTO deployment;

    -- A new commit takes the deployment's values as they now stand; a stored one keeps its own
    -- where this post sent nothing.
    INSERT INTO cicd_deployment_commits AS c (
        id, commit_sha, cicd_scope_id, cicd_deployment_id, name, display_title, url, result,
        original_result, status, original_status, environment, original_environment, created_date,
        started_date, finished_date, duration_sec, commit_msg, ref_name, repo_id, repo_url,
        prev_success_deployment_commit_id, subtask_name, _raw_data_table, _raw_data_params)
    VALUES (p_id || ':' || left(md5(p_repo_url), 16) || ':' || p_commit_sha, p_commit_sha, p_scope, p_id,
        COALESCE(p_commit_name, ''), COALESCE(p_display_title, ''), '', deployment.result,
        deployment.original_result, 'DONE', 'DONE', deployment.environment, deployment.original_environment,
        p_started, p_started, p_finished, extract(epoch FROM p_finished - p_started)::float8,
        COALESCE(p_commit_msg, ''), COALESCE(p_ref_name, ''), COALESCE(p_repo_id, ''), p_repo_url,
        '', '', 'webhook', p_raw)
    ON CONFLICT (id, commit_sha) DO UPDATE SET
        name = COALESCE(p_commit_name, c.name),
        display_title = COALESCE(p_display_title, c.display_title),
        result = COALESCE(p_result, c.result),
        original_result = COALESCE(p_original_result, c.original_result),
        environment = COALESCE(p_environment, c.environment),
        original_environment = COALESCE(p_original_environment, c.original_environment),
        created_date = p_started, started_date = p_started, finished_date = p_finished,
        duration_sec = extract(epoch FROM p_finished - p_started)::float8,
        commit_msg = COALESCE(p_commit_msg, c.commit_msg),
        ref_name = COALESCE(p_ref_name, c.ref_name),
        repo_id = COALESCE(p_repo_id, c.repo_id),
        updated_at = now()
    RETURNING c.id INTO written_id;

    deployment_id := p_id;
    commit_id := written_id;
    RETURN NEXT;
END
$$;
