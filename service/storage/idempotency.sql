-- The first answer to each mutating request or message.

-- name: claim
-- Waits for a concurrent holder of the same key to finish: if it committed,
-- nothing is inserted and the caller reads its answer; if it rolled back, the
-- caller now owns the key.
INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3)
ON CONFLICT (scope, key) DO NOTHING
RETURNING key;

-- name: stored
SELECT fingerprint, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2;

-- name: record
UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE scope = $1 AND key = $2;

-- name: forget_older_than
DELETE FROM idempotency_keys WHERE created_at < $1;
