-- The audit of deleted jobs: receiver/store/deletions.py (Deletions).

-- name: insert_deletion
INSERT INTO deletions (job_id, provider, task_id, model, status, credits, job_created_at,
                       object_uri, size_bytes, sha256, deleted_by, reason, deleted_at)
VALUES (:job_id, :provider, :task_id, :model, :status, :credits, :job_created_at,
        :object_uri, :size_bytes, :sha256, :deleted_by, :reason, :now);

-- name: get_deletion
SELECT * FROM deletions WHERE job_id = :job_id;

-- name: list_deletions
SELECT * FROM deletions ORDER BY deleted_at DESC, job_id DESC LIMIT :limit;
