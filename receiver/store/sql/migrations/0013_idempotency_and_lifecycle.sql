-- Idempotent submissions, and the lifecycle of stored assets (docs/submitting.md,
-- docs/storage.md).

-- One row per idempotency key: the job it made and a digest of the request it was made for.
-- The primary key settles two identical submissions racing each other: one inserts, the
-- other finds the row. No foreign key: a key outlives `receiver delete` of its job, so a
-- re-run of a batch never pays again for a video someone deleted on purpose.
CREATE TABLE idempotency_keys (
    idempotency_key TEXT PRIMARY KEY,          -- scoped: 'submit:<client key>' or 'batch:<sha256>'
    fingerprint     TEXT NOT NULL,             -- SHA-256 of the request as checked
    job_id          TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

-- The audit of deletions: the job's row goes with `receiver delete` (and with the video
-- retention), this row stays and says what went, when, and who asked. Its credits still
-- count against the day's budget, so deleting jobs never frees budget.
CREATE TABLE deletions (
    job_id          TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    task_id         TEXT,
    model           TEXT NOT NULL,
    status          TEXT NOT NULL,             -- the job's status when it was deleted
    credits         DOUBLE PRECISION,          -- reserved, else estimated (NULL: unpriced)
    job_created_at  TEXT NOT NULL,
    object_uri      TEXT,                      -- the video that was deleted, if any
    size_bytes      BIGINT,
    sha256          TEXT,
    deleted_by      TEXT NOT NULL,             -- user@host, or 'retention (…)'
    reason          TEXT,
    deleted_at      TEXT NOT NULL
);
CREATE INDEX deletions_job_created_at ON deletions (job_created_at);

-- Staged first frames (RECEIVER_S3_INPUT_PREFIX) by their last use: a frame shared by many
-- jobs is kept until the last of them no longer needs it (RECEIVER_INPUT_RETENTION).
CREATE TABLE staged_inputs (
    object_key   TEXT PRIMARY KEY,
    last_used_at TEXT NOT NULL
);
CREATE INDEX staged_inputs_last_used ON staged_inputs (last_used_at);

-- The video retention finds stored videos by age.
CREATE INDEX assets_stored_at ON assets (stored_at);
