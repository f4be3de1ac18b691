-- One reservation per transaction on spread rows: a random warehouse balance (100 to
-- 5,000 on hand, so that no UPDATE finds the row short and every movement matches
-- a reservation; the ledger stays exact).
\set k random(1, :skus)
\set w random(1, :warehouses)
BEGIN;
UPDATE balances SET reserved = reserved + 1, updated_at = now()
WHERE location_id = 'WH-' || lpad(:w::text, 2, '0') AND sku = 'SKU-' || lpad(:k::text, 6, '0')
  AND on_hand - reserved - coalesce(safety_stock, 0) >= 1;
INSERT INTO movements (location_id, sku, kind, reserved_delta, actor, occurred_at)
VALUES ('WH-' || lpad(:w::text, 2, '0'), 'SKU-' || lpad(:k::text, 6, '0'), 'reserve', 1, 'pgbench', now());
END;
