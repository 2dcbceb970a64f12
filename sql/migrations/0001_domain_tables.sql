-- DevLake's domain tables (SCHEMA.md), with PostgreSQL types.
-- Common bookkeeping columns on every table; Lakehook writes _raw_data_table = 'webhook'
-- and _raw_data_params = the connection id.

CREATE TABLE boards (
    id varchar(255) PRIMARY KEY,
    name varchar(255),
    description text,
    url varchar(255),
    created_date timestamptz,
    type varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT ''
);

CREATE TABLE board_issues (
    board_id varchar(255) NOT NULL,
    issue_id varchar(255) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT '',
    PRIMARY KEY (board_id, issue_id)
);

CREATE TABLE issues (
    id varchar(255) PRIMARY KEY,
    url varchar(255),
    icon_url varchar(255),
    issue_key varchar(255),
    title text,
    description text,
    epic_key varchar(255),
    type varchar(100),
    original_type varchar(500),
    status varchar(100),
    original_status varchar(100),
    story_point double precision,
    resolution_date timestamptz,
    created_date timestamptz,
    updated_date timestamptz,
    due_date timestamptz,
    lead_time_minutes bigint,
    original_estimate_minutes bigint,
    time_spent_minutes bigint,
    time_remaining_minutes bigint,
    creator_id varchar(255),
    creator_name varchar(255),
    assignee_id varchar(255),
    assignee_name varchar(255),
    parent_issue_id varchar(255),
    priority varchar(255),
    severity varchar(255),
    component varchar(255),
    original_project varchar(255),
    urgency varchar(255),
    is_subtask boolean,
    fix_versions text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT ''
);

CREATE TABLE incidents (
    id varchar(255) PRIMARY KEY,
    url varchar(255),
    incident_key varchar(255),
    title text,
    description text,
    status varchar(100),
    original_status varchar(100),
    resolution_date timestamptz,
    created_date timestamptz,
    updated_date timestamptz,
    lead_time_minutes bigint,
    original_estimate_minutes bigint,
    time_spent_minutes bigint,
    time_remaining_minutes bigint,
    creator_id varchar(255),
    creator_name varchar(255),
    parent_incident_id varchar(255),
    priority varchar(255),
    severity varchar(255),
    urgency varchar(255),
    component varchar(255),
    original_project varchar(255),
    "table" varchar(255),
    scope_id varchar(255),
    assignee_id varchar(255),
    assignee_name varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT ''
);

CREATE TABLE incident_assignees (
    incident_id varchar(255) NOT NULL,
    assignee_id varchar(255) NOT NULL,
    assignee_name varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT '',
    PRIMARY KEY (incident_id, assignee_id)
);

CREATE TABLE cicd_pipelines (
    id varchar(255) PRIMARY KEY,
    name text,
    display_title text,
    url text,
    result varchar(100),
    original_result varchar(100),
    status varchar(100),
    original_status varchar(100),
    type varchar(100),
    duration_sec double precision,
    queued_duration_sec double precision,
    environment varchar(255),
    created_date timestamptz,
    queued_date timestamptz,
    started_date timestamptz,
    finished_date timestamptz,
    cicd_scope_id varchar(255),
    is_child boolean,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT ''
);

CREATE TABLE cicd_tasks (
    id varchar(255) PRIMARY KEY,
    name varchar(255),
    pipeline_id varchar(255),
    result varchar(100),
    original_result varchar(100),
    status varchar(100),
    original_status varchar(100),
    type varchar(100),
    environment varchar(255),
    duration_sec double precision,
    queued_duration_sec double precision,
    created_date timestamptz,
    queued_date timestamptz,
    started_date timestamptz,
    finished_date timestamptz,
    cicd_scope_id varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT ''
);

CREATE TABLE cicd_pipeline_commits (
    pipeline_id varchar(255) NOT NULL,
    commit_sha varchar(255) NOT NULL,
    commit_msg text,
    display_title text,
    url text,
    branch varchar(255),
    repo_id varchar(255),
    repo_url varchar(500),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT '',
    PRIMARY KEY (pipeline_id, commit_sha)
);

CREATE TABLE cicd_deployments (
    id varchar(255) PRIMARY KEY,
    cicd_scope_id varchar(255),
    name text,
    display_title text,
    url text,
    result varchar(100),
    original_result varchar(100),
    status varchar(100),
    original_status varchar(100),
    environment varchar(255),
    original_environment varchar(255),
    created_date timestamptz,
    queued_date timestamptz,
    started_date timestamptz,
    finished_date timestamptz,
    duration_sec double precision,
    queued_duration_sec double precision,
    subtask_name varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT ''
);

