-- Who created a pickup (issue 12, defect 1): the pickup code reaches only that caller
-- again. `key:<key_id>` for a booking over HTTP, `message:<message_id>` for one by
-- message. Pickups booked before this migration have NULL: a repeat of their booking
-- is answered without the code.

ALTER TABLE pickups ADD COLUMN created_by text;
