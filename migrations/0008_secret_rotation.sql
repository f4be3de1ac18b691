-- Secrets that can change (issue 12, item 10).
--
-- An API key may expire: refused from expires_at on, like an unknown key (NULL:
-- never). A key made by `inventory keys rotate` names the key it replaces, so an
-- operator sees the pair; the old key keeps working until its expiry.
--
-- A pickup records which pickup-code secret made its code (a public fingerprint
-- of the secret, never the secret), so after a rotation the counter verifies each
-- code against the secret that made it and no other. Pickups booked before this
-- migration have NULL: their secret is recognised by their code hash.

ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
ALTER TABLE api_keys ADD COLUMN replaces_key_id text;
ALTER TABLE api_keys ADD CONSTRAINT api_key_replaces_fk
    FOREIGN KEY (replaces_key_id) REFERENCES api_keys (key_id);

ALTER TABLE pickups ADD COLUMN code_secret_id text;
