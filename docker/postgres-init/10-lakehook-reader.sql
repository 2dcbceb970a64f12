-- Run once by the postgres image when its data volume is new (/docker-entrypoint-initdb.d), before
-- Lakehook migrates: the read-only role Grafana logs in with. Migration 0013 finds it there and
-- grants it SELECT on the domain tables and the dora_* views, and nothing else.
-- A volume made before this file existed: run the ALTER ROLE of docs/DORA.md ("Grafana") once.
CREATE ROLE lakehook_reader LOGIN PASSWORD 'lakehook_reader';
