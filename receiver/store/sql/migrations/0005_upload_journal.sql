-- The journal of an archive's multipart upload, so a worker killed mid-way (or stopped for a
-- restart) is resumed from its last completed part instead of starting over.
ALTER TABLE archive_tasks ADD COLUMN part_size BIGINT;
ALTER TABLE archive_tasks ADD COLUMN source_validator TEXT;

CREATE TABLE upload_parts (
    job_id      TEXT NOT NULL REFERENCES jobs (id),
    part_number INTEGER NOT NULL,
    etag        TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL,
    PRIMARY KEY (job_id, part_number)
);
