-- The locations aggregate.

-- name: upsert
INSERT INTO locations AS l (location_id, kind, name, address, latitude, longitude, timezone,
    opening_hours, pickup_offered, low_stock_threshold, default_safety_stock, active)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (location_id) DO UPDATE SET
    kind = EXCLUDED.kind, name = EXCLUDED.name, address = EXCLUDED.address,
    latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, timezone = EXCLUDED.timezone,
    opening_hours = EXCLUDED.opening_hours, pickup_offered = EXCLUDED.pickup_offered,
    low_stock_threshold = EXCLUDED.low_stock_threshold,
    default_safety_stock = EXCLUDED.default_safety_stock, active = EXCLUDED.active,
    updated_at = now()
RETURNING *, (xmax = 0) AS created;

-- name: get
SELECT * FROM locations WHERE location_id = $1;

-- name: any_exist
SELECT EXISTS (SELECT 1 FROM locations);

-- name: list_all
SELECT * FROM locations ORDER BY location_id;

-- name: notify_locations_changed
SELECT pg_notify('inventory_locations', $1);
