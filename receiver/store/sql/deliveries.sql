-- The delivery log: receiver/store/deliveries.py (Deliveries).

-- name: insert_delivery
INSERT INTO deliveries (id, provider, source, job_id, task_id, provider_status, outcome, reason,
                        client_addr, headers, body, body_size, received_at)
VALUES (:id, :provider, :source, :job_id, :task_id, :provider_status, :outcome, :reason,
        :client_addr, :headers, :body, :body_size, :received_at);

-- name: get_delivery
SELECT * FROM deliveries WHERE id = :id;

-- name: list_deliveries
-- Newest first, every filter optional.
SELECT * FROM deliveries
WHERE (CAST(:job_id AS TEXT) IS NULL OR job_id = :job_id)
  AND (CAST(:outcome AS TEXT) IS NULL OR outcome = :outcome)
  AND (CAST(:task_id AS TEXT) IS NULL OR task_id = :task_id)
  AND (CAST(:since AS TEXT) IS NULL OR received_at >= :since)
ORDER BY received_at DESC, id DESC
LIMIT :limit;

-- name: list_job_deliveries
SELECT * FROM deliveries WHERE job_id = :job_id ORDER BY received_at, id;

-- name: failed_deliveries
-- What `receiver replay --failed` re-runs: original callbacks that were rejected while naming
-- a job, or whose job's archive (any of its results) failed after them. Keyset-paged by
-- (received_at, id). EXISTS, not a join: a job has an archive task per result, and a
-- delivery is listed once however many of them failed.
SELECT d.* FROM deliveries d
WHERE d.source = 'callback'
  AND d.job_id IS NOT NULL
  AND (d.outcome = 'rejected'
       OR (d.outcome IN ('accepted', 'duplicate')
           AND EXISTS (SELECT 1 FROM archive_tasks t
                       WHERE t.job_id = d.job_id AND t.state = 'failed')))
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

-- name: rejected_kept_from
-- When the newest :keep rejected deliveries begin: older ones go, whatever their age.
SELECT received_at FROM deliveries WHERE outcome = 'rejected'
ORDER BY received_at DESC LIMIT 1 OFFSET :keep;

-- name: purge_rejected_deliveries
-- Rejected requests are kept for a while to debug with, then forgotten, a small batch per
-- transaction so the write lock is never held long (valid deliveries are kept).
DELETE FROM deliveries WHERE id IN (
    SELECT id FROM deliveries WHERE outcome = 'rejected' AND received_at < :before
    ORDER BY received_at LIMIT :limit
);

-- name: delete_job_deliveries
DELETE FROM deliveries WHERE job_id = :job_id;
