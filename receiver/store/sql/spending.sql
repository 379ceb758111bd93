-- What jobs cost, for the daily budget and the spending report (receiver/store/spending.py).
-- A job costs what the provider reserved for it, or our estimate until the provider says;
-- a submission the provider refused costs nothing; a job with neither is unpriced (counted
-- apart, its credits unknown, not 0).

-- name: lock_budget
-- Serialises budget checks: two submissions must not both fit in the day's last credits
-- (SQLite's BEGIN IMMEDIATE already serialises them).
SELECT 1 -- sqlite only
SELECT pg_advisory_xact_lock(7420112) -- postgresql only
;

-- name: credits_spent_since
SELECT COALESCE(SUM(COALESCE(credits_reserved, credits_estimated)), 0) AS credits
FROM jobs
WHERE created_at >= :since AND status <> 'submit_failed';

-- name: deleted_credits_since
-- What deleted jobs created since :since cost: they still count against the day's budget.
SELECT COALESCE(SUM(credits), 0) AS credits FROM deletions
WHERE job_created_at >= :since AND status <> 'submit_failed';

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
