-- Stored files: one row per stored result of a job (result_index 0, 1, ...).

-- name: list_assets
SELECT * FROM assets WHERE job_id = :job_id ORDER BY result_index;

-- name: stored_videos_before
-- The retention: the jobs whose first file was stored longest ago first, a batch at a time.
SELECT job_id FROM assets WHERE stored_at < :before
GROUP BY job_id ORDER BY MIN(stored_at), job_id LIMIT :limit;

-- name: delete_job_asset
DELETE FROM assets WHERE job_id = :job_id;
