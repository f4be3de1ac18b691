-- The database ceiling of a one-SKU read: one balance by primary key, a random
-- existing store balance of the catalogue (the formula of bench/catalogue.py).
\set k random(1, :skus)
\set j random(0, :width_base + (:k * 7) % :width_spread - 1)
\set s (:k * :stride_k + :j * :stride_j) % :stores + 1
SELECT on_hand, reserved, incoming, safety_stock
FROM balances
WHERE location_id = 'ST-' || lpad(:s::text, 4, '0') AND sku = 'SKU-' || lpad(:k::text, 6, '0');
