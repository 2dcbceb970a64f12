-- Issue 17, native sources: a connection may receive GitHub's, GitLab's, PagerDuty's or CDEvents'
-- own signed webhooks (`{prefix}/sources/<kind>/:connectionId`) instead of DevLake's JSON under
-- an API key.
--
-- The signing secret must be usable to compute HMACs, so it is stored as it is, retrievable:
-- anyone who can read this table can read the secrets (the API key stays hashed). Lakehook
-- never logs a secret, and shows it in no answer but the one that creates or rotates it.
ALTER TABLE webhook_connections
    ADD COLUMN source varchar(16) NOT NULL DEFAULT 'devlake'
        CHECK (source IN ('devlake', 'github', 'gitlab', 'pagerduty', 'cdevents')),
    ADD COLUMN signing_secret text,
    -- The secret before the last rotation, still accepted until `previous_secret_expires_at`.
    ADD COLUMN previous_signing_secret text,
    ADD COLUMN previous_secret_expires_at timestamptz,
    -- The source's mapping options: {"environments": {"prod-eu": "PRODUCTION"}, "incidentLabel": "incident"}.
    ADD COLUMN source_options jsonb NOT NULL DEFAULT '{}';

-- An event a source sends that Lakehook does not map is answered 202 and journaled `ignored`.
-- On the partitioned parent: the partitions' inherited constraints follow.
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_outcome_check;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_outcome_check
    CHECK (outcome IN ('applied', 'stale', 'duplicate', 'refused', 'ignored'));
