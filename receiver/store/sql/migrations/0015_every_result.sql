-- Every result of a task, exactly once (docs/storage.md): an archive task, its journal and its
-- asset per (job, result index), the rows of before becoming index 0 of a one-result job. The
-- task also keeps what the intake decided of the result (its kind and its key's extension,
-- how many results the job has) so that every attempt aims at the same object; the job keeps
-- what its task returned that is no file (result_data without its media URLs, JSON).
-- SQLite changes a primary key only by rebuilding the table, and so the same is done on
-- PostgreSQL (whose trigger on archive_tasks, dropped with the old table, 0016 puts back).
ALTER TABLE jobs ADD COLUMN result_data TEXT;

CREATE TABLE archive_tasks_by_result (
    job_id             TEXT NOT NULL REFERENCES jobs (id),
    result_index       INTEGER NOT NULL DEFAULT 0,
    result_count       INTEGER NOT NULL DEFAULT 1,
    media_kind         TEXT NOT NULL DEFAULT 'video',  -- video | image | audio
    extension          TEXT NOT NULL DEFAULT 'mp4',
    state              TEXT NOT NULL,                  -- queued | running | done | failed | expired
    source_url         TEXT NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    not_before         TEXT NOT NULL,
    deadline_at        TEXT NOT NULL,                  -- when the provider's link dies
    lease_owner        TEXT,
    lease_expires_at   TEXT,
    last_error         TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    confirm_first      INTEGER NOT NULL DEFAULT 0,
    upload_id          TEXT,
    part_size          BIGINT,
    source_validator   TEXT,
    deadline_warned_at TEXT,
    PRIMARY KEY (job_id, result_index)
);
INSERT INTO archive_tasks_by_result (job_id, state, source_url, attempts, not_before, deadline_at,
    lease_owner, lease_expires_at, last_error, created_at, updated_at, confirm_first, upload_id,
    part_size, source_validator, deadline_warned_at)
SELECT job_id, state, source_url, attempts, not_before, deadline_at, lease_owner,
    lease_expires_at, last_error, created_at, updated_at, confirm_first, upload_id, part_size,
    source_validator, deadline_warned_at
FROM archive_tasks;
DROP TABLE archive_tasks;
ALTER TABLE archive_tasks_by_result RENAME TO archive_tasks;
CREATE INDEX archive_tasks_ready ON archive_tasks (state, deadline_at);

CREATE TABLE assets_by_result (
    job_id           TEXT NOT NULL REFERENCES jobs (id),
    result_index     INTEGER NOT NULL DEFAULT 0,
    bucket           TEXT NOT NULL,
    object_key       TEXT NOT NULL,
    size_bytes       BIGINT NOT NULL,
    sha256           TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    etag             TEXT,
    stored_at        TEXT NOT NULL,
    duration_seconds DOUBLE PRECISION,
    width            INTEGER,
    height           INTEGER,
    codec            TEXT,
    PRIMARY KEY (job_id, result_index)
);
INSERT INTO assets_by_result (job_id, bucket, object_key, size_bytes, sha256, content_type, etag,
    stored_at, duration_seconds, width, height, codec)
SELECT job_id, bucket, object_key, size_bytes, sha256, content_type, etag, stored_at,
    duration_seconds, width, height, codec
FROM assets;
DROP TABLE assets;
ALTER TABLE assets_by_result RENAME TO assets;
CREATE INDEX assets_stored_at ON assets (stored_at);

CREATE TABLE upload_parts_by_result (
    job_id       TEXT NOT NULL REFERENCES jobs (id),
    result_index INTEGER NOT NULL DEFAULT 0,
    part_number  INTEGER NOT NULL,
    etag         TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    PRIMARY KEY (job_id, result_index, part_number)
);
INSERT INTO upload_parts_by_result (job_id, part_number, etag, size_bytes)
SELECT job_id, part_number, etag, size_bytes FROM upload_parts;
DROP TABLE upload_parts;
ALTER TABLE upload_parts_by_result RENAME TO upload_parts;
