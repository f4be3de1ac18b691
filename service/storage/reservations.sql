-- The reservations aggregate. Rows are locked in (location_id, reservation_id)
-- order, before any balance.

-- name: with_lines
-- Read after lock, in a new statement: sees the latest committed lines.
SELECT r.location_id, r.reservation_id, r.status, r.channel, r.external_ref, r.fingerprint,
    r.expires_at, r.created_at, r.updated_at,
    array_agg(l.sku ORDER BY l.sku) AS skus,
    array_agg(l.quantity ORDER BY l.sku) AS quantities,
    array_agg(l.fulfilled ORDER BY l.sku) AS fulfilled
FROM reservations r
JOIN reservation_lines l USING (location_id, reservation_id)
WHERE r.reservation_id = ANY($1::text[])
GROUP BY r.location_id, r.reservation_id
ORDER BY r.location_id, r.reservation_id;

-- name: lock
SELECT location_id, reservation_id FROM reservations
WHERE reservation_id = ANY($1::text[])
ORDER BY location_id, reservation_id
FOR UPDATE;

-- name: get
SELECT r.location_id, r.reservation_id, r.status, r.channel, r.external_ref, r.fingerprint,
    r.expires_at, r.created_at, r.updated_at,
    array_agg(l.sku ORDER BY l.sku) AS skus,
    array_agg(l.quantity ORDER BY l.sku) AS quantities,
    array_agg(l.fulfilled ORDER BY l.sku) AS fulfilled
FROM reservations r
JOIN reservation_lines l USING (location_id, reservation_id)
WHERE r.reservation_id = $1
GROUP BY r.location_id, r.reservation_id;

-- (Inserts and updates of reservations are part of a flush's single write:
-- reservation_batch.sql.)

-- name: due_for_expiry
SELECT reservation_id FROM reservations
WHERE status = 'active' AND expires_at <= $1
ORDER BY expires_at
LIMIT $2;

-- name: reserved_mismatches
-- Balances whose reserved figure differs from their active reservations' lines.
SELECT b.location_id, b.sku, b.reserved, coalesce(a.reserved, 0) AS reservations_reserved
FROM balances b
LEFT JOIN (
    SELECT l.location_id, l.sku, sum(l.quantity) AS reserved
    FROM reservation_lines l JOIN reservations r USING (location_id, reservation_id)
    WHERE r.status = 'active'
    GROUP BY l.location_id, l.sku
) a USING (location_id, sku)
WHERE b.reserved <> coalesce(a.reserved, 0)
ORDER BY b.location_id, b.sku
LIMIT $1;

-- name: set_expiry
UPDATE reservations SET expires_at = $2, updated_at = now()
WHERE reservation_id = ANY($1::text[]) AND status = 'active';
