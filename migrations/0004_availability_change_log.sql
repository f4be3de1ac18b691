-- availability.changed marks become an append-only log: a writer only inserts
-- (it never waits for the announcer), the announcer deletes what it announced.
-- Replaces availability_dirty, whose upsert made hot writers queue behind the
-- announcer's row locks.

DROP TABLE availability_dirty;

CREATE TABLE availability_changes (
    change_id   bigint      GENERATED ALWAYS AS IDENTITY,
    location_id text        NOT NULL,
    sku         text        NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT availability_changes_pkey PRIMARY KEY (change_id)
);
