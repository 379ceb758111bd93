-- The archive tasks (receiver/store/archive_tasks.py): the archiver's queue, its lease,
-- the journal of an upload's parts, and the asset an archive leaves; one of each per result
-- of a job's task, (job_id, result_index).

-- name: enqueue_archive
-- One archive task per result of a job, whatever the number of deliveries that ask for it.
INSERT INTO archive_tasks (job_id, result_index, result_count, media_kind, extension, state,
                           source_url, confirm_first, attempts, not_before, deadline_at,
                           created_at, updated_at)
VALUES (:job_id, :result_index, :result_count, :media_kind, :extension, 'queued', :source_url,
        :confirm_first, 0, :now, :deadline_at, :now, :now)
ON CONFLICT (job_id, result_index) DO NOTHING;

-- name: set_archive_source
-- The provider confirmed the task: download from the URL it gave, not the callback's.
UPDATE archive_tasks SET source_url = :source_url, confirm_first = 0, updated_at = :now
WHERE job_id = :job_id AND result_index = :result_index AND lease_owner = :owner;

-- name: claim_archive_task
-- The most urgent ready task (earliest link expiry first), or one whose worker's lease
-- lapsed. SKIP LOCKED: concurrent PostgreSQL workers each take a different task instead of
-- queueing on one (SQLite has one writer at a time anyway).
UPDATE archive_tasks
SET state = 'running', lease_owner = :owner, lease_expires_at = :lease_until,
    attempts = attempts + 1, updated_at = :now
WHERE (job_id, result_index) = (
    SELECT job_id, result_index FROM archive_tasks
    WHERE (state = 'queued' AND not_before <= :now)
       OR (state = 'running' AND lease_expires_at < :now)
    ORDER BY deadline_at, job_id, result_index
    LIMIT 1
    FOR UPDATE SKIP LOCKED -- postgresql only
)
RETURNING *;

-- name: set_archive_upload
-- A new multipart upload for the task: the journal of any earlier one is void.
UPDATE archive_tasks
SET upload_id = :upload_id, part_size = :part_size, source_validator = NULL, updated_at = :now
WHERE job_id = :job_id AND result_index = :result_index AND lease_owner = :owner;

-- name: set_source_validator
UPDATE archive_tasks SET source_validator = :validator, updated_at = :now
WHERE job_id = :job_id AND result_index = :result_index AND lease_owner = :owner;

-- name: journal_part
INSERT INTO upload_parts (job_id, result_index, part_number, etag, size_bytes)
VALUES (:job_id, :result_index, :part_number, :etag, :size_bytes)
ON CONFLICT (job_id, result_index, part_number) DO UPDATE SET etag = :etag, size_bytes = :size_bytes;

-- name: journaled_parts
SELECT part_number, etag, size_bytes FROM upload_parts
WHERE job_id = :job_id AND result_index = :result_index
ORDER BY part_number;

-- name: clear_journal
DELETE FROM upload_parts WHERE job_id = :job_id AND result_index = :result_index;

-- name: renew_archive_lease
UPDATE archive_tasks SET lease_expires_at = :lease_until, updated_at = :now
WHERE job_id = :job_id AND result_index = :result_index AND lease_owner = :owner
  AND state = 'running';

-- name: finish_archive_task
UPDATE archive_tasks
SET state = :state, last_error = :last_error, lease_owner = NULL, lease_expires_at = NULL,
    upload_id = NULL, updated_at = :now
WHERE job_id = :job_id AND result_index = :result_index AND lease_owner = :owner
  AND state = 'running';

-- name: retry_archive_task
UPDATE archive_tasks
SET state = 'queued', not_before = :not_before, last_error = :last_error,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
WHERE job_id = :job_id AND result_index = :result_index AND lease_owner = :owner
  AND state = 'running';

-- name: requeue_failed_archive
-- A completed delivery arrived again (a retry or a replay) for a job whose archive had
-- failed: try every failed result of it again from the start.
UPDATE archive_tasks
SET state = 'queued', attempts = 0, not_before = :now, last_error = NULL, updated_at = :now
WHERE job_id = :job_id AND state = 'failed';

-- name: reopen_archive
-- `receiver retry`: the failed or expired results of a job are queued again, with a new
-- deadline and, when we can ask the provider, a fresh link fetched first.
UPDATE archive_tasks
SET state = 'queued', attempts = 0, not_before = :now, deadline_at = :deadline_at,
    confirm_first = :confirm_first, last_error = NULL, lease_owner = NULL,
    lease_expires_at = NULL, updated_at = :now
WHERE job_id = :job_id AND state IN ('failed', 'expired');

-- name: archives_near_deadline
SELECT job_id, result_index, deadline_at, state, attempts, last_error FROM archive_tasks
WHERE state IN ('queued', 'running') AND deadline_warned_at IS NULL AND deadline_at < :horizon
ORDER BY deadline_at
LIMIT 500;

-- name: mark_deadline_warned
UPDATE archive_tasks SET deadline_warned_at = :now
WHERE job_id = :job_id AND result_index = :result_index AND deadline_warned_at IS NULL;

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
WHERE job_id = :job_id AND result_index = :result_index AND lease_owner = :owner
  AND state = 'running';

-- name: get_archive_task
SELECT * FROM archive_tasks WHERE job_id = :job_id AND result_index = :result_index;

-- name: list_archive_tasks
-- A job's archive tasks, one per result, in the results' order.
SELECT * FROM archive_tasks WHERE job_id = :job_id ORDER BY result_index;

-- name: count_unstored_results
-- The results of a job not stored yet: the job is stored when none is left.
SELECT count(*) AS n FROM archive_tasks WHERE job_id = :job_id AND state <> 'done';

-- name: delete_job_upload_parts
-- `receiver delete`: the journal, then the task (foreign keys).
DELETE FROM upload_parts WHERE job_id = :job_id;

-- name: delete_job_archive_task
DELETE FROM archive_tasks WHERE job_id = :job_id;

-- ── the asset an archive leaves (read through receiver/store/assets.py) ──

-- name: insert_asset
INSERT INTO assets (job_id, result_index, bucket, object_key, size_bytes, sha256, content_type,
                    etag, stored_at, duration_seconds, width, height, codec)
VALUES (:job_id, :result_index, :bucket, :object_key, :size_bytes, :sha256, :content_type, :etag,
        :now, :duration_seconds, :width, :height, :codec);
