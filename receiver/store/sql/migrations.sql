-- The record of applied schema migrations (receiver/store/migrations.py, used by
-- receiver/store/migrate.py; the migrations themselves are in sql/migrations/).

-- name: applied_migrations
SELECT version FROM schema_migrations ORDER BY version;

-- name: lock_migrations
-- Serialises migrating processes (SQLite's BEGIN IMMEDIATE already does).
SELECT 1 -- sqlite only
SELECT pg_advisory_xact_lock(7420111) -- postgresql only
;

-- name: record_migration
INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :applied_at);
