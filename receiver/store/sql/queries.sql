-- Every query receiver runs, by name. Parameters are :name (see receiver/store/queries.py).
-- Status literals below mirror receiver/lifecycle.py.

-- name: applied_migrations
SELECT version FROM schema_migrations ORDER BY version;

-- name: lock_migrations
-- Serialises migrating processes (SQLite's BEGIN IMMEDIATE already does; see the override).
SELECT 1;

-- name: record_migration
INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :applied_at);

-- ───────────────────────────── jobs ─────────────────────────────

-- name: insert_job
INSERT INTO jobs (id, provider, model, prompt, params, status, created_at, updated_at)
VALUES (:id, :provider, :model, :prompt, :params, :status, :now, :now);

-- name: get_job
SELECT * FROM jobs WHERE id = :id;

-- name: get_job_state
-- What a callback needs to know of its job, and nothing more: read on every delivery.
SELECT id, status, task_id FROM jobs WHERE id = :id;

-- name: get_job_by_task
SELECT * FROM jobs WHERE provider = :provider AND task_id = :task_id;

-- name: adopt_external_job
-- A job submitted by other code, first heard of through a callback on an unbound URL.
-- The unique (provider, task_id) index makes concurrent first callbacks create one job.
INSERT INTO jobs (id, provider, model, prompt, params, status, task_id, created_at,
                  submitted_at, updated_at, adopted_via)
VALUES (:id, :provider, :model, :prompt, :params, 'pending', :task_id, :now, :now, :now,
        :adopted_via)
ON CONFLICT (provider, task_id) DO NOTHING;

-- name: count_adoptions
SELECT count(*) AS n FROM jobs WHERE adopted_via = :adopted_via AND created_at >= :since;

-- name: list_jobs
-- Newest first; :before is an exclusive id cursor (ids sort by creation time).
SELECT j.*,
       a.bucket AS asset_bucket, a.object_key AS asset_object_key,
       a.size_bytes AS asset_size_bytes, a.sha256 AS asset_sha256,
       a.content_type AS asset_content_type, a.etag AS asset_etag,
       a.stored_at AS asset_stored_at, a.duration_seconds AS asset_duration_seconds,
       a.width AS asset_width, a.height AS asset_height, a.codec AS asset_codec
FROM jobs j LEFT JOIN assets a ON a.job_id = j.id
WHERE (CAST(:status AS TEXT) IS NULL OR j.status = :status)
  AND (CAST(:model AS TEXT) IS NULL OR j.model = :model)
  AND (CAST(:since AS TEXT) IS NULL OR j.created_at >= :since)
  AND (CAST(:before AS TEXT) IS NULL OR j.id < :before)
ORDER BY j.id DESC
LIMIT :limit;

-- name: count_jobs
-- How many jobs list_jobs would show over all its pages ("50 of 1234 shown").
SELECT count(*) AS n FROM jobs j
WHERE (CAST(:status AS TEXT) IS NULL OR j.status = :status)
  AND (CAST(:model AS TEXT) IS NULL OR j.model = :model)
  AND (CAST(:since AS TEXT) IS NULL OR j.created_at >= :since);

-- name: mark_job_submitted
-- The provider accepted the task. A callback may have beaten this answer and moved the
-- job on already; then only the facts are filled in, the status stays where it is.
UPDATE jobs
SET task_id = COALESCE(task_id, :task_id),
    status = CASE WHEN status IN ('submitting', 'submit_failed') THEN 'pending' ELSE status END,
    provider_status = COALESCE(provider_status, :provider_status),
    estimated_seconds = :estimated_seconds,
    credits_reserved = :credits_reserved,
    -- a create retried after submit_failed clears the old refusal, never a callback's reason
    error_code = CASE WHEN status = 'submit_failed' THEN NULL ELSE error_code END,
    error_message = CASE WHEN status = 'submit_failed' THEN NULL ELSE error_message END,
    check_after = :check_after,
    submitted_at = :now, updated_at = :now
WHERE id = :id;

