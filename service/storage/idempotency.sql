-- The first answer to each mutating request or message.

-- name: insert_key
-- Claims the key. Waits for a concurrent holder of the same key to finish: if it
-- committed, nothing is inserted and the caller reads its answer; if it rolled back,
-- the caller now owns the key.
INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3)
ON CONFLICT (scope, key) DO NOTHING
RETURNING key;

-- name: stored
SELECT fingerprint, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2;

-- name: record
UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE scope = $1 AND key = $2;

-- name: forget_older_than
-- At most $2 of the oldest rows (idempotency_keys_created_idx): a backlog of millions
-- goes in short statements that stay under the statement timeout. SKIP LOCKED: two
-- workers pruning at once take different rows instead of waiting for each other.
DELETE FROM idempotency_keys
WHERE (scope, key) IN (
    SELECT scope, key FROM idempotency_keys
    WHERE created_at < $1
    ORDER BY created_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
);

-- name: insert_keys
-- The same as insert_key for many keys at once, in key order (the lock order).
INSERT INTO idempotency_keys (scope, key, fingerprint)
SELECT $1, k.key, k.fingerprint
FROM unnest($2::text[], $3::text[]) AS k (key, fingerprint)
ORDER BY k.key
ON CONFLICT (scope, key) DO NOTHING
RETURNING key;

-- name: stored_many
SELECT key, fingerprint, status_code, response FROM idempotency_keys
WHERE scope = $1 AND key = ANY($2::text[]);
