"""Publishing the outbox: what the relay does in each round, in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from service.storage.database import Database
from service.storage.outbox import OutboxRepository, StoredMessage


async def publish_pending(
    db: Database, publish: Callable[[StoredMessage], Awaitable[None]], batch: int
) -> int:
    """Claim the oldest rows (``FOR UPDATE SKIP LOCKED``: relays on several replicas
    share the work), publish them all with confirms in flight together, delete them,
    commit. A crash after publishing and before the commit publishes them again
    (at-least-once; each carries a stable message_id). Returns how many."""
    async with db.transaction() as conn:
        outbox = OutboxRepository(conn)
        rows = await outbox.claim_batch(batch)
        if not rows:
            return 0
        await asyncio.gather(*(publish(row) for row in rows))
        await outbox.delete_published([row.event_id for row in rows])
    return len(rows)