-- name: due_for_check
-- Jobs whose callback is overdue: the watchdog asks the provider about them. check_after
-- starts as the provider's estimate, and the first question waits a grace period more
-- (:first_due = now - grace); after that it is the backoff's next time.
SELECT * FROM jobs
WHERE status IN ('pending', 'processing') AND task_id IS NOT NULL
  AND ((check_attempts = 0 AND check_after <= :first_due)
       OR (check_attempts > 0 AND check_after <= :now))
ORDER BY check_after
LIMIT :limit;

-- name: running_jobs_submitted_before
SELECT * FROM jobs
WHERE status IN ('pending', 'processing') AND task_id IS NOT NULL AND submitted_at <= :before
ORDER BY submitted_at
LIMIT :limit;

-- name: postpone_check
UPDATE jobs SET check_after = :check_after, check_attempts = check_attempts + 1, updated_at = :now
WHERE id = :id;

-- name: needs_attention
-- What a person must look at: flagged jobs, failed archives, overdue callbacks, and
-- submissions that never got an answer from the provider.
SELECT j.*, t.state AS archive_state, t.last_error AS archive_error
FROM jobs j LEFT JOIN archive_tasks t ON t.job_id = j.id
WHERE j.attention IS NOT NULL
   OR t.state IN ('failed', 'expired')
   OR (j.status IN ('pending', 'processing') AND j.check_after <= :overdue_before)
   OR (j.status = 'submitting' AND j.created_at <= :stuck_before)
ORDER BY j.id DESC
LIMIT :limit;

-- name: reopen_expired_job
UPDATE jobs SET status = 'completed', attention = NULL, updated_at = :now
WHERE id = :id AND status = 'expired';

-- name: mark_job_submit_failed
UPDATE jobs
SET status = 'submit_failed', error_code = :error_code, error_message = :error_message,
    updated_at = :now
WHERE id = :id AND status = 'submitting';

