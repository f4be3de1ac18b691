-- Click-and-collect (slot settings, supply routes, slot capacity, pickups)
-- and API keys.

CREATE TABLE api_keys (
    key_id       text        NOT NULL,
    name         text        NOT NULL,
    role         text        NOT NULL,
    location_ids text[]      NOT NULL DEFAULT '{}',
    secret_hash  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CONSTRAINT api_keys_pkey PRIMARY KEY (key_id),
    CONSTRAINT api_key_role_valid
        CHECK (role IN ('reader', 'webshop', 'integration', 'staff', 'admin'))
);

-- Slot settings of a store that offers pickup (defaults when absent).
CREATE TABLE pickup_settings (
    location_id       text        NOT NULL,
    slot_minutes      integer     NOT NULL DEFAULT 30,
    capacity_per_slot integer     NOT NULL DEFAULT 4,
    prep_minutes      integer     NOT NULL DEFAULT 120,
    horizon_days      integer     NOT NULL DEFAULT 7,
    hold_hours        integer     NOT NULL DEFAULT 72,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pickup_settings_pkey PRIMARY KEY (location_id),
    CONSTRAINT pickup_settings_location_fk FOREIGN KEY (location_id) REFERENCES locations (location_id),
    CONSTRAINT pickup_slot_minutes_range CHECK (slot_minutes BETWEEN 5 AND 480),
    CONSTRAINT pickup_capacity_positive CHECK (capacity_per_slot >= 1),
    CONSTRAINT pickup_prep_not_negative CHECK (prep_minutes >= 0),
    CONSTRAINT pickup_horizon_range CHECK (horizon_days BETWEEN 1 AND 90),
    CONSTRAINT pickup_hold_range CHECK (hold_hours BETWEEN 1 AND 720)
);

-- Which warehouses supply a store, and how long a transfer takes.
CREATE TABLE supply_routes (
    store_id          text    NOT NULL,
    warehouse_id      text    NOT NULL,
    lead_time_minutes integer NOT NULL,
    CONSTRAINT supply_routes_pkey PRIMARY KEY (store_id, warehouse_id),
    CONSTRAINT supply_route_store_fk FOREIGN KEY (store_id) REFERENCES locations (location_id),
    CONSTRAINT supply_route_warehouse_fk FOREIGN KEY (warehouse_id) REFERENCES locations (location_id),
    CONSTRAINT supply_route_lead_time_not_negative CHECK (lead_time_minutes >= 0)
);

-- Capacity taken per slot; the row is the lock that makes the last place go once.
CREATE TABLE pickup_slot_usage (
    location_id text        NOT NULL,
    slot_start  timestamptz NOT NULL,
    booked      integer     NOT NULL DEFAULT 0,
    CONSTRAINT pickup_slot_usage_pkey PRIMARY KEY (location_id, slot_start),
    CONSTRAINT pickup_slot_booked_not_negative CHECK (booked >= 0)
);

CREATE TABLE pickups (
    location_id     text        NOT NULL,
    pickup_id       text        NOT NULL,
    status          text        NOT NULL DEFAULT 'booked',
    slot_start      timestamptz NOT NULL,
    slot_end        timestamptz NOT NULL,
    hold_until      timestamptz NOT NULL,
    customer        jsonb       NOT NULL,
    channel         text        NOT NULL,
    external_ref    text,
    fingerprint     text        NOT NULL,
    code_nonce      text        NOT NULL,
    code_hash       text        NOT NULL,
    failed_attempts integer     NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pickups_pkey PRIMARY KEY (location_id, pickup_id),
    CONSTRAINT pickup_location_fk FOREIGN KEY (location_id) REFERENCES locations (location_id),
    CONSTRAINT pickup_status_valid
        CHECK (status IN ('booked', 'ready', 'collected', 'cancelled', 'no_show'))
);
CREATE UNIQUE INDEX pickups_id_key ON pickups (pickup_id);
CREATE INDEX pickups_slot_idx ON pickups (location_id, slot_start);
CREATE INDEX pickups_due_idx ON pickups (hold_until) WHERE status IN ('booked', 'ready');

-- A line of a pickup and where it comes from: the store itself, or a warehouse
-- (reserved there, transferred to the store before the pickup is ready).
CREATE TABLE pickup_lines (
    location_id        text    NOT NULL,
    pickup_id          text    NOT NULL,
    sku                text    NOT NULL,
    quantity           bigint  NOT NULL,
    source_location_id text    NOT NULL,
    reservation_id     text    NOT NULL,
    collected          bigint  NOT NULL DEFAULT 0,
    CONSTRAINT pickup_lines_pkey PRIMARY KEY (location_id, pickup_id, sku),
    CONSTRAINT pickup_line_pickup_fk FOREIGN KEY (location_id, pickup_id)
        REFERENCES pickups (location_id, pickup_id),
    CONSTRAINT pickup_line_quantity_positive CHECK (quantity > 0),
    CONSTRAINT pickup_line_collected_within CHECK (collected BETWEEN 0 AND quantity)
);
