-- The zone in which a connection reads dates that carry no offset (`2026-03-29 02:30:00`, as
-- Jenkins libraries format them in the JVM's zone): an IANA name that PostgreSQL knows
-- (pg_timezone_names), checked when it is set. UTC, as before this migration, unless set.
ALTER TABLE webhook_connections ADD COLUMN time_zone varchar(64) NOT NULL DEFAULT 'UTC';
