-- Every table whose rows belong to one location keeps its location in its primary key,
-- so that the schema stays distributable by location (Citus; docs/scaling.md,
-- tests/integration/test_distributable_schema.py). The change log was the one such
-- table keyed by its identity alone: every stock write appends to it, so on Citus it
-- must live on the shard of the balance it marks, or every write would span two nodes.
--
-- change_id stays first: the announcer claims the oldest marks (ORDER BY change_id)
-- and deletes them by change_id, and the one index keeps serving both.
--
-- Locks: ACCESS EXCLUSIVE on availability_changes, for as long as the new primary key
-- index takes to build over the marks not yet announced (the worker drains them every
-- window, so normally a few thousand rows: 2 ms for 1,000 marks here, 0.3 s for a backlog
-- of 1,000,000 after a long-stopped worker). Every stock write appends a mark, so writers
-- wait for that time; reads of stock do not touch this table. lock_timeout bounds the wait for the lock
-- itself (a long transaction holding it): the migration then fails, nothing changed,
-- and `inventory migrate` can run again. The old code keeps working during and after:
-- it names neither the constraint's columns nor its order (the name is kept), and its
-- queries are the same.
SET LOCAL lock_timeout = '5s';
-- And the index build itself: 0.4 s for a backlog of a million marks, so a minute means
-- something is wrong (the migration then fails and changes nothing).
SET LOCAL statement_timeout = '60s';

-- The key is replaced in place, under the lock measured above: the table holds only the
-- marks not yet announced, so the build is short, and CREATE UNIQUE INDEX CONCURRENTLY
-- (the way round the lock) cannot run inside the runner's transaction. change_id keeps
-- its uniqueness without an index of its own: it comes from a sequence.
ALTER TABLE availability_changes
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT availability_changes_pkey,
    -- squawk-ignore constraint-missing-not-valid, adding-serial-primary-key-field
    ADD CONSTRAINT availability_changes_pkey PRIMARY KEY (change_id, location_id);

-- The announcer's claim deletes by change_id, now no longer unique by an index of its
-- own: fresh statistics (change_id distinct in every row) keep its plan an index nested
-- loop rather than a scan of a backlog.
ANALYZE availability_changes;
