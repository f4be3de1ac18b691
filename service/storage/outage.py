"""When the database stops answering: what the service tells callers, and one log
line when an outage starts and one when it ends (not a traceback per request)."""

from __future__ import annotations

import time

import asyncpg

from service.logging import get_logger

log = get_logger(__name__)

# Faults that mean "the database did not answer": refused, reset, closed, too busy to
# take a connection, or silent past a deadline (asyncpg raises TimeoutError then).
UNANSWERED: tuple[type[BaseException], ...] = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    ConnectionError,
    OSError,
    TimeoutError,
)


class DatabaseUnavailable(Exception):
    """The database did not answer. ``maybe_applied``: it stopped answering after the
    work began, so its COMMIT may have happened; the caller cannot know the outcome and
    should repeat the request with the same id (which is safe: every write is
    idempotent by its id)."""

    def __init__(self, cause: BaseException, *, maybe_applied: bool, stale: bool = False) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.maybe_applied = maybe_applied
        self.stale = stale  # a pooled connection the server had closed: a fresh one may do


class Outage:
    """The database's state as this process sees it."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.refused = 0

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def failed(self, cause: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("database_unavailable", error=type(cause).__name__)

    def refused_one(self) -> None:
        """A request was answered 503 for it."""
        self.refused += 1

    def answered(self) -> None:
        if self.since is None:
            return
        lasted = round(time.monotonic() - self.since, 1)
        log.warning("database_recovered", refused=self.refused, after_s=lasted)
        self.since, self.refused = None, 0