CREATE TABLE cicd_deployment_commits (
    id varchar(255) NOT NULL,
    commit_sha varchar(255) NOT NULL,
    cicd_scope_id varchar(255),
    cicd_deployment_id varchar(255),
    name varchar(255),
    display_title text,
    url text,
    result varchar(100),
    original_result varchar(100),
    status varchar(100),
    original_status varchar(100),
    environment varchar(255),
    original_environment varchar(255),
    created_date timestamptz,
    queued_date timestamptz,
    started_date timestamptz,
    finished_date timestamptz,
    duration_sec double precision,
    queued_duration_sec double precision,
    commit_msg text,
    ref_name varchar(255),
    repo_id varchar(255),
    repo_url varchar(500),
    prev_success_deployment_commit_id varchar(255),
    subtask_name varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT '',
    PRIMARY KEY (id, commit_sha)
);

CREATE TABLE pull_requests (
    id varchar(255) PRIMARY KEY,
    base_repo_id varchar(255),
    head_repo_id varchar(255),
    status varchar(100),
    original_status varchar(100),
    title text,
    description text,
    url varchar(255),
    author_name varchar(100),
    author_id varchar(100),
    merged_by_name varchar(100),
    merged_by_id varchar(100),
    parent_pr_id varchar(100),
    pull_request_key bigint,
    created_date timestamptz,
    merged_date timestamptz,
    closed_date timestamptz,
    type varchar(100),
    component varchar(100),
    merge_commit_sha varchar(40),
    base_commit_sha varchar(40),
    head_commit_sha varchar(40),
    head_ref varchar(255),
    base_ref varchar(255),
    additions bigint,
    deletions bigint,
    is_draft boolean,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT ''
);

CREATE TABLE cicd_scopes (
    id varchar(255) PRIMARY KEY,
    name varchar(255),
    description text,
    url varchar(255),
    created_date timestamptz,
    updated_date timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT ''
);

CREATE TABLE repos (
    id varchar(255) PRIMARY KEY,
    name text,
    url text,
    description text,
    owner_id varchar(255),
    language varchar(255),
    forked_from text,
    created_date timestamptz,
    updated_date timestamptz,
    deleted boolean,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT ''
);

CREATE TABLE project_mapping (
    project_name varchar(255) NOT NULL,
    "table" varchar(255) NOT NULL,
    row_id varchar(255) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    _raw_data_params varchar(255) NOT NULL DEFAULT '',
    _raw_data_table varchar(255) NOT NULL DEFAULT '',
    _raw_data_id bigint NOT NULL DEFAULT 0,
    _raw_data_remark text NOT NULL DEFAULT '',
    PRIMARY KEY (project_name, "table", row_id)
);

CREATE INDEX incidents_table_scope_idx ON incidents ("table", scope_id);
CREATE INDEX cicd_pipelines_cicd_scope_id_idx ON cicd_pipelines (cicd_scope_id);
CREATE INDEX cicd_tasks_pipeline_id_idx ON cicd_tasks (pipeline_id);
CREATE INDEX cicd_pipeline_commits_repo_id_idx ON cicd_pipeline_commits (repo_id);
CREATE INDEX cicd_deployments_cicd_scope_id_idx ON cicd_deployments (cicd_scope_id);
CREATE INDEX cicd_deployment_commits_cicd_scope_id_idx ON cicd_deployment_commits (cicd_scope_id);
CREATE INDEX cicd_deployment_commits_cicd_deployment_id_idx ON cicd_deployment_commits (cicd_deployment_id);
CREATE INDEX cicd_deployment_commits_repo_url_idx ON cicd_deployment_commits (repo_url);
CREATE INDEX pull_requests_base_repo_id_idx ON pull_requests (base_repo_id);
-- Lakehook: every row a connection wrote is found by its _raw_data_params (purge, per-connection queries).
CREATE INDEX boards_raw_data_params_idx ON boards (_raw_data_params);
CREATE INDEX board_issues_raw_data_params_idx ON board_issues (_raw_data_params);
CREATE INDEX issues_raw_data_params_idx ON issues (_raw_data_params);
CREATE INDEX incidents_raw_data_params_idx ON incidents (_raw_data_params);
CREATE INDEX incident_assignees_raw_data_params_idx ON incident_assignees (_raw_data_params);
CREATE INDEX cicd_pipelines_raw_data_params_idx ON cicd_pipelines (_raw_data_params);
CREATE INDEX cicd_tasks_raw_data_params_idx ON cicd_tasks (_raw_data_params);
CREATE INDEX cicd_pipeline_commits_raw_data_params_idx ON cicd_pipeline_commits (_raw_data_params);
CREATE INDEX cicd_deployments_raw_data_params_idx ON cicd_deployments (_raw_data_params);
CREATE INDEX cicd_deployment_commits_raw_data_params_idx ON cicd_deployment_commits (_raw_data_params);
CREATE INDEX pull_requests_raw_data_params_idx ON pull_requests (_raw_data_params);
