-- The event log: receiver/store/events.py (Events).

-- name: insert_event
INSERT INTO events (job_id, type, data, created_at) VALUES (:job_id, :type, :data, :now);

-- name: insert_final_event
-- A final event is also put in the notification outbox (notify_outbox), in its transaction.
INSERT INTO events (job_id, type, data, created_at) VALUES (:job_id, :type, :data, :now)
RETURNING seq;

-- name: get_event
SELECT * FROM events WHERE seq = :seq;

-- name: list_job_events
SELECT * FROM events WHERE job_id = :job_id ORDER BY seq;

-- name: events_after
-- The live feed: everything after :after, optionally one job's, oldest first.
SELECT * FROM events
WHERE seq > :after AND (CAST(:job_id AS TEXT) IS NULL OR job_id = :job_id)
ORDER BY seq
LIMIT :limit;

-- name: latest_event_seq
SELECT MAX(seq) AS seq FROM events;

-- name: delete_job_events
DELETE FROM events WHERE job_id = :job_id;
