-- The transactional outbox.

-- name: add
INSERT INTO outbox (exchange, routing_key, message_id, correlation_id, payload, trace_context)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[]);

-- name: notify_outbox
SELECT pg_notify('inventory_outbox', '');

-- name: claim_batch
-- Oldest first; SKIP LOCKED lets several relays share the work.
SELECT event_id, exchange, routing_key, message_id, correlation_id, payload, trace_context
FROM outbox
ORDER BY event_id
LIMIT $1
FOR UPDATE SKIP LOCKED;

-- name: delete_published
DELETE FROM outbox WHERE event_id = ANY($1::bigint[]);

-- name: backlog
-- What waits to be published: events, replies, and since when (the operator's view).
SELECT count(*) FILTER (WHERE exchange <> '') AS events,
       count(*) FILTER (WHERE exchange = '') AS replies,
       min(created_at) AS oldest
FROM outbox;
