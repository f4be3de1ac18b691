"""The unit of work: one connection, one transaction.

Only ``service/usecases`` opens transactions. Transient faults (deadlock,
serialization failure, a pooled connection found closed, a race to insert the same
new id) are retried a bounded number of times with backoff; the block must therefore
be safe to run again from the start, which it is because a rolled-back attempt left
nothing behind. A constraint that the client's input broke becomes its domain error
(errors.py). A database that does not answer (refused, reset, silent past its
deadline) raises DatabaseUnavailable at once (outage.py): waiting out an outage is the
caller's choice (a message is held and retried; an HTTP request is answered 503).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from service import tracing
from service.logging import get_logger
from service.storage import constraints
from service.storage.errors import translate
from service.storage.outage import UNANSWERED, DatabaseUnavailable, Outage, Unanswered
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
    # A migration changed a table this connection had a statement prepared for (a new
    # column under SELECT *): asyncpg drops the statement and retries it by itself,
    # except inside a transaction, where only running the transaction again can.
    asyncpg.InvalidCachedStatementError,
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
    """A fault that running the same transaction again may not meet (the database being
    unavailable included, for callers that wait it out)."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return exc.constraint_name in RACES
    return isinstance(exc, (*TRANSIENT_ERRORS, DatabaseUnavailable, CommitUncertain))


# A pooled connection the server closed meanwhile (a restart), or left half-way through
# an operation: the next one is fresh.
_STALE_CONNECTION = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)
_UNUSABLE: tuple[type[BaseException], ...] = (
    *UNANSWERED,
    asyncpg.InternalClientError,
    asyncpg.AdminShutdownError,
)


def _drop(conn: Connection) -> None:
    """Close a connection that did not answer, without waiting for it: a ROLLBACK or a
    reset on a silent connection would wait as long as the silence lasts."""
    conn.terminate()


@dataclass(slots=True)
class _Block:
    """What a block of work on a connection was doing when it was cut off."""

    committing: bool = False


_block: ContextVar[_Block | None] = ContextVar("block", default=None)

_SPAN_ATTRIBUTES = {"db.system.name": "postgresql"}

# How much longer than PostgreSQL's statement_timeout a block may take before the
# client gives its connection up: a database that answers, however slowly, cancels a
# long statement itself first (a 503, not an outage); only silence outlasts this.
DEADLINE_MARGIN_S = 1.0


class CommitUncertain(Exception):
    """The connection was lost during a COMMIT: it may have happened. Running the
    transaction again is safe (every write is idempotent by its id) and tells."""


class Database:
    def __init__(
        self,
        pool: Pool,
        *,
        attempts: int = 5,
        acquire_timeout_s: float = 5.0,
        deadline_s: float | None = None,
    ) -> None:
        """``deadline_s``: how long a block of work on a connection may take before the
        connection is given up (closed, without waiting for it to answer)."""
        self.pool = pool
        self.attempts = attempts
        self.acquire_timeout_s = acquire_timeout_s
        self.deadline_s = deadline_s
        self.outage = Outage()
        # Awaited after each commit with what it changed, so this replica's caches
        # are current before the caller answers (read your own writes); other
        # replicas hear it through NOTIFY.
        self.after_commit: list[Callable[[Changes], Awaitable[None]]] = []

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """One READ COMMITTED transaction; commits when the block ends without error.
        A connection lost during the COMMIT raises CommitUncertain: it may have happened.
        With tracing on, a span inside a traced story (service/tracing.py)."""
        if tracing.ON:
            return tracing.traced_transaction(self._transaction(), _SPAN_ATTRIBUTES)
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        async with self.connection() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                yield conn
            except UNANSWERED:
                raise  # connection() drops the connection; PostgreSQL rolls back on its own
            except Exception:
                await transaction.rollback()
                raise
            except BaseException:
                # Cancelled (the deadline, a client gone): a ROLLBACK would first wait for
                # asyncpg to cancel the statement in flight, a round trip a silent network
                # holds. connection() drops the connection; PostgreSQL rolls back on its own.
                raise
            block = _block.get()
            if block is not None:  # cut off from here on, the COMMIT may have happened
                block.committing = True
            try:
                await transaction.commit()
            except UNANSWERED as exc:
                _drop(conn)
                raise CommitUncertain(exc) from exc

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A connection, within the acquire deadline. Raises DatabaseUnavailable when
        the database does not answer (``maybe_applied`` when a COMMIT was cut off), or
        when PostgreSQL cancelled a statement that outlasted its statement_timeout (the
        database answered: not an outage)."""
        if not self.outage.admit():  # another caller is finding out whether it is back
            raise DatabaseUnavailable(
                Unanswered("the database is unavailable"), maybe_applied=False
            )
        block = _Block()
        token = _block.set(block)
        try:
            async with self.pool.acquire(timeout=self.acquire_timeout_s) as conn:
                try:
                    async with asyncio.timeout(self.deadline_s):
                        yield conn
                except BaseException as exc:
                    if isinstance(exc, _UNUSABLE) or not isinstance(exc, Exception):
                        # Before the pool takes it back: a silent connection would not
                        # answer, and one whose operation was cancelled half-way (a client
                        # went away) is in no state to serve the next caller.
                        _drop(conn)
                    raise
        except CommitUncertain:  # Database.run finds out, by running the work again
            self.outage.released()
            raise
        except _UNUSABLE as exc:
            if isinstance(exc, _STALE_CONNECTION) and not self.outage.ongoing:
                # A pooled connection closed meanwhile (a restart): not an outage yet;
                # Database.run tries a fresh one.
                raise DatabaseUnavailable(exc, maybe_applied=False, stale=True) from exc
            self.outage.failed(exc)
            raise DatabaseUnavailable(exc, maybe_applied=block.committing) from exc
        except asyncpg.QueryCanceledError as exc:
            self.outage.answered()
            log.warning("statement_cancelled", error=str(exc))
            raise DatabaseUnavailable(exc, maybe_applied=False) from exc
        except DatabaseUnavailable:  # a nested block refused: this one learnt nothing
            self.outage.released()
            raise
        except Exception:
            self.outage.answered()  # it answered; the work itself refused (a domain error)
            raise
        except BaseException:
            self.outage.released()  # cancelled: whether it would have answered is unknown
            raise
        finally:
            _block.reset(token)
        self.outage.answered()

    async def run(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run ``work`` in a transaction, retrying it on transient faults. Raises
        DatabaseUnavailable when the database does not answer."""
        lost_mid_way = False  # a COMMIT was cut off: it may have happened
        for attempt in range(1, self.attempts + 1):
            changed: Changes = {}
            token = _changes.set(changed)
            try:
                async with self.transaction() as conn:
                    result = await work(conn)
            except DatabaseUnavailable as unavailable:
                if unavailable.stale and attempt < self.attempts:
                    continue
                if lost_mid_way and not unavailable.maybe_applied:  # an earlier COMMIT, maybe
                    raise DatabaseUnavailable(unavailable, maybe_applied=True) from unavailable
                raise
            except Exception as exc:
                lost_mid_way = lost_mid_way or isinstance(exc, CommitUncertain)
                if not is_transient(exc):
                    if (error := translate(exc)) is not None:
                        raise error from exc
                    raise
                if attempt == self.attempts:
                    if isinstance(exc, (*UNANSWERED, CommitUncertain)):
                        self.outage.failed(exc)
                        raise DatabaseUnavailable(exc, maybe_applied=lost_mid_way) from exc
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
