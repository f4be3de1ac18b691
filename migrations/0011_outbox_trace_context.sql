-- The W3C traceparent of the span that wrote an outbox row (service/tracing.py), so
-- that the relay's publish continues the request's or the message's trace and puts
-- it in the published message's headers. NULL while tracing is off, and for rows
-- written by code older than this column: such rows are published without it.
--
-- Locks: ACCESS EXCLUSIVE on outbox for a catalogue change only (a nullable column
-- without a default rewrites nothing), so milliseconds once the lock is had. Every
-- change writes the outbox and the relay holds its rows for a publish, so the wait is
-- for those transactions: lock_timeout bounds it (the migration then fails, nothing
-- changed, and `inventory migrate` can run again), and writers queued behind the
-- waiting ALTER wait at most that long. The old code keeps working during and after:
-- it names its columns.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '10s';

ALTER TABLE outbox ADD COLUMN trace_context text;
