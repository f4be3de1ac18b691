-- One reservation per transaction on the hot row: the naive way, which the row lock
-- serialises. The hot balance has millions on hand, so the UPDATE always takes a unit
-- and the movement keeps the ledger exact.
\set s :hot_store
\set k :hot_sku
BEGIN;
UPDATE balances SET reserved = reserved + 1, updated_at = now()
WHERE location_id = 'ST-' || lpad(:s::text, 4, '0') AND sku = 'SKU-' || lpad(:k::text, 6, '0')
  AND on_hand - reserved - coalesce(safety_stock, 0) >= 1;
INSERT INTO movements (location_id, sku, kind, reserved_delta, actor, occurred_at)
VALUES ('ST-' || lpad(:s::text, 4, '0'), 'SKU-' || lpad(:k::text, 6, '0'), 'reserve', 1, 'pgbench', now());
END;
