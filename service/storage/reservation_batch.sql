-- The write of one reservation-engine flush, as ONE statement.
--
-- Why one statement: a flush holds its balances' row locks until it commits, and
-- under load every round trip to the database also waits for a turn of the busy
-- event loop; each extra write would lengthen a hot balance's lock.
-- Data-modifying CTEs all run, each on its own rows (created and updated
-- reservations never overlap); foreign keys are checked at the end of the statement,
-- so lines may name reservations inserted beside them.
-- {name} placeholders are filled from the table in reservation_batch.py: a scalar such
-- as {occurred_at} becomes $n::type, a section of rows such as {created} becomes
-- unnest($n::type[], ...) AS created (its columns), one typed array per column.
-- Reservations and movements are stamped with the flush's one clock reading,
-- {occurred_at} (balances.updated_at and the recorded_at/changed_at defaults take the
-- database's clock, as elsewhere). Empty sections make empty CTEs. Balances were locked
-- earlier in the transaction (reservation_flush.py); nothing here takes a new lock on
-- a shared row.

-- name: write_batch
WITH new_reservations AS (
    INSERT INTO reservations (location_id, reservation_id, status, channel, external_ref,
        fingerprint, expires_at, created_at, updated_at)
    SELECT location_id, reservation_id, status, channel, external_ref, fingerprint,
        expires_at, {occurred_at}, {occurred_at}
    FROM {created}
), new_lines AS (
    INSERT INTO reservation_lines (location_id, reservation_id, sku, quantity, fulfilled)
    SELECT location_id, reservation_id, sku, quantity, fulfilled FROM {created_lines}
), changed_reservations AS (
    UPDATE reservations AS r SET status = updated.status, updated_at = {occurred_at}
    FROM {updated}
    WHERE r.location_id = updated.location_id AND r.reservation_id = updated.reservation_id
), fulfilled_lines AS (
    UPDATE reservation_lines AS l SET fulfilled = updated_lines.fulfilled
    FROM {updated_lines}
    WHERE l.location_id = updated_lines.location_id
        AND l.reservation_id = updated_lines.reservation_id AND l.sku = updated_lines.sku
), new_movements AS (
    INSERT INTO movements (location_id, sku, kind, on_hand_delta, reserved_delta,
        incoming_delta, reference, reason, actor, occurred_at)
    SELECT location_id, sku, kind, on_hand, reserved, incoming, reference, reason, actor,
        {occurred_at}
    FROM {deltas}
), moved_balances AS (
    -- One summed delta per balance, so no row is updated twice.
    UPDATE balances AS b
    SET on_hand = b.on_hand + balance_totals.on_hand,
        reserved = b.reserved + balance_totals.reserved,
        incoming = b.incoming + balance_totals.incoming, updated_at = now()
    FROM {balance_totals}
    WHERE b.location_id = balance_totals.location_id AND b.sku = balance_totals.sku
), availability_marks AS (
    INSERT INTO availability_changes (location_id, sku)
    SELECT location_id, sku FROM {balance_totals}
), outgoing AS (
    INSERT INTO outbox (exchange, routing_key, message_id, correlation_id, payload, trace_context)
    SELECT exchange, routing_key, message_id, correlation_id, payload, trace_context FROM {messages}
), recorded_answers AS (
    -- Answers arrive as JSON bytes from msgspec (cheaper than a jsonb codec call each).
    UPDATE idempotency_keys AS i
    SET status_code = answers.status_code, response = convert_from(answers.response, 'UTF8')::jsonb
    FROM {answers}
    WHERE i.scope = {answer_scope} AND i.key = answers.key
)
-- NOTIFYs are sent at commit; selecting them here makes this statement run them.
SELECT
    (SELECT count(pg_notify('inventory_balances', chunk)) FROM unnest({balance_notices}) AS chunk)
  + (SELECT count(pg_notify('inventory_outbox', '')) WHERE {wake_relays});

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
