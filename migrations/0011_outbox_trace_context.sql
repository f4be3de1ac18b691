-- The W3C traceparent of the span that wrote an outbox row (service/tracing.py), so
-- that the relay's publish continues the request's or the message's trace and puts
-- it in the published message's headers. NULL while tracing is off, and for rows
-- written by code older than this column: such rows are published without it.
-- Nullable without a default: adding it only changes the catalogue (no rewrite, a
-- brief lock), and the old code, which names its columns, keeps working beside it.

ALTER TABLE outbox ADD COLUMN trace_context text;