-- name: set_job_task_id
-- A job whose task id was never written (its submission's answer was lost) learns it from
-- a callback that its own token vouches for.
UPDATE jobs SET task_id = :task_id WHERE id = :id AND task_id IS NULL;

-- name: advance_job
-- Compare-and-set: moves the job only if nobody moved it since we read :from.
UPDATE jobs
SET status = :to,
    provider_status = :provider_status,
    progress = COALESCE(:progress, progress),
    error_code = COALESCE(:error_code, error_code),
    error_message = COALESCE(:error_message, error_message),
    finished_at = COALESCE(:finished_at, finished_at),
    updated_at = :now
WHERE id = :id AND status = :from;

-- name: flag_job
UPDATE jobs SET attention = :attention, updated_at = :now WHERE id = :id;

-- name: mark_job_stored
UPDATE jobs SET status = 'stored', stored_at = :now, attention = NULL, updated_at = :now
WHERE id = :id AND status = 'completed';

-- name: mark_job_expired
UPDATE jobs SET status = 'expired', attention = :attention, updated_at = :now
WHERE id = :id AND status = 'completed';

-- ───────────────────────────── deliveries ─────────────────────────────

-- name: insert_delivery
INSERT INTO deliveries (id, provider, source, job_id, task_id, provider_status, outcome, reason,
                        client_addr, headers, body, body_size, received_at)
VALUES (:id, :provider, :source, :job_id, :task_id, :provider_status, :outcome, :reason,
        :client_addr, :headers, :body, :body_size, :received_at);

-- name: list_deliveries
-- Newest first, every filter optional.
SELECT * FROM deliveries
WHERE (CAST(:job_id AS TEXT) IS NULL OR job_id = :job_id)
  AND (CAST(:outcome AS TEXT) IS NULL OR outcome = :outcome)
  AND (CAST(:task_id AS TEXT) IS NULL OR task_id = :task_id)
  AND (CAST(:since AS TEXT) IS NULL OR received_at >= :since)
ORDER BY received_at DESC, id DESC
LIMIT :limit;

-- name: purge_rejected_deliveries
-- Rejected requests are kept for a while to debug with, then forgotten, a small batch per
-- transaction so the write lock is never held long (valid deliveries are kept).
DELETE FROM deliveries WHERE id IN (
    SELECT id FROM deliveries WHERE outcome = 'rejected' AND received_at < :before
    ORDER BY received_at LIMIT :limit
);

-- name: rejected_kept_from
-- When the newest :keep rejected deliveries begin: older ones go, whatever their age.
SELECT received_at FROM deliveries WHERE outcome = 'rejected'
ORDER BY received_at DESC LIMIT 1 OFFSET :keep;

-- name: get_delivery
SELECT * FROM deliveries WHERE id = :id;

-- name: failed_deliveries
-- What `receiver replay --failed` re-runs: original callbacks that were rejected while naming
-- a job, or whose job's archive failed after them. Keyset-paged by (received_at, id).
SELECT d.* FROM deliveries d
LEFT JOIN archive_tasks t ON t.job_id = d.job_id
WHERE d.source = 'callback'
  AND d.job_id IS NOT NULL
  AND (d.outcome = 'rejected' OR (d.outcome IN ('accepted', 'duplicate') AND t.state = 'failed'))
  AND (CAST(:job_id AS TEXT) IS NULL OR d.job_id = :job_id)
  AND (CAST(:since AS TEXT) IS NULL OR d.received_at >= :since)
  AND (d.received_at > :after_at OR (d.received_at = :after_at AND d.id > :after_id))
ORDER BY d.received_at, d.id
LIMIT :limit;

-- name: suspicious_rejections
-- Rejected deliveries that look like ours: they name one of our jobs or tasks.
SELECT d.* FROM deliveries d
WHERE d.outcome = 'rejected' AND d.source = 'callback' AND d.received_at >= :since
  AND (d.job_id IS NOT NULL
       OR EXISTS (SELECT 1 FROM jobs j WHERE j.task_id = d.task_id AND j.provider = d.provider))
ORDER BY d.received_at DESC
LIMIT :limit;

-- name: list_job_deliveries
SELECT * FROM deliveries WHERE job_id = :job_id ORDER BY received_at, id;

-- ───────────────────────────── archive tasks ─────────────────────────────

-- name: enqueue_archive
-- One archive task per job, whatever the number of deliveries that ask for it.
INSERT INTO archive_tasks (job_id, state, source_url, confirm_first, attempts, not_before,
                           deadline_at, created_at, updated_at)
VALUES (:job_id, 'queued', :source_url, :confirm_first, 0, :now, :deadline_at, :now, :now)
ON CONFLICT (job_id) DO NOTHING;

-- name: set_archive_source
-- The provider confirmed the task: download from the URL it gave, not the callback's.
UPDATE archive_tasks SET source_url = :source_url, confirm_first = 0, updated_at = :now
WHERE job_id = :job_id AND lease_owner = :owner;

-- name: claim_archive_task
-- The most urgent ready task (earliest link expiry first), or one whose worker's lease
-- lapsed. PostgreSQL overrides this with FOR UPDATE SKIP LOCKED.
UPDATE archive_tasks
SET state = 'running', lease_owner = :owner, lease_expires_at = :lease_until,
    attempts = attempts + 1, updated_at = :now
WHERE job_id = (
    SELECT job_id FROM archive_tasks
    WHERE (state = 'queued' AND not_before <= :now)
       OR (state = 'running' AND lease_expires_at < :now)
    ORDER BY deadline_at, job_id
    LIMIT 1
)
RETURNING *;

-- name: set_archive_upload
-- A new multipart upload for the task: the journal of any earlier one is void.
UPDATE archive_tasks
SET upload_id = :upload_id, part_size = :part_size, source_validator = NULL, updated_at = :now
WHERE job_id = :job_id AND lease_owner = :owner;

-- name: set_source_validator
UPDATE archive_tasks SET source_validator = :validator, updated_at = :now
WHERE job_id = :job_id AND lease_owner = :owner;

-- name: journal_part
INSERT INTO upload_parts (job_id, part_number, etag, size_bytes)
VALUES (:job_id, :part_number, :etag, :size_bytes)
ON CONFLICT (job_id, part_number) DO UPDATE SET etag = :etag, size_bytes = :size_bytes;

-- name: journaled_parts
SELECT part_number, etag, size_bytes FROM upload_parts WHERE job_id = :job_id
ORDER BY part_number;

-- name: clear_journal
DELETE FROM upload_parts WHERE job_id = :job_id;

-- name: renew_archive_lease
UPDATE archive_tasks SET lease_expires_at = :lease_until, updated_at = :now
WHERE job_id = :job_id AND lease_owner = :owner AND state = 'running';

-- name: finish_archive_task
UPDATE archive_tasks
SET state = :state, last_error = :last_error, lease_owner = NULL, lease_expires_at = NULL,
    upload_id = NULL, updated_at = :now
WHERE job_id = :job_id AND lease_owner = :owner AND state = 'running';

-- name: retry_archive_task
UPDATE archive_tasks
SET state = 'queued', not_before = :not_before, last_error = :last_error,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
WHERE job_id = :job_id AND lease_owner = :owner AND state = 'running';

-- name: requeue_failed_archive
-- A completed delivery arrived again (a retry or a replay) for a job whose archive had
-- failed: try the archive again from the start.
UPDATE archive_tasks
SET state = 'queued', attempts = 0, not_before = :now, last_error = NULL, updated_at = :now
WHERE job_id = :job_id AND state = 'failed';

-- name: reopen_archive
-- `receiver retry`: a failed or expired archive is queued again, with a new deadline and,
-- when we can ask the provider, a fresh link fetched first.
UPDATE archive_tasks
SET state = 'queued', attempts = 0, not_before = :now, deadline_at = :deadline_at,
    confirm_first = :confirm_first, last_error = NULL, lease_owner = NULL,
    lease_expires_at = NULL, updated_at = :now
WHERE job_id = :job_id AND state IN ('failed', 'expired');

-- name: archives_near_deadline
SELECT job_id, deadline_at, state, attempts, last_error FROM archive_tasks
WHERE state IN ('queued', 'running') AND deadline_warned_at IS NULL AND deadline_at < :horizon
ORDER BY deadline_at
LIMIT 500;

-- name: mark_deadline_warned
UPDATE archive_tasks SET deadline_warned_at = :now
WHERE job_id = :job_id AND deadline_warned_at IS NULL;

-- name: archive_queue_state
SELECT SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END) AS queued,
       SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END) AS running,
       MIN(CASE WHEN state IN ('queued', 'running') THEN deadline_at END) AS earliest_deadline
