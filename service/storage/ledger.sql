-- The ledger aggregate: balances, movements, transfers.
-- Every statement that locks balances orders them by (location_id, sku).

-- name: lock_balances
-- Create missing balances and lock every named one, in (location_id, sku) order.
-- The no-op DO UPDATE takes the row lock on existing rows and returns them.
INSERT INTO balances AS b (location_id, sku)
SELECT k.location_id, k.sku
FROM unnest($1::text[], $2::text[]) AS k (location_id, sku)
ORDER BY k.location_id, k.sku
ON CONFLICT (location_id, sku) DO UPDATE SET updated_at = b.updated_at
RETURNING b.location_id, b.sku, b.on_hand, b.reserved, b.incoming,
    coalesce(b.safety_stock,
             (SELECT l.default_safety_stock FROM locations l WHERE l.location_id = b.location_id))
        AS safety_stock;

-- name: apply_deltas
UPDATE balances AS b
SET on_hand = b.on_hand + d.on_hand,
    reserved = b.reserved + d.reserved,
    incoming = b.incoming + d.incoming,
    updated_at = now()
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
    AS d (location_id, sku, on_hand, reserved, incoming)
WHERE b.location_id = d.location_id AND b.sku = d.sku;

-- name: insert_movements
INSERT INTO movements (location_id, sku, kind, on_hand_delta, reserved_delta, incoming_delta,
                       reference, reason, idempotency_key, actor, occurred_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[])
RETURNING movement_id, location_id, sku, kind, on_hand_delta, reserved_delta, incoming_delta,
    reference, reason, actor, occurred_at, recorded_at;

-- name: existing_locations
SELECT location_id, active FROM locations WHERE location_id = ANY($1::text[]);

-- name: lock_transfer_lines
-- "received" here counts what is settled: received or cancelled.
SELECT t.to_location_id, t.transfer_id, t.sku, t.quantity, t.received + t.cancelled AS received
FROM transfers t
JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (to_location_id, transfer_id, sku)
  ON t.to_location_id = k.to_location_id AND t.transfer_id = k.transfer_id AND t.sku = k.sku
ORDER BY t.to_location_id, t.transfer_id, t.sku
FOR UPDATE OF t;

-- name: insert_transfer_lines
INSERT INTO transfers (to_location_id, transfer_id, sku, from_location_id, quantity)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
ON CONFLICT DO NOTHING
RETURNING transfer_id, sku;

-- name: receive_transfer_lines
UPDATE transfers AS t SET received = t.received + k.quantity
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
    AS k (to_location_id, transfer_id, sku, quantity)
WHERE t.to_location_id = k.to_location_id AND t.transfer_id = k.transfer_id AND t.sku = k.sku;

-- name: cancel_transfer_lines
-- Whatever of these transfers has not arrived will not come.
UPDATE transfers SET cancelled = quantity - received
WHERE transfer_id = ANY($1::text[]) AND received + cancelled < quantity;

-- name: movements_page
SELECT movement_id, location_id, sku, kind, on_hand_delta, reserved_delta, incoming_delta,
    reference, reason, actor, occurred_at, recorded_at
FROM movements
WHERE location_id = $1 AND sku = $2 AND movement_id < $3
ORDER BY movement_id DESC
LIMIT $4;

-- name: balances_of_sku
SELECT b.location_id, b.sku, b.on_hand, b.reserved, b.incoming,
    coalesce(b.safety_stock, l.default_safety_stock) AS safety_stock
FROM balances b JOIN locations l USING (location_id)
WHERE b.sku = $1;

-- name: balances_of_skus
SELECT b.location_id, b.sku, b.on_hand, b.reserved, b.incoming,
    coalesce(b.safety_stock, l.default_safety_stock) AS safety_stock
FROM balances b JOIN locations l USING (location_id)
WHERE b.sku = ANY($1::text[]);

-- name: skus_after
SELECT DISTINCT sku FROM balances WHERE sku > $1 ORDER BY sku LIMIT $2;

-- name: set_safety_stock
INSERT INTO balances AS b (location_id, sku, safety_stock)
VALUES ($1, $2, $3)
ON CONFLICT (location_id, sku) DO UPDATE SET safety_stock = EXCLUDED.safety_stock, updated_at = now()
RETURNING b.location_id, b.sku, b.on_hand, b.reserved, b.incoming,
    coalesce(b.safety_stock,
             (SELECT l.default_safety_stock FROM locations l WHERE l.location_id = b.location_id))
        AS safety_stock;

-- name: notify_changed
SELECT pg_notify('inventory_balances', $1);

-- name: ledger_mismatches
-- Balances whose figures differ from the sum of their movements.
SELECT b.location_id, b.sku,
    b.on_hand, coalesce(m.on_hand, 0) AS movements_on_hand,
    b.reserved, coalesce(m.reserved, 0) AS movements_reserved,
    b.incoming, coalesce(m.incoming, 0) AS movements_incoming
FROM balances b
LEFT JOIN (
    SELECT location_id, sku, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved,
        sum(incoming_delta) AS incoming
    FROM movements GROUP BY location_id, sku
) m USING (location_id, sku)
WHERE b.on_hand <> coalesce(m.on_hand, 0)
   OR b.reserved <> coalesce(m.reserved, 0)
   OR b.incoming <> coalesce(m.incoming, 0)
ORDER BY b.location_id, b.sku
LIMIT $1;

-- name: lock_existing_balances
-- How a reservation flush locks its balances, defined once (reservation_batch.sql's
-- lock_for_creates includes it): the named balances that exist, FOR UPDATE in
-- (location_id, sku) order like every balance lock, so writers queue but cannot
-- deadlock, and the flush decides on figures no one else can change before it commits
-- (no oversell). Each comes with whether its location is active (which spares the
-- caller a look-up of those locations). A missing balance is not created.
SELECT b.location_id, b.sku, b.on_hand, b.reserved, b.incoming,
    coalesce(b.safety_stock, l.default_safety_stock) AS safety_stock, l.active
FROM balances b
JOIN locations l USING (location_id)
JOIN unnest($1::text[], $2::text[]) AS k (location_id, sku)
  ON b.location_id = k.location_id AND b.sku = k.sku
ORDER BY b.location_id, b.sku
FOR UPDATE OF b;

-- name: log_availability_changes
-- Append only: a writer never waits here (see migrations/0004).
INSERT INTO availability_changes (location_id, sku)
SELECT * FROM unnest($1::text[], $2::text[]);

-- name: take_availability_changes
-- Claim (and delete) up to $1 marks; one row per balance with its current figures.
-- The caller turns them into availability.changed events in the same transaction.
WITH taken AS (
    DELETE FROM availability_changes
    WHERE change_id IN (
        SELECT change_id FROM availability_changes
        ORDER BY change_id LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING location_id, sku
), keys AS (
    SELECT DISTINCT location_id, sku FROM taken
)
SELECT k.location_id, k.sku, coalesce(b.on_hand, 0) AS on_hand,
    coalesce(b.reserved, 0) AS reserved, coalesce(b.incoming, 0) AS incoming,
    coalesce(b.safety_stock, l.default_safety_stock) AS safety_stock,
    l.low_stock_threshold
FROM keys k
JOIN locations l USING (location_id)
LEFT JOIN balances b USING (location_id, sku);
