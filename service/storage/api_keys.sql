-- API keys: only a hash of each secret is stored.
-- A change that replicas must hear at once (revoke, a new expiry) is followed by
-- notify_keys_changed in the same transaction.

-- name: insert
INSERT INTO api_keys (key_id, name, role, location_ids, secret_hash, expires_at, replaces_key_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (key_id) DO NOTHING
RETURNING key_id;

-- name: get
-- With the first key of its rotation chain (lineage_id), followed through replaces_key_id.
WITH RECURSIVE chain AS (
    SELECT key_id, replaces_key_id, 0 AS depth FROM api_keys WHERE key_id = $1
    UNION ALL
    SELECT k.key_id, k.replaces_key_id, c.depth + 1
    FROM api_keys k JOIN chain c ON k.key_id = c.replaces_key_id
    WHERE c.depth < 1000
)
SELECT key_id, name, role, location_ids, secret_hash, created_at, revoked_at, expires_at,
    replaces_key_id,
    (SELECT key_id FROM chain ORDER BY depth DESC LIMIT 1) AS lineage_id
FROM api_keys WHERE key_id = $1;

-- name: lock
-- The row lock that serialises two rotations of one key.
SELECT key_id, name, role, location_ids, secret_hash, created_at, revoked_at, expires_at,
    replaces_key_id
FROM api_keys WHERE key_id = $1 FOR UPDATE;

-- name: list_all
SELECT key_id, name, role, location_ids, secret_hash, created_at, revoked_at, expires_at,
    replaces_key_id
FROM api_keys ORDER BY created_at, key_id;

-- name: live_successor
SELECT key_id FROM api_keys
WHERE replaces_key_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
ORDER BY created_at LIMIT 1;

-- name: revoke
UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL
RETURNING key_id;

-- name: set_expiry
UPDATE api_keys SET expires_at = $2 WHERE key_id = $1 AND revoked_at IS NULL
RETURNING key_id;

-- name: notify_keys_changed
SELECT pg_notify('inventory_keys', $1);
