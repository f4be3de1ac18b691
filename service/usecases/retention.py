"""How long the service remembers answers: idempotency records are pruned once they are
older than INVENTORY_IDEMPOTENCY_RETENTION_S.

A record is what makes a repeated request or a redelivered message change nothing;
after the retention, the same key or message id is a new request. Seven days (the
default) is longer than any client retries, any reservation lives
(INVENTORY_RESERVATION_MAX_TTL_S) and a message waits in a queue in normal operation;
a dead letter older than that, replayed, is applied as new (docs/operations.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.storage.database import Database
from service.storage.idempotency import IdempotencyRepository


async def prune_idempotency(db: Database, retention_s: int, limit: int) -> int:
    """Delete up to ``limit`` of the records older than ``retention_s``; returns how many
    (``limit`` means more are waiting). Safe with several workers at once."""
    cutoff = datetime.now(UTC) - timedelta(seconds=retention_s)
    return await db.run(lambda conn: IdempotencyRepository(conn).forget_older_than(cutoff, limit))