FROM archive_tasks;

-- name: release_archive_task
-- A worker shutting down hands its task back at once (the attempt does not count); the
-- upload stays open and journaled, for the next worker to resume.
UPDATE archive_tasks
SET state = 'queued', not_before = :now, attempts = attempts - 1, lease_owner = NULL,
    lease_expires_at = NULL, updated_at = :now
WHERE job_id = :job_id AND lease_owner = :owner AND state = 'running';

-- name: get_archive_task
SELECT * FROM archive_tasks WHERE job_id = :job_id;

-- ───────────────────────────── assets ─────────────────────────────

-- name: insert_asset
INSERT INTO assets (job_id, bucket, object_key, size_bytes, sha256, content_type, etag, stored_at,
                    duration_seconds, width, height, codec)
VALUES (:job_id, :bucket, :object_key, :size_bytes, :sha256, :content_type, :etag, :now,
        :duration_seconds, :width, :height, :codec);

-- name: get_asset
SELECT * FROM assets WHERE job_id = :job_id;

-- ───────────────────────────── events ─────────────────────────────

-- name: insert_event
INSERT INTO events (job_id, type, data, created_at) VALUES (:job_id, :type, :data, :now);

-- name: insert_final_event
-- A final event is also put in the notification outbox (notify_outbox), in its transaction.
INSERT INTO events (job_id, type, data, created_at) VALUES (:job_id, :type, :data, :now)
RETURNING seq;

