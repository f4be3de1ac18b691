-- The write of one reservation-engine flush, as ONE statement.
--
-- Why one statement: a flush holds its balances' row locks until it commits, and
-- under load every round trip to the database also waits for a turn of the busy
-- event loop; eleven separate writes made a hot balance's lock last ~25 ms.
-- Data-modifying CTEs all run, each on its own rows (created and updated
-- reservations never overlap); foreign keys are checked at the end of the statement,
-- so lines may name reservations inserted beside them.
-- Reservations and movements are stamped with the flush's one clock reading, $1
-- (balances.updated_at and the recorded_at/changed_at defaults take the database's
-- clock, as elsewhere). Empty arrays make empty CTEs. Balances were locked earlier in the transaction
-- (reservation_flush.py); nothing here takes a new lock on a shared row.

-- name: write_batch
WITH new_reservations AS (
    INSERT INTO reservations (location_id, reservation_id, status, channel, external_ref,
        fingerprint, expires_at, created_at, updated_at)
    SELECT *, $1::timestamptz, $1::timestamptz
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::timestamptz[])
), new_lines AS (
    INSERT INTO reservation_lines (location_id, reservation_id, sku, quantity, fulfilled)
    SELECT * FROM unnest($9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[])
), changed_reservations AS (
    UPDATE reservations AS r SET status = u.status, updated_at = $1
    FROM unnest($14::text[], $15::text[], $16::text[]) AS u (location_id, reservation_id, status)
    WHERE r.location_id = u.location_id AND r.reservation_id = u.reservation_id
), fulfilled_lines AS (
    UPDATE reservation_lines AS l SET fulfilled = u.fulfilled
    FROM unnest($17::text[], $18::text[], $19::text[], $20::bigint[])
        AS u (location_id, reservation_id, sku, fulfilled)
    WHERE l.location_id = u.location_id AND l.reservation_id = u.reservation_id
        AND l.sku = u.sku
), new_movements AS (
    INSERT INTO movements (location_id, sku, kind, on_hand_delta, reserved_delta,
        incoming_delta, reference, reason, actor, occurred_at)
    SELECT *, $1::timestamptz FROM unnest($21::text[], $22::text[], $23::text[], $24::bigint[],
        $25::bigint[], $26::bigint[], $27::text[], $28::text[], $29::text[])
), moved_balances AS (
    -- One summed delta per balance, so no row is updated twice.
    UPDATE balances AS b
    SET on_hand = b.on_hand + d.on_hand, reserved = b.reserved + d.reserved,
        incoming = b.incoming + d.incoming, updated_at = now()
    FROM unnest($30::text[], $31::text[], $32::bigint[], $33::bigint[], $34::bigint[])
        AS d (location_id, sku, on_hand, reserved, incoming)
    WHERE b.location_id = d.location_id AND b.sku = d.sku
), availability_marks AS (
    INSERT INTO availability_changes (location_id, sku)
    SELECT * FROM unnest($30::text[], $31::text[])
), outgoing AS (
    INSERT INTO outbox (exchange, routing_key, message_id, correlation_id, payload)
    SELECT * FROM unnest($35::text[], $36::text[], $37::text[], $38::text[], $39::bytea[])
), answers AS (
    -- Answers arrive as JSON text, encoded by msgspec (cheaper than a jsonb codec call each).
    UPDATE idempotency_keys AS i SET status_code = a.status_code, response = a.response::jsonb
    FROM unnest($41::text[], $42::integer[], $43::text[]) AS a (key, status_code, response)
    WHERE i.scope = $40 AND i.key = a.key
)
-- NOTIFYs are sent at commit; selecting them here makes this statement run them.
SELECT
    (SELECT count(pg_notify('inventory_balances', chunk)) FROM unnest($44::text[]) AS chunk)
  + (SELECT count(pg_notify('inventory_outbox', '')) WHERE cardinality($35::text[]) > 0);

-- name: lock_for_creates
-- What a flush of creates alone must lock, in one round trip instead of two: the
-- reservation rows that already carry one of the ids $3 (a create sent again), then the
-- balances $1, $2 exactly as ledger.sql's lock_existing_balances locks them (included
-- below). Each part takes its rows in the global order, and the Append runs its parts
-- one after the other (locked_reservations first), so reservations are locked before
-- balances, as by every other writer.
WITH locked_reservations AS (
    SELECT location_id, reservation_id FROM reservations
    WHERE reservation_id = ANY($3::text[])
    ORDER BY location_id, reservation_id
    FOR UPDATE
), locked_balances AS (
    -- include: ledger.sql lock_existing_balances
)
SELECT reservation_id, location_id, NULL AS sku, NULL::bigint AS on_hand,
    NULL::bigint AS reserved, NULL::bigint AS incoming, NULL::bigint AS safety_stock,
    NULL::boolean AS active
FROM locked_reservations
UNION ALL
SELECT NULL, * FROM locked_balances;
