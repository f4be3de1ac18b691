-- The pickups aggregate: bookings, their lines, slot capacity, store settings.
-- Lock order: pickup row, then slot usage rows (sorted), then reservations, then balances.

-- name: lock_new_id
-- Serialises twin bookings of one new pickup id (a row lock needs a row): the
-- second waits for the first to commit and then finds its row.
SELECT pg_advisory_xact_lock(hashtextextended('pickup:' || $1, 0));

-- name: lock
SELECT * FROM pickups WHERE pickup_id = $1 FOR UPDATE;

-- name: get
SELECT * FROM pickups WHERE pickup_id = $1;

-- name: lines_of
SELECT sku, quantity, source_location_id, reservation_id, collected
FROM pickup_lines WHERE location_id = $1 AND pickup_id = $2 ORDER BY sku;

-- name: lines_of_many
SELECT pickup_id, sku, quantity, source_location_id, reservation_id, collected
FROM pickup_lines WHERE location_id = $1 AND pickup_id = ANY($2::text[]) ORDER BY pickup_id, sku;

-- name: insert_pickup
INSERT INTO pickups (location_id, pickup_id, status, slot_start, slot_end, hold_until, customer,
    channel, external_ref, fingerprint, code_nonce, code_hash, code_secret_id, created_at,
    updated_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15);

-- name: insert_lines
INSERT INTO pickup_lines (location_id, pickup_id, sku, quantity, source_location_id, reservation_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[]);

-- name: update_pickup
UPDATE pickups SET status = $3, slot_start = $4, slot_end = $5, hold_until = $6,
    failed_attempts = $7, locked_until = $8, updated_at = $9
WHERE location_id = $1 AND pickup_id = $2;

-- name: update_collected
UPDATE pickup_lines AS l SET collected = u.collected
FROM unnest($3::text[], $4::bigint[]) AS u (sku, collected)
WHERE l.location_id = $1 AND l.pickup_id = $2 AND l.sku = u.sku;

-- name: list_for_location
SELECT * FROM pickups
WHERE location_id = $1 AND slot_start >= $2 AND slot_start < $3
  AND ($4::text IS NULL OR status = $4)
ORDER BY slot_start, pickup_id
LIMIT $5;

-- name: due_no_show
SELECT pickup_id FROM pickups
WHERE status IN ('booked', 'ready') AND hold_until <= $1
ORDER BY hold_until LIMIT $2;

-- name: live_codes
-- What live pickups store of their codes (booked or ready: still to be collected).
SELECT code_secret_id, code_nonce, code_hash, hold_until
FROM pickups WHERE status IN ('booked', 'ready');

-- name: lock_slot
INSERT INTO pickup_slot_usage AS u (location_id, slot_start) VALUES ($1, $2)
ON CONFLICT (location_id, slot_start) DO UPDATE SET booked = u.booked
RETURNING booked;

-- name: add_to_slot
UPDATE pickup_slot_usage SET booked = booked + $3 WHERE location_id = $1 AND slot_start = $2;

-- name: usage_between
SELECT slot_start, booked FROM pickup_slot_usage
WHERE location_id = $1 AND slot_start >= $2 AND slot_start < $3;

-- name: rules
SELECT slot_minutes, capacity_per_slot, prep_minutes, horizon_days, hold_hours
FROM pickup_settings WHERE location_id = $1;

-- name: upsert_settings
INSERT INTO pickup_settings (location_id, slot_minutes, capacity_per_slot, prep_minutes,
    horizon_days, hold_hours)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (location_id) DO UPDATE SET slot_minutes = EXCLUDED.slot_minutes,
    capacity_per_slot = EXCLUDED.capacity_per_slot, prep_minutes = EXCLUDED.prep_minutes,
    horizon_days = EXCLUDED.horizon_days, hold_hours = EXCLUDED.hold_hours, updated_at = now();

-- name: suppliers
SELECT warehouse_id, lead_time_minutes FROM supply_routes WHERE store_id = $1 ORDER BY warehouse_id;

-- name: delete_suppliers
DELETE FROM supply_routes WHERE store_id = $1;

-- name: insert_suppliers
INSERT INTO supply_routes (store_id, warehouse_id, lead_time_minutes)
SELECT $1, * FROM unnest($2::text[], $3::integer[]);

-- name: set_line_reservations
UPDATE pickup_lines AS l SET reservation_id = u.reservation_id
FROM unnest($3::text[], $4::text[]) AS u (sku, reservation_id)
WHERE l.location_id = $1 AND l.pickup_id = $2 AND l.sku = u.sku;
