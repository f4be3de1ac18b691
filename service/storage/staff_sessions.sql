-- The staff page's sessions: one row per signed-in browser, keyed by the SHA-256 of
-- its session id (the id itself is only ever in the browser's cookie).

-- name: insert
INSERT INTO staff_sessions (session_hash, key_id, expires_at)
VALUES ($1, $2, now() + make_interval(secs => $3));

-- name: resume
-- The session of this hash when it lives (before its end, idle no longer than $2
-- seconds, its key neither revoked nor of another role now), marked as seen, with
-- the message it held, which is cleared: a message is shown once. The CTE locks the
-- row, so of two requests of one session at once only the first gets the message.
WITH found AS (
    SELECT session_hash, flash
    FROM staff_sessions
    WHERE session_hash = $1
      AND expires_at > now()
      AND last_seen_at > now() - make_interval(secs => $2)
    FOR UPDATE
)
UPDATE staff_sessions s
SET last_seen_at = now(), flash = NULL
FROM found, api_keys k
WHERE s.session_hash = found.session_hash
  AND k.key_id = s.key_id
  AND k.revoked_at IS NULL
  AND (k.expires_at IS NULL OR k.expires_at > now())
  AND k.role IN ('staff', 'admin')
RETURNING k.key_id, k.name, k.role, k.location_ids, found.flash;

-- name: tell
UPDATE staff_sessions SET flash = $2 WHERE session_hash = $1;

-- name: delete
DELETE FROM staff_sessions WHERE session_hash = $1;

-- name: delete_of_key
DELETE FROM staff_sessions WHERE key_id = $1;

-- name: delete_ended
DELETE FROM staff_sessions
WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1);
