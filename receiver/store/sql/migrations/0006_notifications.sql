-- Outbound notifications (Standard Webhooks), driven by durable rows like everything else.
CREATE TABLE subscriptions (
    url         TEXT PRIMARY KEY,
    disabled_at TEXT,                          -- set when the endpoint answered 410 Gone
    reason      TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,          -- the webhook-id, stable across retries
    url             TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    job_id          TEXT NOT NULL,
    type            TEXT NOT NULL,
    payload         TEXT NOT NULL,             -- the JSON sent, fixed at creation
    state           TEXT NOT NULL,             -- pending | delivered | failed | disabled
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX notifications_url_event ON notifications (url, event_seq);
CREATE INDEX notifications_due ON notifications (state, next_attempt_at);

-- How far the notifier has read the event log.
CREATE TABLE notify_cursor (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
