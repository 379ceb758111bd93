-- The jobs table: receiver/store/jobs.py (Jobs). Status literals mirror receiver/lifecycle.py.

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

-- name: import_job
-- A task submitted elsewhere, adopted by `receiver import`: the unique (provider, task_id)
-- index makes a second import of the same task find the first one's job.
INSERT INTO jobs (id, provider, model, prompt, params, status, task_id, credits_reserved,
                  check_after, created_at, submitted_at, updated_at)
VALUES (:id, :provider, :model, :prompt, :params, 'pending', :task_id, :credits_reserved,
        :now, :created_at, :now, :now)
ON CONFLICT (provider, task_id) DO NOTHING;

-- name: list_jobs
-- Newest first; :before is an exclusive id cursor (ids sort by creation time).
SELECT j.*,
       a.bucket AS asset_bucket, a.object_key AS asset_object_key,
       a.size_bytes AS asset_size_bytes, a.sha256 AS asset_sha256,
       a.content_type AS asset_content_type, a.etag AS asset_etag,
       a.stored_at AS asset_stored_at, a.duration_seconds AS asset_duration_seconds,
       a.width AS asset_width, a.height AS asset_height, a.codec AS asset_codec
FROM jobs j LEFT JOIN assets a ON a.job_id = j.id AND a.result_index = 0
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

-- name: set_job_credits_estimated
-- Our price for the job, until the provider says what it reserved (receiver/store/spending.py).
UPDATE jobs SET credits_estimated = :credits WHERE id = :id;

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
-- A job's archive is told by its first failed or expired result (else its first result).
SELECT j.*, t.state AS archive_state, t.last_error AS archive_error
FROM jobs j LEFT JOIN archive_tasks t ON t.job_id = j.id AND t.result_index = (
    SELECT COALESCE(MIN(CASE WHEN u.state IN ('failed', 'expired') THEN u.result_index END), 0)
    FROM archive_tasks u WHERE u.job_id = j.id)
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

-- name: delete_job_row
-- Compare-and-set on the status read before the object was deleted: a job that moved on
-- meanwhile is left alone.
DELETE FROM jobs WHERE id = :id AND status = :status;

-- name: set_job_result_data
-- What the job's task returned that is no file (result_data without its media URLs, JSON).
UPDATE jobs SET result_data = :result_data, updated_at = :now WHERE id = :id;

-- name: lock_job
-- The archives of a job's results record their end one at a time (receiver/archive/attempt.py).
SELECT id FROM jobs WHERE id = :id
FOR UPDATE -- postgresql only
;
