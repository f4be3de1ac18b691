-- The stock ledger: locations, balances, append-only movements, transfers,
-- and the idempotency record of mutating requests.
--
-- Distribution (see docs/architecture.md): every stock table carries
-- location_id first in its primary key so that it can be distributed by
-- location (Citus) later; `locations` would become a reference table.
-- Constraint names are stable: service/storage/errors.py maps them to domain errors.

CREATE TABLE locations (
    location_id          text        NOT NULL,
    kind                 text        NOT NULL,
    name                 text        NOT NULL,
    address              text        NOT NULL DEFAULT '',
    latitude             double precision NOT NULL,
    longitude            double precision NOT NULL,
    timezone             text        NOT NULL,
    opening_hours        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    pickup_offered       boolean     NOT NULL DEFAULT false,
    low_stock_threshold  integer     NOT NULL DEFAULT 3,
    default_safety_stock integer     NOT NULL DEFAULT 0,
    active               boolean     NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT locations_pkey PRIMARY KEY (location_id),
    CONSTRAINT location_kind_valid CHECK (kind IN ('warehouse', 'store')),
    CONSTRAINT location_latitude_range CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT location_longitude_range CHECK (longitude BETWEEN -180 AND 180),
    CONSTRAINT location_threshold_not_negative CHECK (low_stock_threshold >= 0),
    CONSTRAINT location_safety_stock_not_negative CHECK (default_safety_stock >= 0)
);

-- One row per (location, sku) that has ever moved. `safety_stock` NULL means
-- "the location's default_safety_stock".
-- Invariant (checked by `inventory verify-ledger`): on_hand, reserved and
-- incoming each equal the sum of the matching deltas of the balance's movements.
CREATE TABLE balances (
    location_id  text        NOT NULL,
    sku          text        NOT NULL,
    on_hand      bigint      NOT NULL DEFAULT 0,
    reserved     bigint      NOT NULL DEFAULT 0,
    incoming     bigint      NOT NULL DEFAULT 0,
    safety_stock integer,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT balances_pkey PRIMARY KEY (location_id, sku),
    CONSTRAINT balance_location_fk FOREIGN KEY (location_id) REFERENCES locations (location_id),
    CONSTRAINT balance_reserved_not_negative CHECK (reserved >= 0),
    CONSTRAINT balance_incoming_not_negative CHECK (incoming >= 0),
    CONSTRAINT balance_safety_stock_not_negative CHECK (safety_stock >= 0)
);
CREATE INDEX balances_sku_idx ON balances (sku);

-- Append-only: never updated, never deleted (enforced by the trigger below).
CREATE TABLE movements (
    location_id     text        NOT NULL,
    movement_id     bigint      GENERATED ALWAYS AS IDENTITY,
    sku             text        NOT NULL,
    kind            text        NOT NULL,
    on_hand_delta   bigint      NOT NULL DEFAULT 0,
    reserved_delta  bigint      NOT NULL DEFAULT 0,
    incoming_delta  bigint      NOT NULL DEFAULT 0,
    reference       text,
    reason          text,
    idempotency_key text,
    actor           text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT movements_pkey PRIMARY KEY (location_id, movement_id),
    CONSTRAINT movement_balance_fk FOREIGN KEY (location_id, sku)
        REFERENCES balances (location_id, sku),
    CONSTRAINT movement_kind_valid CHECK (kind IN (
        'receipt', 'sale', 'return', 'write_off', 'adjustment', 'count',
        'transfer_out', 'transfer_in', 'transfer_receipt',
        'reserve', 'release', 'fulfil'))
);
CREATE INDEX movements_balance_idx ON movements (location_id, sku, movement_id DESC);

CREATE FUNCTION movements_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'movements are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER movements_append_only BEFORE UPDATE OR DELETE ON movements
    FOR EACH ROW EXECUTE FUNCTION movements_are_append_only();

-- A transfer line: stock that left `from_location_id` and is incoming at
-- `to_location_id` until received. Keyed by the destination first: the
-- receipt touches the destination's balance.
CREATE TABLE transfers (
    to_location_id   text        NOT NULL,
    transfer_id      text        NOT NULL,
    sku              text        NOT NULL,
    from_location_id text        NOT NULL,
    quantity         bigint      NOT NULL,
    received         bigint      NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transfers_pkey PRIMARY KEY (to_location_id, transfer_id, sku),
    CONSTRAINT transfer_quantity_positive CHECK (quantity > 0),
    CONSTRAINT transfer_received_within_quantity CHECK (received BETWEEN 0 AND quantity),
    CONSTRAINT transfer_distinct_locations CHECK (from_location_id <> to_location_id)
);
CREATE UNIQUE INDEX transfers_id_sku_key ON transfers (transfer_id, sku);

-- The first answer to a mutating request or message, so that a repeat
-- returns it and writes nothing. `fingerprint` is a hash of the request body.
CREATE TABLE idempotency_keys (
    scope       text        NOT NULL,
    key         text        NOT NULL,
    fingerprint text        NOT NULL,
    status_code integer     NOT NULL DEFAULT 0,
    response    jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
