-- Notifications from a transactional outbox instead of a cursor over the event log.
-- A cursor over `events.seq` can skip an event on PostgreSQL: a sequence number is taken at
-- INSERT and becomes visible at COMMIT, so a reader may see seq 12 before seq 11 commits and
-- move past it. An outbox row written in the event's own transaction cannot be skipped.
CREATE TABLE notify_outbox (
    event_seq  BIGINT PRIMARY KEY,
    job_id     TEXT NOT NULL,
    type       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Final events the old cursor had not reached yet are carried over, so none is lost.
INSERT INTO notify_outbox (event_seq, job_id, type, created_at)
SELECT seq, job_id, type, created_at FROM events
WHERE seq > (SELECT seq FROM notify_cursor WHERE name = 'final_events')
  AND type IN ('asset.stored', 'job.failed', 'job.cancelled', 'job.expired', 'job.submit_failed');

DROP TABLE notify_cursor;

-- Which process holds a notification while it sends it (several workers may share a database).
ALTER TABLE notifications ADD COLUMN claimed_by TEXT;
