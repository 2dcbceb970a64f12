-- Re-posting an issue or a deployment replaces its children (board links, the incident row and
-- its assignees; deployment commits). As single statements with data-modifying CTEs, those
-- DELETEs ran in the statement's snapshot, taken before the upsert waited for a concurrent
-- writer's row lock: they could not see the children that writer had just committed, and two
-- concurrent re-posts of one key left the union of both requests' children (issue 13).
--
-- Each write is now one PL/pgSQL function, still one statement for the client (one round trip,
-- one implicit transaction, pipeline-friendly). Its first statement upserts the parent row,
-- which takes (or waits for) the row lock; every later statement of a VOLATILE function runs in
-- a fresh snapshot (READ COMMITTED), so it sees every writer that held the lock before, and no
-- writer can come between until this one commits. Whatever runs beside it, the rows end as one
-- request wrote them.
--
-- The boards are inserted before the issue is locked, always the connection's board first, as
-- before: no two writers take these locks in opposite orders.

CREATE FUNCTION lakehook_upsert_issue(
    is_incident boolean,
    p_id varchar, p_board varchar, p_connection_name varchar, p_raw varchar, p_key_board varchar,
    p_board_key varchar, p_issue_key varchar, p_title text, p_status varchar, p_original_status varchar,
    p_created timestamptz, p_url text, p_description text, p_epic_key varchar, p_type varchar,
    p_original_type varchar, p_priority varchar, p_severity varchar, p_component varchar,
    p_story_point float8, p_resolution timestamptz, p_updated timestamptz, p_lead_time bigint,
    p_parent varchar, p_creator_id varchar, p_creator_name varchar, p_assignee_id varchar,
    p_assignee_name varchar, p_estimate bigint, p_spent bigint, p_remaining bigint)
RETURNS TABLE (n_issues int, n_boards int, n_board_issues int, n_incidents int, n_incident_assignees int)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    added int;
BEGIN
    n_boards := 0;
    INSERT INTO boards (id, name, type, created_date, _raw_data_table, _raw_data_params)
    VALUES (p_board, p_connection_name, 'webhook', now(), 'webhook', p_raw)
    ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    n_boards := n_boards + added;
    IF p_key_board IS NOT NULL THEN
        INSERT INTO boards (id, name, type, created_date, _raw_data_table, _raw_data_params)
        VALUES (p_key_board, p_board_key, 'webhook', now(), 'webhook', p_raw)
        ON CONFLICT (id) DO NOTHING;
        GET DIAGNOSTICS added = ROW_COUNT;
        n_boards := n_boards + added;
    END IF;

    -- The row lock: from here to COMMIT, no other writer of this issue runs.
    INSERT INTO issues (
        id, issue_key, title, status, original_status, created_date, url, description, epic_key,
        type, original_type, priority, severity, component, story_point, resolution_date, updated_date,
        lead_time_minutes, parent_issue_id, creator_id, creator_name, assignee_id, assignee_name,
        original_estimate_minutes, time_spent_minutes, time_remaining_minutes,
        icon_url, original_project, urgency, is_subtask, fix_versions, _raw_data_table, _raw_data_params)
    VALUES (
        p_id, p_issue_key, p_title, p_status, p_original_status, p_created, p_url, p_description, p_epic_key,
        p_type, p_original_type, p_priority, p_severity, p_component, p_story_point, p_resolution, p_updated,
        p_lead_time, p_parent, p_creator_id, p_creator_name, p_assignee_id, p_assignee_name,
        p_estimate, p_spent, p_remaining,
        '', '', '', false, '', 'webhook', p_raw)
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
        updated_at = now();
    n_issues := 1;

    DELETE FROM board_issues
    WHERE issue_id = p_id AND board_id <> p_board AND board_id IS DISTINCT FROM p_key_board;
    INSERT INTO board_issues (board_id, issue_id, _raw_data_table, _raw_data_params)
    SELECT board, p_id, 'webhook', p_raw FROM unnest(ARRAY[p_board, p_key_board]) AS board
    WHERE board IS NOT NULL
    ON CONFLICT (board_id, issue_id) DO NOTHING;
    GET DIAGNOSTICS n_board_issues = ROW_COUNT;

    n_incidents := 0;
    n_incident_assignees := 0;
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
        _raw_data_table, _raw_data_params)
    VALUES (
        p_id, p_issue_key, p_title, p_description, p_status, p_original_status, p_url, p_resolution,
        p_created, p_updated, p_lead_time, p_estimate, p_spent,
        p_remaining, p_creator_id, p_creator_name, p_parent, p_priority, p_severity,
        '', p_component, '', 'boards', p_board, p_assignee_id, p_assignee_name,
        'webhook', p_raw)
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
        updated_at = now();
    n_incidents := 1;

    DELETE FROM incident_assignees WHERE incident_id = p_id AND assignee_id IS DISTINCT FROM p_assignee_id;
    IF p_assignee_id <> '' THEN
        INSERT INTO incident_assignees (incident_id, assignee_id, assignee_name, _raw_data_table, _raw_data_params)
        VALUES (p_id, p_assignee_id, p_assignee_name, 'webhook', p_raw)
        ON CONFLICT (incident_id, assignee_id) DO UPDATE SET assignee_name = EXCLUDED.assignee_name, updated_at = now();
        n_incident_assignees := 1;
    END IF;
    RETURN NEXT;
