-- The unique indexes that keep ids unique become constraints of the same name (the
-- indexes themselves are kept, not rebuilt), so that every name the service maps or
-- retries by (service/storage/constraints.py) is a constraint in pg_constraint.

ALTER TABLE reservations ADD CONSTRAINT reservations_id_key UNIQUE USING INDEX reservations_id_key;
ALTER TABLE pickups ADD CONSTRAINT pickups_id_key UNIQUE USING INDEX pickups_id_key;
ALTER TABLE transfers ADD CONSTRAINT transfers_id_sku_key UNIQUE USING INDEX transfers_id_sku_key;
