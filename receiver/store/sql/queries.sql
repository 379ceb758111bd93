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

-- name: get_job_by_task
SELECT * FROM jobs WHERE provider = :provider AND task_id = :task_id;

-- name: adopt_external_job
-- A job submitted by other code, first heard of through a callback on an unbound URL.
-- The unique (provider, task_id) index makes concurrent first callbacks create one job.
INSERT INTO jobs (id, provider, model, prompt, params, status, task_id, created_at,
                  submitted_at, updated_at)
VALUES (:id, :provider, :model, :prompt, :params, 'pending', :task_id, :now, :now, :now)
ON CONFLICT (provider, task_id) DO NOTHING;

-- name: list_jobs
-- Newest first; :before is an exclusive id cursor (ids sort by creation time).
SELECT j.*,
       a.bucket AS asset_bucket, a.object_key AS asset_object_key,
       a.size_bytes AS asset_size_bytes, a.sha256 AS asset_sha256,
       a.content_type AS asset_content_type, a.etag AS asset_etag,
       a.stored_at AS asset_stored_at
FROM jobs j LEFT JOIN assets a ON a.job_id = j.id
WHERE (CAST(:status AS TEXT) IS NULL OR j.status = :status)
  AND (CAST(:before AS TEXT) IS NULL OR j.id < :before)
ORDER BY j.id DESC
LIMIT :limit;

-- name: mark_job_submitted
-- The provider accepted the task. A callback may have beaten this answer and moved the
-- job on already; then only the facts are filled in, the status stays where it is.
UPDATE jobs
SET task_id = COALESCE(task_id, :task_id),
    status = CASE WHEN status IN ('submitting', 'submit_failed') THEN 'pending' ELSE status END,
    provider_status = COALESCE(provider_status, :provider_status),
    estimated_seconds = :estimated_seconds,
    credits_reserved = :credits_reserved,
    error_code = NULL, error_message = NULL,
    submitted_at = :now, updated_at = :now
WHERE id = :id;

-- name: mark_job_submit_failed
UPDATE jobs
SET status = 'submit_failed', error_code = :error_code, error_message = :error_message,
    updated_at = :now
WHERE id = :id AND status = 'submitting';

-- name: advance_job
-- Compare-and-set: moves the job only if nobody moved it since we read :from.
UPDATE jobs
SET status = :to,
    task_id = COALESCE(task_id, :task_id),
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
-- Rejected requests are kept for a while to debug with, then forgotten, so junk sent to
-- the callback routes cannot grow the log without bound. Valid deliveries are kept.
DELETE FROM deliveries WHERE outcome = 'rejected' AND received_at < :before;

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

-- name: renew_archive_lease
UPDATE archive_tasks SET lease_expires_at = :lease_until, updated_at = :now
WHERE job_id = :job_id AND lease_owner = :owner AND state = 'running';

-- name: finish_archive_task
UPDATE archive_tasks
SET state = :state, last_error = :last_error, lease_owner = NULL, lease_expires_at = NULL,
    updated_at = :now
WHERE job_id = :job_id AND lease_owner = :owner AND state = 'running';

-- name: retry_archive_task
UPDATE archive_tasks
SET state = 'queued', not_before = :not_before, last_error = :last_error,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
WHERE job_id = :job_id AND lease_owner = :owner AND state = 'running';

-- name: get_archive_task
SELECT * FROM archive_tasks WHERE job_id = :job_id;

-- name: next_archive_wakeup
SELECT MIN(not_before) AS at FROM archive_tasks WHERE state = 'queued';

-- ───────────────────────────── assets ─────────────────────────────

-- name: insert_asset
INSERT INTO assets (job_id, bucket, object_key, size_bytes, sha256, content_type, etag, stored_at)
VALUES (:job_id, :bucket, :object_key, :size_bytes, :sha256, :content_type, :etag, :now);

-- name: get_asset
SELECT * FROM assets WHERE job_id = :job_id;

-- ───────────────────────────── events ─────────────────────────────

-- name: insert_event
INSERT INTO events (job_id, type, data, created_at) VALUES (:job_id, :type, :data, :now);

-- name: list_job_events
SELECT * FROM events WHERE job_id = :job_id ORDER BY seq;
