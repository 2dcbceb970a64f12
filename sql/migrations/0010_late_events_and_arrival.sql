-- Issue 16, the journal's second part: replaying a journaled request writes the rows it wrote, and
-- a late event never moves data backwards.
--
-- 1. "Now" is the request's arrival. Every function below takes it as `p_arrival` and writes it
--    wherever it wrote now() (a board's created_date, a resolution date, every created_at and
--    updated_at), so the same request, replayed a day later, writes the same rows. The column
--    defaults of 0001 stay for the rows Lakehook does not write from a request (connections).
--
-- 2. Late events (API.md amendments; docs/API-DECISIONS.md "Late events"). The check runs under
--    the row lock each function already takes, so two concurrent posts cannot both pass it:
--    - an issue (and so its incident) whose stored updated_date is later than the post's is not
--      changed: `stored_updated` returns that date, and nothing at all is written;
--    - a deployment whose stored finished_date is later than the post's is not changed: the
--      `deploymentCommits` form then writes nothing (its commit set stays); the single-commit
--      form still merges its commit unless that commit's own stored finished_date is later too
--      (a commit not seen before is news, not a late event: a pipeline deploying several
--      repositories may post them in any order). `stored_finished` returns the deployment's date
--      when nothing was written.
--    Without both dates (the post or the stored row has none) the last write wins, as in DevLake.
--
-- The old signatures are dropped: an instance older than this migration cannot write issues or
-- deployments once it is applied (upgrade every instance together).

DROP FUNCTION lakehook_upsert_issue(
    boolean, varchar, varchar, varchar, varchar, varchar, varchar, varchar, text, varchar, varchar,
    timestamptz, text, text, varchar, varchar, varchar, varchar, varchar, varchar, float8,
    timestamptz, timestamptz, bigint, varchar, varchar, varchar, varchar, varchar, bigint, bigint, bigint);
DROP FUNCTION lakehook_close_issue(varchar);
DROP FUNCTION lakehook_upsert_deployment(
    varchar, varchar, varchar, text, text, varchar, varchar, varchar, timestamptz, timestamptz,
    timestamptz, varchar, jsonb, varchar);
DROP FUNCTION lakehook_merge_deployment_commit(
    varchar, varchar, varchar, text, text, text, varchar, varchar, varchar, varchar, timestamptz,
    timestamptz, varchar, varchar, varchar, varchar, text, varchar);

-- As in 0006, with the arrival and the late check. The check reads the stored issue first, in a
-- fresh snapshot, before anything is written (not even a board): a late post writes nothing.
-- Should a later update commit between that read and the row lock, the upsert's WHERE keeps the
-- row, and the function fails whole with SQLSTATE LH001 (the boards it may have added go with
-- it); Lakehook runs it once more, and the read then finds the post late.
CREATE FUNCTION lakehook_upsert_issue(
    is_incident boolean,
    p_id varchar, p_board varchar, p_connection_name varchar, p_raw varchar, p_key_board varchar,
    p_board_key varchar, p_issue_key varchar, p_title text, p_status varchar, p_original_status varchar,
    p_created timestamptz, p_url text, p_description text, p_epic_key varchar, p_type varchar,
    p_original_type varchar, p_priority varchar, p_severity varchar, p_component varchar,
    p_story_point float8, p_resolution timestamptz, p_updated timestamptz, p_lead_time bigint,
    p_parent varchar, p_creator_id varchar, p_creator_name varchar, p_assignee_id varchar,
    p_assignee_name varchar, p_estimate bigint, p_spent bigint, p_remaining bigint,
    p_arrival timestamptz)
