-- Idempotency keys, each bound to the job it made (receiver/store/idempotency_keys.py,
-- receiver/submission/idempotency.py, docs/submitting.md).

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
