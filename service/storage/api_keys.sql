-- API keys: only a hash of each secret is stored.

-- name: insert
INSERT INTO api_keys (key_id, name, role, location_ids, secret_hash)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (key_id) DO NOTHING
RETURNING key_id;

-- name: get
SELECT key_id, name, role, location_ids, secret_hash, created_at, revoked_at
FROM api_keys WHERE key_id = $1;

-- name: list_all
SELECT key_id, name, role, location_ids, secret_hash, created_at, revoked_at
FROM api_keys ORDER BY created_at, key_id;

-- name: revoke
UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL
RETURNING key_id;

-- name: notify_keys_changed
SELECT pg_notify('inventory_keys', $1);
