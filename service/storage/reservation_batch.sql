-- The write of one reservation-engine flush, as ONE statement.
--
-- Why one statement: a flush holds its balances' row locks until it commits, and
-- under load every round trip to the database also waits for a turn of the busy
-- event loop; eleven separate writes made a hot balance's lock last ~25 ms.
-- Data-modifying CTEs all run, each on its own rows (created and updated
-- reservations never overlap); foreign keys are checked at the end of the statement,
-- so lines may name reservations inserted beside them.
-- Empty arrays make empty CTEs. Balances were locked earlier in the transaction
-- (reservation_flush.py); nothing here takes a new lock on a shared row.

-- name: write_batch
WITH new_reservations AS (
    INSERT INTO reservations (location_id, reservation_id, status, channel, external_ref,
        fingerprint, expires_at, created_at, updated_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::timestamptz[], $8::timestamptz[], $9::timestamptz[])
), new_lines AS (
    INSERT INTO reservation_lines (location_id, reservation_id, sku, quantity, fulfilled)
    SELECT * FROM unnest($10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[])
), changed_reservations AS (
    UPDATE reservations AS r SET status = u.status, updated_at = u.updated_at
    FROM unnest($15::text[], $16::text[], $17::text[], $18::timestamptz[])
        AS u (location_id, reservation_id, status, updated_at)
    WHERE r.location_id = u.location_id AND r.reservation_id = u.reservation_id
), fulfilled_lines AS (
    UPDATE reservation_lines AS l SET fulfilled = u.fulfilled
    FROM unnest($19::text[], $20::text[], $21::text[], $22::bigint[])
        AS u (location_id, reservation_id, sku, fulfilled)
    WHERE l.location_id = u.location_id AND l.reservation_id = u.reservation_id
        AND l.sku = u.sku
), new_movements AS (
    INSERT INTO movements (location_id, sku, kind, on_hand_delta, reserved_delta,
        incoming_delta, reference, reason, actor, occurred_at)
    SELECT *, $32::timestamptz FROM unnest($23::text[], $24::text[], $25::text[], $26::bigint[],
        $27::bigint[], $28::bigint[], $29::text[], $30::text[], $31::text[])
), moved_balances AS (
    -- One summed delta per balance, so no row is updated twice.
    UPDATE balances AS b
    SET on_hand = b.on_hand + d.on_hand, reserved = b.reserved + d.reserved,
        incoming = b.incoming + d.incoming, updated_at = now()
    FROM unnest($33::text[], $34::text[], $35::bigint[], $36::bigint[], $37::bigint[])
        AS d (location_id, sku, on_hand, reserved, incoming)
    WHERE b.location_id = d.location_id AND b.sku = d.sku
), availability_marks AS (
    INSERT INTO availability_changes (location_id, sku)
    SELECT * FROM unnest($33::text[], $34::text[])
), outgoing AS (
    INSERT INTO outbox (exchange, routing_key, message_id, correlation_id, payload)
    SELECT * FROM unnest($38::text[], $39::text[], $40::text[], $41::text[], $42::bytea[])
), answers AS (
    UPDATE idempotency_keys AS i SET status_code = a.status_code, response = a.response
    FROM unnest($44::text[], $45::integer[], $46::jsonb[]) AS a (key, status_code, response)
    WHERE i.scope = $43 AND i.key = a.key
)
-- NOTIFYs are sent at commit; selecting them here makes this statement run them.
SELECT
    (SELECT count(pg_notify('inventory_balances', chunk)) FROM unnest($47::text[]) AS chunk)
  + (SELECT count(pg_notify('inventory_outbox', '')) WHERE cardinality($38::text[]) > 0);