END
$$;

-- Closing an issue closes its incident row too. As one statement, the incident's UPDATE ran in
-- the snapshot taken before the issue's row lock was granted, so it missed an incident row that
-- a concurrent upsert had just created, and left it open under a DONE issue.
CREATE FUNCTION lakehook_close_issue(p_id varchar)
RETURNS TABLE (id varchar, status varchar, resolution_date timestamptz, lead_time_minutes bigint,
    n_issues int, n_incidents int)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    closed issues%ROWTYPE;
BEGIN
    -- A resolution before the creation (an issue created in the future) keeps lead time 0
    -- rather than a negative one.
    UPDATE issues SET
        status = 'DONE',
        resolution_date = COALESCE(issues.resolution_date, now()),
        lead_time_minutes = CASE
            WHEN COALESCE(issues.lead_time_minutes, 0) = 0 AND issues.created_date IS NOT NULL
            THEN greatest(0, trunc(extract(epoch FROM COALESCE(issues.resolution_date, now()) - issues.created_date) / 60))::bigint
            ELSE issues.lead_time_minutes END,
        updated_at = now()
    WHERE issues.id = p_id
    RETURNING * INTO closed;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    UPDATE incidents SET
        status = closed.status,
        resolution_date = closed.resolution_date,
        lead_time_minutes = closed.lead_time_minutes,
        updated_at = now()
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

-- A deployment and its commits: the deployment row is upserted (and so locked) first, then the
-- commits not listed are deleted and the listed ones upserted, in fresh snapshots.
CREATE FUNCTION lakehook_upsert_deployment(
    p_id varchar, p_scope varchar, p_name varchar, p_display_title text, p_url text, p_result varchar,
    p_environment varchar, p_original_environment varchar, p_created timestamptz, p_started timestamptz,
    p_finished timestamptz, p_raw varchar, p_commits jsonb, p_original_result varchar)
RETURNS TABLE (deployment_id varchar, commit_id varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO cicd_deployments (
        id, cicd_scope_id, name, display_title, url, result, original_result, status, original_status,
        environment, original_environment, created_date, started_date, finished_date, duration_sec,
        subtask_name, _raw_data_table, _raw_data_params)
    VALUES (p_id, p_scope, p_name, p_display_title, p_url, p_result, p_original_result, 'DONE', 'DONE',
        p_environment, p_original_environment, p_created, p_started, p_finished,
        extract(epoch FROM p_finished - p_started)::float8, '', 'webhook', p_raw)
    ON CONFLICT (id) DO UPDATE SET
        name = EXCLUDED.name, display_title = EXCLUDED.display_title, url = EXCLUDED.url,
        result = EXCLUDED.result, original_result = EXCLUDED.original_result,
        environment = EXCLUDED.environment, original_environment = EXCLUDED.original_environment,
        created_date = EXCLUDED.created_date, started_date = EXCLUDED.started_date,
        finished_date = EXCLUDED.finished_date, duration_sec = EXCLUDED.duration_sec, updated_at = now();

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
            prev_success_deployment_commit_id, subtask_name, _raw_data_table, _raw_data_params)
        SELECT listed.id, listed.commit_sha, p_scope, p_id, listed.name, listed.display_title, '', listed.result,
            listed.original_result, listed.status, listed.original_status, p_environment, p_original_environment,
            listed.created_date, listed.started_date, listed.finished_date,
            extract(epoch FROM listed.finished_date - listed.started_date)::float8,
            listed.commit_msg, listed.ref_name, listed.repo_id, listed.repo_url, '', '', 'webhook', p_raw
        FROM listed
        ON CONFLICT (id, commit_sha) DO UPDATE SET
            name = EXCLUDED.name, display_title = EXCLUDED.display_title, result = EXCLUDED.result,
            original_result = EXCLUDED.original_result, status = EXCLUDED.status,
            original_status = EXCLUDED.original_status, environment = EXCLUDED.environment,
            original_environment = EXCLUDED.original_environment, created_date = EXCLUDED.created_date,
            started_date = EXCLUDED.started_date, finished_date = EXCLUDED.finished_date,
            duration_sec = EXCLUDED.duration_sec, commit_msg = EXCLUDED.commit_msg,
            ref_name = EXCLUDED.ref_name, repo_id = EXCLUDED.repo_id, repo_url = EXCLUDED.repo_url,
            updated_at = now()
        RETURNING cicd_deployment_commits.id
    )
    SELECT p_id, written.id FROM written ORDER BY written.id;
END
$$;
