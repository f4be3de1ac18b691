"""Publishing the outbox: what the relay does in each round, in one transaction; and
what is waiting, for an operator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from service.storage.database import Database
from service.storage.outbox import Backlog, OutboxRepository, StoredMessage


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
        await _publish_all(rows, publish, _publish_deadline(db))
        await outbox.delete_published([row.event_id for row in rows])
    return len(rows)


class PublishFailed(Exception):
    """The broker did not take the batch (cut off, silent past the deadline, refusing):
    the transaction rolls back and the rows wait for the next round. Not a database
    fault, so it is not taken for a database outage."""


async def _publish_all(
    rows: list[StoredMessage],
    publish: Callable[[StoredMessage], Awaitable[None]],
    deadline_s: float | None,
) -> None:
    try:
        async with asyncio.timeout(deadline_s):
            await asyncio.gather(*(publish(row) for row in rows))
    except Exception as exc:  # aiormq's connection errors are ConnectionErrors, a silent
        # broker a TimeoutError: both would read as the database not answering
        raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc


def _publish_deadline(db: Database) -> float | None:
    """Within the block's own deadline, leaving a second for the DELETE and the COMMIT."""
    return None if db.deadline_s is None else max(db.deadline_s - 1.0, 0.5)


async def outbox_backlog(db: Database) -> Backlog:
    """Events and replies committed but not yet published (a read, no lock)."""
    async with db.connection() as conn:
        return await OutboxRepository(conn).backlog()
