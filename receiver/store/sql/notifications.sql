-- The notification outbox, the notifications made from it, and their subscribers
-- (receiver/store/notifications.py, receiver/notify.py).

-- ───────────────────────────── the outbox ─────────────────────────────

-- name: insert_outbox
-- A final event, in the transaction that appends it (receiver/events.py).
INSERT INTO notify_outbox (event_seq, job_id, type, created_at)
VALUES (:seq, :job_id, :type, :now);

-- name: take_outbox
-- The oldest final events not yet turned into notifications (PostgreSQL: SKIP LOCKED, so
-- two notifiers take different ones, neither waits on the other).
SELECT * FROM notify_outbox ORDER BY event_seq LIMIT :limit
FOR UPDATE SKIP LOCKED -- postgresql only
;

-- name: delete_outbox
DELETE FROM notify_outbox WHERE event_seq = :seq;

-- name: drop_stale_outbox
DELETE FROM notify_outbox WHERE created_at < :before;

-- name: delete_job_outbox
DELETE FROM notify_outbox WHERE job_id = :job_id;

-- ───────────────────────────── subscriptions ─────────────────────────────

-- name: add_subscription
INSERT INTO subscriptions (url, created_at) VALUES (:url, :now) ON CONFLICT (url) DO NOTHING;

-- name: disabled_subscriptions
SELECT url FROM subscriptions WHERE disabled_at IS NOT NULL;

-- name: disable_subscription
UPDATE subscriptions SET disabled_at = :now, reason = :reason WHERE url = :url;

-- ───────────────────────────── notifications ─────────────────────────────

-- name: insert_notification
INSERT INTO notifications (id, url, event_seq, job_id, type, payload, state, attempts,
                           next_attempt_at, created_at, updated_at)
VALUES (:id, :url, :event_seq, :job_id, :type, :payload, 'pending', 0, :now, :now, :now)
ON CONFLICT (url, event_seq) DO NOTHING;

-- name: claim_notifications
-- Due notifications, held by :owner until :claim_until: a process that dies while sending
-- lets its claim lapse, and another sends again with the same webhook-id.
UPDATE notifications
SET claimed_by = :owner, next_attempt_at = :claim_until, updated_at = :now
WHERE id IN (
    SELECT id FROM notifications WHERE state = 'pending' AND next_attempt_at <= :now
    ORDER BY next_attempt_at LIMIT :limit
    FOR UPDATE SKIP LOCKED -- postgresql only
)
RETURNING *;

-- name: notification_attempted
UPDATE notifications
SET state = :state, attempts = attempts + 1, next_attempt_at = :next_attempt_at,
    last_status = :last_status, last_error = :last_error, updated_at = :now, claimed_by = NULL
WHERE id = :id AND state = 'pending' AND claimed_by = :owner;

-- name: list_notifications
SELECT * FROM notifications
WHERE (CAST(:state AS TEXT) IS NULL OR state = :state)
ORDER BY created_at DESC, id DESC LIMIT :limit;

-- name: resend_notification
UPDATE notifications
SET state = 'pending', attempts = 0, next_attempt_at = :now, last_error = NULL, updated_at = :now,
    claimed_by = NULL
WHERE id = :id;

-- name: delete_job_notifications
DELETE FROM notifications WHERE job_id = :job_id;
