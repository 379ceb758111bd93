-- Gallery sessions, kept on the server so that signing out and a new RECEIVER_ADMIN_TOKEN
-- revoke them (receiver/web/sessions.py). The id is HMAC-SHA256 of the cookie's random value
-- under a key derived from the admin token: a database reader cannot turn a row into a
-- cookie, nor test guesses of the admin token, and once the admin token changes no cookie
-- finds its row any more.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
