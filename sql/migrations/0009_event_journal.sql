-- Every ingest request that passed authentication, as it came (issue 16): the journal that
-- `lakehook events`, replay and export read. An accepted request's row is written by the same
-- statement (or transaction) as its domain rows, so it is here exactly when they are committed;
-- a refused one (4xx after authentication) is written on its own.
--
-- Partitioned by UTC day of arrival, so retention drops whole partitions
-- (`lakehook_journal_maintain`), never deletes row by row. The default partition catches a
-- row for a day that has no partition yet (maintenance not run for days, or a clock far ahead).
CREATE SEQUENCE webhook_events_id_seq AS bigint;

CREATE TABLE webhook_events (
    id bigint NOT NULL DEFAULT nextval('webhook_events_id_seq'),
    received_at timestamptz NOT NULL,
    connection_id bigint NOT NULL,
    -- The route below the connection, as its pattern: `deployments`, `issue/:issueKey/close`, …
    route varchar(64) NOT NULL,
    -- The path parameters below the connection (`{"issueKey": "I-1"}`).
    params jsonb NOT NULL DEFAULT '{}',
    request_id varchar(128) NOT NULL DEFAULT '',
    client_address varchar(64) NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    content_type text NOT NULL DEFAULT '',
    -- The body as JSON when it is JSON that PostgreSQL's jsonb takes, else as text (NULL: none).
    body jsonb,
    body_text text,
    status smallint NOT NULL,
    -- A refusal's message and causes, as its answer gave them.
    message text NOT NULL DEFAULT '',
    causes jsonb,
    -- From arrival until the write was handed to the database (a refusal: until its answer).
    duration_us bigint NOT NULL DEFAULT 0,
    idempotency_key varchar(255),
    outcome varchar(16) NOT NULL CHECK (outcome IN ('applied', 'stale', 'duplicate', 'refused')),
    PRIMARY KEY (received_at, id)
) PARTITION BY RANGE (received_at);

CREATE INDEX webhook_events_by_connection ON webhook_events (connection_id, received_at);
CREATE TABLE webhook_events_default PARTITION OF webhook_events DEFAULT;

-- An `Idempotency-Key` (or Standard Webhooks `webhook-id`) seen on a connection: the first
-- answer, given again for 24 hours to a request with the same key and body.
CREATE TABLE webhook_idempotency_keys (
    connection_id bigint NOT NULL,
    idempotency_key varchar(255) NOT NULL,
    -- SHA-256 of route, parameters and body, in hex: the same key with another request is a 422.
    request_sha256 char(64) NOT NULL,
    status smallint NOT NULL,
    answer text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (connection_id, idempotency_key)
);

-- Creates the partitions of yesterday to three days ahead, drops those older than `keep_days`
-- (0: keeps everything), and forgets idempotency keys older than a day. Safe to run from every
-- instance at once: one runs it, the others wait for it. A lock it cannot get within two seconds
-- (a long transaction on the journal) makes it fail and be tried again at the next run.
CREATE FUNCTION lakehook_journal_maintain(keep_days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    day date;
    partition_name text;
    dropped integer := 0;
    old record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('lakehook_journal_maintain'));
    SET LOCAL lock_timeout = '2s';
    FOR offset_days IN -1..3 LOOP
        day := today + offset_days;
        partition_name := 'webhook_events_' || to_char(day, 'YYYYMMDD');
        IF to_regclass(partition_name) IS NULL THEN
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF webhook_events FOR VALUES FROM (%L) TO (%L)',
                    partition_name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
            EXCEPTION WHEN check_violation THEN
                -- The default partition holds rows of that day already: they stay there, and
                -- the retention below deletes them in time.
                NULL;
            END;
        END IF;
    END LOOP;
    IF keep_days > 0 THEN
        FOR old IN
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'webhook_events'::regclass AND c.relname ~ '^webhook_events_[0-9]{8}$'
                AND to_date(substr(c.relname, 16), 'YYYYMMDD') < today - keep_days
        LOOP
            EXECUTE format('DROP TABLE %I', old.relname);
            dropped := dropped + 1;
        END LOOP;
        DELETE FROM webhook_events_default WHERE received_at < today::timestamp AT TIME ZONE 'UTC' - make_interval(days => keep_days);
    END IF;
    DELETE FROM webhook_idempotency_keys WHERE created_at < now() - interval '24 hours';
    RETURN dropped;
END $$;

SELECT lakehook_journal_maintain(0);
