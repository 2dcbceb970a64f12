-- Issue 18: a read-only role for dashboards (Grafana's PostgreSQL data source, docker/grafana/).
--
-- lakehook_reader may read the DevLake domain tables, dora_settings and every dora_* view, and
-- run the dora_* functions (EXECUTE is PUBLIC's by default). It may not read Lakehook's own
-- tables: webhook_connections (signing secrets, key hashes), webhook_events (the journal, with
-- payloads) and webhook_idempotency_keys. The dora_* views that read webhook_connections
-- (dora_project_connections) run with their owner's rights and show only project, connection id
-- and scope id.
--
-- The role is created NOLOGIN, and only when it does not exist: a role is cluster-wide, so it may
-- come from another database of the same server, or from whoever set the server up with LOGIN
-- and a password (docker/postgres-init/ in the compose stack). An existing role's attributes are
-- left as they are. To log in with it elsewhere:  ALTER ROLE lakehook_reader LOGIN PASSWORD '...';
--
-- Several databases of one server may migrate at the same moment (the test suite does): two
-- CREATE ROLE of the same name race on pg_authid's unique index, and the loser is told
-- unique_violation (or duplicate_object when the winner had committed first); both mean the role
-- is there.
--
-- A migrating user that may not create roles (neither superuser nor CREATEROLE) gets a warning
-- and no role; the grants below are then skipped: create the role and re-run this file's GRANTs.
--
-- The views are granted by name pattern, so the dora_* views of earlier migrations (0003, 0005,
-- 0012) are all covered; a later migration that creates or re-creates one grants it itself.
DO $migration$
DECLARE
    relation record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lakehook_reader') THEN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
            RAISE WARNING 'lakehook: % may not create roles, so lakehook_reader (read-only, for dashboards) was not created; see sql/migrations/0013_grafana_reader.sql', current_user;
            RETURN;
        END IF;
        BEGIN
            CREATE ROLE lakehook_reader NOLOGIN;
        EXCEPTION WHEN unique_violation OR duplicate_object THEN
            NULL;
        END;
    END IF;

    EXECUTE format('GRANT USAGE ON SCHEMA %I TO lakehook_reader', current_schema());
    GRANT SELECT ON
        boards, board_issues, issues, incidents, incident_assignees,
        cicd_pipelines, cicd_tasks, cicd_pipeline_commits, cicd_deployments, cicd_deployment_commits,
        pull_requests, cicd_scopes, repos, project_mapping,
        dora_settings
    TO lakehook_reader;
    FOR relation IN
        SELECT c.relname
        FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('v', 'm')
          AND c.relname LIKE 'dora\_%'
        ORDER BY c.relname
    LOOP
        EXECUTE format('GRANT SELECT ON %I TO lakehook_reader', relation.relname);
    END LOOP;
END
$migration$;