RETURNS TABLE (n_issues int, n_boards int, n_board_issues int, n_incidents int, n_incident_assignees int,
    stored_updated timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    added int;
BEGIN
    n_issues := 0;
    n_boards := 0;
    n_board_issues := 0;
    n_incidents := 0;
    n_incident_assignees := 0;
    IF p_updated IS NOT NULL THEN
        SELECT i.updated_date INTO stored_updated FROM issues i WHERE i.id = p_id AND i.updated_date > p_updated;
        IF FOUND THEN
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;

    INSERT INTO boards (id, name, type, created_date, _raw_data_table, _raw_data_params, created_at, updated_at)
    VALUES (p_board, p_connection_name, 'webhook', p_arrival, 'webhook', p_raw, p_arrival, p_arrival)
    ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    n_boards := n_boards + added;
    IF p_key_board IS NOT NULL THEN
        INSERT INTO boards (id, name, type, created_date, _raw_data_table, _raw_data_params, created_at, updated_at)
        VALUES (p_key_board, p_board_key, 'webhook', p_arrival, 'webhook', p_raw, p_arrival, p_arrival)
        ON CONFLICT (id) DO NOTHING;
        GET DIAGNOSTICS added = ROW_COUNT;
        n_boards := n_boards + added;
    END IF;

    -- The row lock: from here to COMMIT, no other writer of this issue runs.
    INSERT INTO issues AS i (
        id, issue_key, title, status, original_status, created_date, url, description, epic_key,
        type, original_type, priority, severity, component, story_point, resolution_date, updated_date,
        lead_time_minutes, parent_issue_id, creator_id, creator_name, assignee_id, assignee_name,
        original_estimate_minutes, time_spent_minutes, time_remaining_minutes,
        icon_url, original_project, urgency, is_subtask, fix_versions, _raw_data_table, _raw_data_params,
        created_at, updated_at)
    VALUES (
        p_id, p_issue_key, p_title, p_status, p_original_status, p_created, p_url, p_description, p_epic_key,
        p_type, p_original_type, p_priority, p_severity, p_component, p_story_point, p_resolution, p_updated,
        p_lead_time, p_parent, p_creator_id, p_creator_name, p_assignee_id, p_assignee_name,
        p_estimate, p_spent, p_remaining,
        '', '', '', false, '', 'webhook', p_raw,
        p_arrival, p_arrival)
    ON CONFLICT (id) DO UPDATE SET
        issue_key = EXCLUDED.issue_key, title = EXCLUDED.title, status = EXCLUDED.status,
        original_status = EXCLUDED.original_status, created_date = EXCLUDED.created_date,
        url = EXCLUDED.url, description = EXCLUDED.description, epic_key = EXCLUDED.epic_key,
        type = EXCLUDED.type, original_type = EXCLUDED.original_type, priority = EXCLUDED.priority,
        severity = EXCLUDED.severity, component = EXCLUDED.component, story_point = EXCLUDED.story_point,
        resolution_date = EXCLUDED.resolution_date, updated_date = EXCLUDED.updated_date,
        lead_time_minutes = EXCLUDED.lead_time_minutes, parent_issue_id = EXCLUDED.parent_issue_id,
        creator_id = EXCLUDED.creator_id, creator_name = EXCLUDED.creator_name,
        assignee_id = EXCLUDED.assignee_id, assignee_name = EXCLUDED.assignee_name,
        original_estimate_minutes = EXCLUDED.original_estimate_minutes,
        time_spent_minutes = EXCLUDED.time_spent_minutes,
        time_remaining_minutes = EXCLUDED.time_remaining_minutes,
        updated_at = EXCLUDED.updated_at
    WHERE i.updated_date IS NULL OR p_updated IS NULL OR i.updated_date <= p_updated;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'issue % was updated by a later post while this one waited for it', p_id
            USING ERRCODE = 'LH001';
    END IF;
    n_issues := 1;

    DELETE FROM board_issues
    WHERE issue_id = p_id AND board_id <> p_board AND board_id IS DISTINCT FROM p_key_board;
    INSERT INTO board_issues (board_id, issue_id, _raw_data_table, _raw_data_params, created_at, updated_at)
    SELECT board, p_id, 'webhook', p_raw, p_arrival, p_arrival FROM unnest(ARRAY[p_board, p_key_board]) AS board
    WHERE board IS NOT NULL
    ON CONFLICT (board_id, issue_id) DO NOTHING;
    GET DIAGNOSTICS n_board_issues = ROW_COUNT;

    IF NOT is_incident THEN
        DELETE FROM incidents WHERE id = p_id;
        DELETE FROM incident_assignees WHERE incident_id = p_id;
        RETURN NEXT;
        RETURN;
    END IF;

    INSERT INTO incidents (
        id, incident_key, title, description, status, original_status, url, resolution_date,
        created_date, updated_date, lead_time_minutes, original_estimate_minutes, time_spent_minutes,
        time_remaining_minutes, creator_id, creator_name, parent_incident_id, priority, severity,
        urgency, component, original_project, "table", scope_id, assignee_id, assignee_name,
        _raw_data_table, _raw_data_params, created_at, updated_at)
    VALUES (
        p_id, p_issue_key, p_title, p_description, p_status, p_original_status, p_url, p_resolution,
        p_created, p_updated, p_lead_time, p_estimate, p_spent,
        p_remaining, p_creator_id, p_creator_name, p_parent, p_priority, p_severity,
        '', p_component, '', 'boards', p_board, p_assignee_id, p_assignee_name,
        'webhook', p_raw, p_arrival, p_arrival)
    ON CONFLICT (id) DO UPDATE SET
        incident_key = EXCLUDED.incident_key, title = EXCLUDED.title,
        description = EXCLUDED.description, status = EXCLUDED.status,
        original_status = EXCLUDED.original_status, url = EXCLUDED.url,
        resolution_date = EXCLUDED.resolution_date, created_date = EXCLUDED.created_date,
        updated_date = EXCLUDED.updated_date, lead_time_minutes = EXCLUDED.lead_time_minutes,
        original_estimate_minutes = EXCLUDED.original_estimate_minutes,
        time_spent_minutes = EXCLUDED.time_spent_minutes,
        time_remaining_minutes = EXCLUDED.time_remaining_minutes,
        creator_id = EXCLUDED.creator_id, creator_name = EXCLUDED.creator_name,
        parent_incident_id = EXCLUDED.parent_incident_id, priority = EXCLUDED.priority,
        severity = EXCLUDED.severity, component = EXCLUDED.component,
        assignee_id = EXCLUDED.assignee_id, assignee_name = EXCLUDED.assignee_name,
        updated_at = EXCLUDED.updated_at;
    n_incidents := 1;

    DELETE FROM incident_assignees WHERE incident_id = p_id AND assignee_id IS DISTINCT FROM p_assignee_id;
    IF p_assignee_id <> '' THEN
        INSERT INTO incident_assignees (
            incident_id, assignee_id, assignee_name, _raw_data_table, _raw_data_params, created_at, updated_at)
        VALUES (p_id, p_assignee_id, p_assignee_name, 'webhook', p_raw, p_arrival, p_arrival)
        ON CONFLICT (incident_id, assignee_id) DO UPDATE SET
            assignee_name = EXCLUDED.assignee_name, updated_at = EXCLUDED.updated_at;
        n_incident_assignees := 1;
    END IF;
    RETURN NEXT;
END
$$;

-- As in 0006: the resolution date an issue without one gets is the close request's arrival.
CREATE FUNCTION lakehook_close_issue(p_id varchar, p_arrival timestamptz)
RETURNS TABLE (id varchar, status varchar, resolution_date timestamptz, lead_time_minutes bigint,
    n_issues int, n_incidents int)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    closed issues%ROWTYPE;
BEGIN
    UPDATE issues SET
        status = 'DONE',
        resolution_date = COALESCE(issues.resolution_date, p_arrival),
        lead_time_minutes = CASE
            WHEN COALESCE(issues.lead_time_minutes, 0) = 0 AND issues.created_date IS NOT NULL
            THEN greatest(0, trunc(extract(epoch FROM COALESCE(issues.resolution_date, p_arrival) - issues.created_date) / 60))::bigint
            ELSE issues.lead_time_minutes END,
        updated_at = p_arrival
    WHERE issues.id = p_id
    RETURNING * INTO closed;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    UPDATE incidents SET
        status = closed.status,
        resolution_date = closed.resolution_date,
        lead_time_minutes = closed.lead_time_minutes,
        updated_at = p_arrival
    WHERE incidents.id = p_id;
    GET DIAGNOSTICS n_incidents = ROW_COUNT;

    id := closed.id;
    status := closed.status;
    resolution_date := closed.resolution_date;
    lead_time_minutes := closed.lead_time_minutes;
    n_issues := 1;
    RETURN NEXT;
END
$$;

-- As in 0006, with the arrival and the late check: the deployment row is upserted (and so locked)
-- first, and its WHERE keeps a row that finished later than this post; then nothing else is
-- written and one row answers with the stored finish. Else one row per written commit.
CREATE FUNCTION lakehook_upsert_deployment(
    p_id varchar, p_scope varchar, p_name varchar, p_display_title text, p_url text, p_result varchar,
    p_environment varchar, p_original_environment varchar, p_created timestamptz, p_started timestamptz,
    p_finished timestamptz, p_raw varchar, p_commits jsonb, p_original_result varchar, p_arrival timestamptz)
RETURNS TABLE (deployment_id varchar, commit_id varchar, n_deployments int, stored_finished timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO cicd_deployments AS d (
        id, cicd_scope_id, name, display_title, url, result, original_result, status, original_status,
        environment, original_environment, created_date, started_date, finished_date, duration_sec,
        subtask_name, _raw_data_table, _raw_data_params, created_at, updated_at)
    VALUES (p_id, p_scope, p_name, p_display_title, p_url, p_result, p_original_result, 'DONE', 'DONE',
        p_environment, p_original_environment, p_created, p_started, p_finished,
        extract(epoch FROM p_finished - p_started)::float8, '', 'webhook', p_raw, p_arrival, p_arrival)
    ON CONFLICT (id) DO UPDATE SET
        name = EXCLUDED.name, display_title = EXCLUDED.display_title, url = EXCLUDED.url,
        result = EXCLUDED.result, original_result = EXCLUDED.original_result,
        environment = EXCLUDED.environment, original_environment = EXCLUDED.original_environment,
        created_date = EXCLUDED.created_date, started_date = EXCLUDED.started_date,
        finished_date = EXCLUDED.finished_date, duration_sec = EXCLUDED.duration_sec,
        updated_at = EXCLUDED.updated_at
    WHERE d.finished_date IS NULL OR d.finished_date <= p_finished;
    IF NOT FOUND THEN
        -- Late: the row is locked (ON CONFLICT locks the row its WHERE keeps), so this reads what stays.
        RETURN QUERY SELECT p_id, NULL::varchar, 0, d.finished_date FROM cicd_deployments d WHERE d.id = p_id;
        RETURN;
    END IF;

    DELETE FROM cicd_deployment_commits AS c
    WHERE c.cicd_deployment_id = p_id AND c.id NOT IN (
        SELECT p_id || ':' || left(md5(listed.repo_url), 16) || ':' || listed.commit_sha
        FROM jsonb_to_recordset(p_commits) AS listed(repo_url text, commit_sha text));

    RETURN QUERY
    WITH listed AS (
        SELECT p_id || ':' || left(md5(l.repo_url), 16) || ':' || l.commit_sha AS id, l.*
        FROM jsonb_to_recordset(p_commits) AS l(
            repo_url text, commit_sha text, repo_id text, ref_name text, name text, display_title text,
            commit_msg text, result text, original_result text, status text, original_status text,
            created_date timestamptz, started_date timestamptz, finished_date timestamptz)
    ), written AS (
        INSERT INTO cicd_deployment_commits (
            id, commit_sha, cicd_scope_id, cicd_deployment_id, name, display_title, url, result,
            original_result, status, original_status, environment, original_environment, created_date,
            started_date, finished_date, duration_sec, commit_msg, ref_name, repo_id, repo_url,
            prev_success_deployment_commit_id, subtask_name, _raw_data_table, _raw_data_params,
            created_at, updated_at)
        SELECT listed.id, listed.commit_sha, p_scope, p_id, listed.name, listed.display_title, '', listed.result,
            listed.original_result, listed.status, listed.original_status, p_environment, p_original_environment,
            listed.created_date, listed.started_date, listed.finished_date,
            extract(epoch FROM listed.finished_date - listed.started_date)::float8,
            listed.commit_msg, listed.ref_name, listed.repo_id, listed.repo_url, '', '', 'webhook', p_raw,
            p_arrival, p_arrival
        FROM listed
        ON CONFLICT (id, commit_sha) DO UPDATE SET
            name = EXCLUDED.name, display_title = EXCLUDED.display_title, result = EXCLUDED.result,
            original_result = EXCLUDED.original_result, status = EXCLUDED.status,
            original_status = EXCLUDED.original_status, environment = EXCLUDED.environment,
            original_environment = EXCLUDED.original_environment, created_date = EXCLUDED.created_date,
            started_date = EXCLUDED.started_date, finished_date = EXCLUDED.finished_date,
            duration_sec = EXCLUDED.duration_sec, commit_msg = EXCLUDED.commit_msg,
            ref_name = EXCLUDED.ref_name, repo_id = EXCLUDED.repo_id, repo_url = EXCLUDED.repo_url,
            updated_at = EXCLUDED.updated_at
        RETURNING cicd_deployment_commits.id
    )
    SELECT p_id, written.id, 1, NULL::timestamptz FROM written ORDER BY written.id;
END
$$;

-- As in 0007, with the arrival, and each row moving forward only: the deployment row is kept when
-- it finished later than this post (its values stay; a new commit takes them, or what this post
-- sent), and so is this commit's row. One row answers: the commit written (NULL when kept),
-- whether the deployment was, and, when neither was, the deployment's stored finish.
CREATE FUNCTION lakehook_merge_deployment_commit(
    p_id varchar, p_scope varchar, p_raw varchar,
    p_name text, p_default_name text, p_display_title text,
    p_result varchar, p_original_result varchar, p_environment varchar, p_original_environment varchar,
    p_started timestamptz, p_finished timestamptz,
    p_repo_url varchar, p_commit_sha varchar, p_repo_id varchar, p_ref_name varchar, p_commit_msg text,
    p_commit_name varchar, p_arrival timestamptz)
RETURNS TABLE (deployment_id varchar, commit_id varchar, n_deployments int, stored_finished timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    deployment cicd_deployments%ROWTYPE;
    written_id varchar;
BEGIN
    n_deployments := 1;
    INSERT INTO cicd_deployments AS d (
        id, cicd_scope_id, name, display_title, url, result, original_result, status, original_status,
        environment, original_environment, created_date, started_date, finished_date, duration_sec,
        subtask_name, _raw_data_table, _raw_data_params, created_at, updated_at)
    VALUES (p_id, p_scope, COALESCE(p_name, p_default_name), COALESCE(p_display_title, ''), '',
        COALESCE(p_result, 'SUCCESS'), COALESCE(p_original_result, 'SUCCESS'), 'DONE', 'DONE',
        COALESCE(p_environment, 'PRODUCTION'), COALESCE(p_original_environment, 'PRODUCTION'),
        p_started, p_started, p_finished, extract(epoch FROM p_finished - p_started)::float8,
        '', 'webhook', p_raw, p_arrival, p_arrival)
    ON CONFLICT (id) DO UPDATE SET
        name = COALESCE(p_name, d.name),
        display_title = COALESCE(p_display_title, d.display_title),
        result = COALESCE(p_result, d.result),
        original_result = COALESCE(p_original_result, d.original_result),
        environment = COALESCE(p_environment, d.environment),
        original_environment = COALESCE(p_original_environment, d.original_environment),
        created_date = p_started, started_date = p_started, finished_date = p_finished,
        duration_sec = extract(epoch FROM p_finished - p_started)::float8,
        updated_at = p_arrival
    WHERE d.finished_date IS NULL OR d.finished_date <= p_finished
    RETURNING * INTO deployment;
    IF NOT FOUND THEN
        -- Kept (and locked): read what stays.
        n_deployments := 0;
        SELECT * INTO deployment FROM cicd_deployments d WHERE d.id = p_id;
    END IF;

    INSERT INTO cicd_deployment_commits AS c (
        id, commit_sha, cicd_scope_id, cicd_deployment_id, name, display_title, url, result,
        original_result, status, original_status, environment, original_environment, created_date,
        started_date, finished_date, duration_sec, commit_msg, ref_name, repo_id, repo_url,
        prev_success_deployment_commit_id, subtask_name, _raw_data_table, _raw_data_params,
        created_at, updated_at)
    VALUES (p_id || ':' || left(md5(p_repo_url), 16) || ':' || p_commit_sha, p_commit_sha, p_scope, p_id,
        COALESCE(p_commit_name, ''), COALESCE(p_display_title, ''), '', COALESCE(p_result, deployment.result),
        COALESCE(p_original_result, deployment.original_result), 'DONE', 'DONE',
        COALESCE(p_environment, deployment.environment), COALESCE(p_original_environment, deployment.original_environment),
        p_started, p_started, p_finished, extract(epoch FROM p_finished - p_started)::float8,
        COALESCE(p_commit_msg, ''), COALESCE(p_ref_name, ''), COALESCE(p_repo_id, ''), p_repo_url,
        '', '', 'webhook', p_raw, p_arrival, p_arrival)
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
        updated_at = p_arrival
    WHERE c.finished_date IS NULL OR c.finished_date <= p_finished
    RETURNING c.id INTO written_id;

    deployment_id := p_id;
    commit_id := written_id;
    IF n_deployments = 0 AND written_id IS NULL THEN
        stored_finished := deployment.finished_date;
    END IF;
    RETURN NEXT;
END
$$;
