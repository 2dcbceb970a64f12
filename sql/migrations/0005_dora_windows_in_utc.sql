-- DORA windows given in SQL are read in UTC, whatever the caller's TimeZone, as DORA.md says ("a
-- date alone means midnight UTC") and as the CLI and HTTP read them.
--
-- 1. A window given as text ('2024-06-03', '2024-06-03 12:00', '2024-06-03T12:00:00+02:00') used
--    to become a timestamptz in the caller's session: with TimeZone = 'Asia/Tokyo', '2024-06-03'
--    was 2024-06-02 15:00 UTC. dora_report and dora_project_changes get versions that take text
--    and read it under TimeZone = 'UTC'. PostgreSQL picks them for quoted literals and untyped
--    parameters (it prefers the string category); timestamptz arguments (now(), Grafana's
--    $__timeFrom()) still go to the timestamptz versions, which need no reading.
-- 2. The default window, the last 30 days, was a parameter default, `now() - interval '30 days'`,
--    computed in the caller's TimeZone: 721 hours across the end of daylight-saving time. The
--    report itself is renamed dora_report_window, and dora_report becomes a wrapper that fills in
--    the defaults under its own TimeZone = 'UTC': to = now(), from = to - 30 days (so a window
--    given only its end is the 30 days before it, as in the CLI and HTTP). dora_report_window
--    keeps its old defaults (a function's defaults cannot be removed); nothing calls it without
--    both bounds.

ALTER FUNCTION dora_report(text, timestamptz, timestamptz) RENAME TO dora_report_window;

CREATE FUNCTION dora_report(project text, from_time timestamptz DEFAULT NULL, to_time timestamptz DEFAULT NULL)
RETURNS TABLE (
    metric text, value double precision, unit text, level text,
    numerator bigint, denominator bigint, ids text[]
)
LANGUAGE sql STABLE
SET TimeZone = 'UTC'
AS $$
    SELECT * FROM dora_report_window(
        project, COALESCE(from_time, COALESCE(to_time, now()) - interval '30 days'), COALESCE(to_time, now()))
$$;

CREATE FUNCTION dora_report(project text, from_time text, to_time text DEFAULT NULL)
RETURNS TABLE (
    metric text, value double precision, unit text, level text,
    numerator bigint, denominator bigint, ids text[]
)
LANGUAGE sql STABLE
SET TimeZone = 'UTC'
AS $$
    SELECT * FROM dora_report(project, from_time::timestamptz, to_time::timestamptz)
$$;

CREATE FUNCTION dora_project_changes(project text, from_time text, to_time text)
RETURNS TABLE (
    commit_sha varchar, deployment_id varchar, deployment_source text, deployed_date timestamptz,
    start_date timestamptz, start_source text, lead_time_hours double precision
)
LANGUAGE sql STABLE
SET TimeZone = 'UTC'
AS $$
    SELECT * FROM dora_project_changes(project, from_time::timestamptz, to_time::timestamptz)
$$;