-- name: insert_outbox
INSERT INTO notify_outbox (event_seq, job_id, type, created_at)
VALUES (:seq, :job_id, :type, :now);

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

-- ───────────────────────────── notifications ─────────────────────────────

-- name: add_subscription
INSERT INTO subscriptions (url, created_at) VALUES (:url, :now) ON CONFLICT (url) DO NOTHING;

-- name: disabled_subscriptions
SELECT url FROM subscriptions WHERE disabled_at IS NOT NULL;

-- name: disable_subscription
UPDATE subscriptions SET disabled_at = :now, reason = :reason WHERE url = :url;

-- name: latest_event_seq
SELECT MAX(seq) AS seq FROM events;

-- name: take_outbox
-- The oldest final events not yet turned into notifications (PostgreSQL: SKIP LOCKED, so
-- two notifiers take different ones).
SELECT * FROM notify_outbox ORDER BY event_seq LIMIT :limit;

-- name: delete_outbox
DELETE FROM notify_outbox WHERE event_seq = :seq;

-- name: drop_stale_outbox
DELETE FROM notify_outbox WHERE created_at < :before;

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

-- ───────────────────────────── sessions ─────────────────────────────
-- The gallery's sign-ins (receiver/web/sessions.py); :id is a keyed hash of the cookie.

-- name: insert_session
INSERT INTO sessions (id, created_at, expires_at) VALUES (:id, :created_at, :expires_at);

-- name: live_session
SELECT expires_at FROM sessions WHERE id = :id AND expires_at > :now;

-- name: delete_session
DELETE FROM sessions WHERE id = :id;

-- name: delete_expired_sessions
DELETE FROM sessions WHERE expires_at <= :now;

-- ───────────────────────────── costs ─────────────────────────────
-- A job costs what the provider reserved for it, or our estimate until the provider says;
-- a submission the provider refused costs nothing; a job with neither is unpriced (counted
-- apart, its credits unknown, not 0).

-- name: set_job_credits_estimated
UPDATE jobs SET credits_estimated = :credits WHERE id = :id;

