-- The first schema: jobs, the raw delivery log, archive tasks, assets and the event log.
-- Timestamps are UTC ISO 8601 text of fixed width (see receiver/clock.py), so they sort and
-- compare as text on every backend. {{SERIAL_PK}} and {{BLOB}} are the two spellings that
-- differ between SQLite and PostgreSQL (see receiver/store/migrate.py).

CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    provider          TEXT NOT NULL,
    model             TEXT NOT NULL,
    prompt            TEXT NOT NULL,
    params            TEXT NOT NULL,            -- the validated request, JSON
    status            TEXT NOT NULL,            -- see receiver/lifecycle.py
    task_id           TEXT,                     -- the provider's id, once known
    provider_status   TEXT,                     -- the last raw status the provider sent
    progress          INTEGER,
    error_code        TEXT,
    error_message     TEXT,
    attention         TEXT,                     -- why a person should look, or NULL
    estimated_seconds INTEGER,
    credits_reserved  DOUBLE PRECISION,
    created_at        TEXT NOT NULL,
    submitted_at      TEXT,
    finished_at       TEXT,                     -- when the provider reported a final status
    stored_at         TEXT,
    updated_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX jobs_provider_task_id ON jobs (provider, task_id);
CREATE INDEX jobs_status ON jobs (status);

-- Every request to a callback route, accepted or not, and every replayed or reconciled
-- snapshot: the raw material for replays and for debugging a provider.
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    source          TEXT NOT NULL,              -- callback | replay | reconcile
    job_id          TEXT,                       -- no foreign key: a log may name jobs it never found
    task_id         TEXT,
    provider_status TEXT,
    outcome         TEXT NOT NULL,              -- accepted | duplicate | stale | unknown_status | rejected
    reason          TEXT,
    client_addr     TEXT,
    headers         TEXT NOT NULL,              -- JSON, secrets redacted
    body            {{BLOB}},                   -- raw bytes, capped
    body_size       INTEGER NOT NULL,
    received_at     TEXT NOT NULL
);
CREATE INDEX deliveries_job ON deliveries (job_id, received_at);
CREATE INDEX deliveries_outcome ON deliveries (outcome, received_at);

-- One row per job whose video must be fetched: the durable queue the workers claim from.
CREATE TABLE archive_tasks (
    job_id           TEXT PRIMARY KEY REFERENCES jobs (id),
    state            TEXT NOT NULL,             -- queued | running | done | failed | expired
    source_url       TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    not_before       TEXT NOT NULL,
    deadline_at      TEXT NOT NULL,             -- when the provider's link dies
    lease_owner      TEXT,
    lease_expires_at TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX archive_tasks_ready ON archive_tasks (state, deadline_at);

CREATE TABLE assets (
    job_id       TEXT PRIMARY KEY REFERENCES jobs (id),
    bucket       TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    etag         TEXT,
    stored_at    TEXT NOT NULL
);

-- Every change of a job, in order: the feed for live updates and notifications.
CREATE TABLE events (
    seq        {{SERIAL_PK}},
    job_id     TEXT NOT NULL REFERENCES jobs (id),
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,                   -- JSON
    created_at TEXT NOT NULL
);
CREATE INDEX events_job ON events (job_id, seq);
