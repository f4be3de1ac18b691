-- A transfer line can be cancelled before it arrives (a click-and-collect
-- booking sourced from a warehouse and cancelled before the goods were sent).
-- Outstanding = quantity - received - cancelled.

ALTER TABLE transfers ADD COLUMN cancelled bigint NOT NULL DEFAULT 0;
ALTER TABLE transfers DROP CONSTRAINT transfer_received_within_quantity;
ALTER TABLE transfers ADD CONSTRAINT transfer_settled_within_quantity
    CHECK (received >= 0 AND cancelled >= 0 AND received + cancelled <= quantity);