-- name: lock_budget
-- Serialises budget checks (SQLite's BEGIN IMMEDIATE already does; see the override).
SELECT 1;

-- name: credits_spent_since
SELECT COALESCE(SUM(COALESCE(credits_reserved, credits_estimated)), 0) AS credits
FROM jobs
WHERE created_at >= :since AND status <> 'submit_failed';

-- name: costs_by_model
SELECT model AS key, COUNT(*) AS jobs,
       COALESCE(SUM(COALESCE(credits_reserved, credits_estimated)), 0) AS credits,
       SUM(CASE WHEN credits_reserved IS NULL AND credits_estimated IS NOT NULL
                THEN 1 ELSE 0 END) AS estimated_jobs,
       SUM(CASE WHEN credits_reserved IS NULL AND credits_estimated IS NULL
                THEN 1 ELSE 0 END) AS unpriced_jobs
FROM jobs
WHERE created_at >= :since AND status <> 'submit_failed'
GROUP BY model
ORDER BY model;

-- name: costs_by_day
-- The day is the UTC date of the job's creation: the first 10 characters of created_at.
SELECT SUBSTR(created_at, 1, 10) AS key, COUNT(*) AS jobs,
       COALESCE(SUM(COALESCE(credits_reserved, credits_estimated)), 0) AS credits,
       SUM(CASE WHEN credits_reserved IS NULL AND credits_estimated IS NOT NULL
                THEN 1 ELSE 0 END) AS estimated_jobs,
       SUM(CASE WHEN credits_reserved IS NULL AND credits_estimated IS NULL
                THEN 1 ELSE 0 END) AS unpriced_jobs
FROM jobs
WHERE created_at >= :since AND status <> 'submit_failed'
GROUP BY SUBSTR(created_at, 1, 10)
ORDER BY key;

-- ───────────────────────────── idempotency, deletion, retention, import ─────────────────────────────
-- receiver/submission/idempotency.py, receiver/deletion.py, receiver/retention.py,
-- receiver/importing.py (docs/submitting.md, docs/storage.md).

-- name: claim_idempotency_key
-- The primary key settles a race: of two identical submissions one inserts, the other waits
-- for its commit (PostgreSQL) or its write lock (SQLite) and changes nothing.
INSERT INTO idempotency_keys (idempotency_key, fingerprint, job_id, created_at)
VALUES (:key, :fingerprint, :job_id, :now)
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: get_idempotency_key
SELECT k.idempotency_key, k.fingerprint, k.job_id, k.created_at, j.status AS job_status,
       d.deleted_at AS job_deleted_at
FROM idempotency_keys k
LEFT JOIN jobs j ON j.id = k.job_id
LEFT JOIN deletions d ON d.job_id = k.job_id
WHERE k.idempotency_key = :key;

-- name: release_idempotency_key
-- The provider refused the job outright (nothing was created): the key may be used again.
DELETE FROM idempotency_keys WHERE idempotency_key = :key AND job_id = :job_id;

-- name: deleted_credits_since
-- What deleted jobs created since :since cost: they still count against the day's budget.
SELECT COALESCE(SUM(credits), 0) AS credits FROM deletions
WHERE job_created_at >= :since AND status <> 'submit_failed';

-- name: insert_deletion
INSERT INTO deletions (job_id, provider, task_id, model, status, credits, job_created_at,
                       object_uri, size_bytes, sha256, deleted_by, reason, deleted_at)
VALUES (:job_id, :provider, :task_id, :model, :status, :credits, :job_created_at,
        :object_uri, :size_bytes, :sha256, :deleted_by, :reason, :now);

-- name: list_deletions
SELECT * FROM deletions ORDER BY deleted_at DESC, job_id DESC LIMIT :limit;

-- name: get_deletion
SELECT * FROM deletions WHERE job_id = :job_id;

-- name: delete_job_outbox
DELETE FROM notify_outbox WHERE job_id = :job_id;

-- name: delete_job_notifications
DELETE FROM notifications WHERE job_id = :job_id;

-- name: delete_job_events
DELETE FROM events WHERE job_id = :job_id;

-- name: delete_job_deliveries
DELETE FROM deliveries WHERE job_id = :job_id;

-- name: delete_job_upload_parts
DELETE FROM upload_parts WHERE job_id = :job_id;

-- name: delete_job_archive_task
DELETE FROM archive_tasks WHERE job_id = :job_id;

-- name: delete_job_asset
DELETE FROM assets WHERE job_id = :job_id;

-- name: delete_job_row
-- Compare-and-set on the status read before the object was deleted: a job that moved on
-- meanwhile is left alone.
DELETE FROM jobs WHERE id = :id AND status = :status;

-- name: stored_videos_before
-- The video retention: the oldest stored videos first, a batch at a time.
SELECT job_id FROM assets WHERE stored_at < :before ORDER BY stored_at, job_id LIMIT :limit;

-- name: touch_staged_input
INSERT INTO staged_inputs (object_key, last_used_at) VALUES (:key, :now)
ON CONFLICT (object_key) DO UPDATE SET last_used_at = :now;

-- name: get_staged_input
SELECT last_used_at FROM staged_inputs WHERE object_key = :key;

-- name: forget_staged_input
DELETE FROM staged_inputs WHERE object_key = :key AND last_used_at < :before;

-- name: import_job
-- A task submitted elsewhere, adopted by `receiver import`: the unique (provider, task_id)
-- index makes a second import of the same task find the first one's job.
INSERT INTO jobs (id, provider, model, prompt, params, status, task_id, credits_reserved,
                  check_after, created_at, submitted_at, updated_at)
VALUES (:id, :provider, :model, :prompt, :params, 'pending', :task_id, :credits_reserved,
        :now, :created_at, :now, :now)
ON CONFLICT (provider, task_id) DO NOTHING;
