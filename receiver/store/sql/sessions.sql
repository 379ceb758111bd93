-- The gallery's sign-ins (receiver/store/sessions.py, receiver/web/sessions.py); :id is a
-- keyed hash of the cookie.

-- name: insert_session
INSERT INTO sessions (id, created_at, expires_at) VALUES (:id, :created_at, :expires_at);

-- name: live_session
SELECT expires_at FROM sessions WHERE id = :id AND expires_at > :now;

-- name: delete_session
DELETE FROM sessions WHERE id = :id;

-- name: delete_expired_sessions
DELETE FROM sessions WHERE expires_at <= :now;
