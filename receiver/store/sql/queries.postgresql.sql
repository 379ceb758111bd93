-- PostgreSQL versions of the queries that need its own features (see queries.sql).

-- name: lock_migrations
SELECT pg_advisory_xact_lock(7420111);

-- name: claim_archive_task
-- SKIP LOCKED: concurrent workers each take a different task instead of queueing on one.
UPDATE archive_tasks
SET state = 'running', lease_owner = :owner, lease_expires_at = :lease_until,
    attempts = attempts + 1, updated_at = :now
WHERE job_id = (
    SELECT job_id FROM archive_tasks
    WHERE (state = 'queued' AND not_before <= :now)
       OR (state = 'running' AND lease_expires_at < :now)
    ORDER BY deadline_at, job_id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING *;

-- name: lock_budget
-- Two submissions checking the daily budget at once must not both fit in its last credits.
SELECT pg_advisory_xact_lock(7420112);

-- name: take_outbox
-- SKIP LOCKED: two notifiers each take different events, neither waits on the other.
SELECT * FROM notify_outbox ORDER BY event_seq LIMIT :limit FOR UPDATE SKIP LOCKED;

-- name: claim_notifications
UPDATE notifications
SET claimed_by = :owner, next_attempt_at = :claim_until, updated_at = :now
WHERE id IN (
    SELECT id FROM notifications WHERE state = 'pending' AND next_attempt_at <= :now
    ORDER BY next_attempt_at LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
RETURNING *;
