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


class Unanswered(ConnectionError):
    """Refused without trying: the database did not answer the last caller either."""


class DatabaseUnavailable(Exception):
    """The database did not answer. ``maybe_applied``: it stopped answering after the
    work began, so its COMMIT may have happened; the caller cannot know the outcome and
    should repeat the request with the same id (which is safe: every write is
    idempotent by its id)."""

    def __init__(self, cause: BaseException, *, maybe_applied: bool, stale: bool = False) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.maybe_applied = maybe_applied
        self.stale = stale  # a pooled connection the server had closed: a fresh one may do


PROBE_INTERVAL_S = 1.0


class Outage:
    """The database's state as this process sees it. During an outage one caller at a
    time, at most once a second, probes the database (and may wait for its deadline);
    the others are refused at once instead of each waiting a deadline of its own."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.refused = 0
        self._probing = False
        self._probed_at = 0.0

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def admit(self) -> bool:
        """Whether the caller may try the database now (during an outage: the one probe)."""
        if self.since is None:
            return True
        now = time.monotonic()
        if self._probing or now - self._probed_at < PROBE_INTERVAL_S:
            return False
        self._probing, self._probed_at = True, now
        return True

    def failed(self, cause: BaseException) -> None:
        self._probing, self._probed_at = False, time.monotonic()
        if self.since is None:
            self.since = self._probed_at
            log.warning("database_unavailable", error=type(cause).__name__)

    def refused_one(self) -> None:
        """A request was answered 503 for it (counted while an outage lasts: the number
        its end reports)."""
        if self.since is not None:
            self.refused += 1

    def released(self) -> None:
        """The probe ended without an answer either way (it was cancelled): the next
        caller may probe."""
        self._probing = False

    def answered(self) -> None:
        self._probing = False
        if self.since is None:
            return
        lasted = round(time.monotonic() - self.since, 1)
        log.warning("database_recovered", refused=self.refused, after_s=lasted)
        self.since, self.refused = None, 0
