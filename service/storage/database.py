"""The unit of work: one connection, one transaction.

Only ``service/usecases`` opens transactions. Transient faults (deadlock,
serialization failure, lost connection, a race to insert the same new id) are
retried a bounded number of times with backoff; the block must therefore be safe
to run again from the start, which it is because a rolled-back attempt left
nothing behind. A constraint that the client's input broke becomes its domain
error (errors.py).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TypeVar

import asyncpg

from service.logging import get_logger
from service.storage import constraints
from service.storage.errors import translate
from service.storage.pool import Connection, Pool

T = TypeVar("T")
Changes = dict[str, set[str]]  # what a transaction changed: "balances" -> SKUs, "locations" -> ids
_changes: ContextVar[Changes | None] = ContextVar("changes", default=None)


def note_changes(kind: str, keys: Iterable[str]) -> None:
    """Called by repositories that change cached data inside ``Database.run``."""
    found = _changes.get()
    if found is not None:
        found.setdefault(kind, set()).update(keys)


log = get_logger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    ConnectionError,
    OSError,
)

# Unique constraints a concurrent transaction can violate first by inserting the same new
# id (a reservation sent to two replicas at once, or by HTTP and by message): this
# transaction looked for the id, did not see the other's uncommitted row, and inserted it
# too. The retry reads the committed row. Every other unique violation is a client's
# input (errors.py) or a bug, and is not retried. Pickups are not here: twin bookings of
# one new pickup id are serialised by an advisory lock (pickups.sql, lock_new_id); keys
# and every other upsert insert with ON CONFLICT, which waits instead of failing.
RACES = frozenset(
    {
        constraints.RESERVATIONS_PKEY,
        constraints.RESERVATIONS_ID_KEY,
        constraints.RESERVATION_LINES_PKEY,
    }
)


def is_transient(exc: BaseException) -> bool:
    """A fault that running the same transaction again may not meet."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return exc.constraint_name in RACES
    return isinstance(exc, TRANSIENT_ERRORS)


class Database:
    def __init__(self, pool: Pool, *, attempts: int = 5) -> None:
        self.pool = pool
        self.attempts = attempts
        # Awaited after each commit with what it changed, so this replica's caches
        # are current before the caller answers (read your own writes); other
        # replicas hear it through NOTIFY.
        self.after_commit: list[Callable[[Changes], Awaitable[None]]] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One READ COMMITTED transaction; commits when the block ends without error."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A connection for reads that need no transaction."""
        async with self.pool.acquire() as conn:
            yield conn

    async def run(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run ``work`` in a transaction, retrying it on transient faults."""
        for attempt in range(1, self.attempts + 1):
            changed: Changes = {}
            token = _changes.set(changed)
            try:
                async with self.transaction() as conn:
                    result = await work(conn)
            except Exception as exc:
                if not is_transient(exc):
                    if (error := translate(exc)) is not None:
                        raise error from exc
                    raise
                if attempt == self.attempts:
                    raise
                delay = min(1.0, 0.02 * 2**attempt) * random.uniform(0.5, 1.5)
                log.warning("transaction_retry", attempt=attempt, error=type(exc).__name__)
                await asyncio.sleep(delay)
                continue
            finally:
                _changes.reset(token)
            if changed:
                for listener in self.after_commit:
                    await listener(changed)
            return result
        raise AssertionError("unreachable")  # pragma: no cover
