-- Reservations, the transactional outbox, and the marks that drive
-- coalesced availability.changed events.

CREATE TABLE reservations (
    location_id    text        NOT NULL,
    reservation_id text        NOT NULL,
    status         text        NOT NULL DEFAULT 'active',
    channel        text        NOT NULL,
    external_ref   text,
    fingerprint    text        NOT NULL,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reservations_pkey PRIMARY KEY (location_id, reservation_id),
    CONSTRAINT reservation_location_fk FOREIGN KEY (location_id) REFERENCES locations (location_id),
    CONSTRAINT reservation_status_valid
        CHECK (status IN ('active', 'fulfilled', 'cancelled', 'expired'))
);
-- A reservation id is global. Under Citus this unique index moves to a small
-- reference table mapping reservation_id -> location_id (docs/architecture.md).
CREATE UNIQUE INDEX reservations_id_key ON reservations (reservation_id);
CREATE INDEX reservations_due_idx ON reservations (expires_at) WHERE status = 'active';

CREATE TABLE reservation_lines (
    location_id    text   NOT NULL,
    reservation_id text   NOT NULL,
    sku            text   NOT NULL,
    quantity       bigint NOT NULL,
    fulfilled      bigint NOT NULL DEFAULT 0,
    CONSTRAINT reservation_lines_pkey PRIMARY KEY (location_id, reservation_id, sku),
    CONSTRAINT reservation_line_reservation_fk FOREIGN KEY (location_id, reservation_id)
        REFERENCES reservations (location_id, reservation_id),
    CONSTRAINT reservation_line_quantity_positive CHECK (quantity > 0),
    CONSTRAINT reservation_line_fulfilled_within CHECK (fulfilled BETWEEN 0 AND quantity)
);

-- Events and replies waiting to be published; the relay deletes a row once the
-- broker confirmed it. Written in the same transaction as the change described.
CREATE TABLE outbox (
    event_id       bigint      GENERATED ALWAYS AS IDENTITY,
    exchange       text        NOT NULL,
    routing_key    text        NOT NULL,
    message_id     text        NOT NULL,
    correlation_id text,
    payload        bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT outbox_pkey PRIMARY KEY (event_id)
);

-- A balance whose availability changed since the last availability.changed
-- event; turned into one coalesced event per balance per window.
CREATE TABLE availability_dirty (
    location_id text        NOT NULL,
    sku         text        NOT NULL,
    marked_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT availability_dirty_pkey PRIMARY KEY (location_id, sku)
);
