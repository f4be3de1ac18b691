-- The staff page's sessions and its sign-in throttle (issue 12, defect 8). In the
-- database, so that every replica knows every session and counts every failure.

-- A browser signed in to the staff page with a staff (or admin) key. The cookie holds
-- a random session id; only its SHA-256 is kept, so a copy of this table opens no
-- session. A session ends at expires_at, or when idle for longer than the setting
-- (last_seen_at), or when its row is deleted: sign-out, revocation of its key.
CREATE TABLE staff_sessions (
    session_hash text        NOT NULL,
    key_id       text        NOT NULL,
    flash        jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    CONSTRAINT staff_sessions_pkey PRIMARY KEY (session_hash),
    CONSTRAINT staff_session_key_fk FOREIGN KEY (key_id) REFERENCES api_keys (key_id),
    CONSTRAINT staff_session_ends_after_start CHECK (expires_at > created_at)
);
CREATE INDEX staff_sessions_key_idx ON staff_sessions (key_id);
CREATE INDEX staff_sessions_expiry_idx ON staff_sessions (expires_at);

-- Failed sign-ins of one subject ('address:<client address>' or 'key:<key id>') in
-- the window that started with the first of them.
CREATE TABLE staff_sign_in_failures (
    subject           text        NOT NULL,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    failures          integer     NOT NULL DEFAULT 1,
    CONSTRAINT staff_sign_in_failures_pkey PRIMARY KEY (subject),
    CONSTRAINT staff_sign_in_failures_positive CHECK (failures >= 1)
);
