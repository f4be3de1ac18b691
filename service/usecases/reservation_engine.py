"""The reservation engine: every reservation step, from HTTP or from a message,
goes through here and is decided in a short batched transaction.

Why batches: a flash sale sends thousands of requests for one SKU at one store.
One transaction per request would queue every request on that balance's row
lock (a few hundred per second at best). Instead, concurrent requests wait in a
queue; one flush takes them all, locks each row once, decides every request in
arrival order in memory, writes all rows, commits, and only then answers each
request. Each answer is therefore as durable as if it had its own transaction.

Locking story of one flush (one READ COMMITTED transaction, ``Database.run``):
1. Idempotency keys of message-borne commands, claimed in sorted order
   (``INSERT ... ON CONFLICT DO NOTHING``; a concurrent holder of the same key
   makes us wait until it commits, and then we read its stored answer).
2. Reservation rows named by the batch, ``FOR UPDATE`` in
   (location_id, reservation_id) order.
3. Balances touched by the batch, ``FOR UPDATE`` in (location_id, sku) order,
   the same order ``post_movements`` uses. A batch of creates alone (a flash
   sale) takes (2) and (3) in one statement, one part after the other
   (``lock_for_creates`` in reservation_batch.sql). Every writer takes (2) before (3),
   so flushes on several replicas, movement batches and sweepers can wait for
   each other but cannot deadlock; a deadlock with an outside writer, or a
   unique violation from a concurrent create of the same new id elsewhere, is a
   transient fault and the flush is retried from the start.
4. Decisions in memory on the locked figures: the check that prevents
   overselling is ``available >= requested`` on the locked row, updated after
   every accepted request of the batch.
5. All rows written in one statement (reservation_batch.sql), then commit: the
   balances stay locked for three round trips (lock, write, commit); a batch of
   creates makes four round trips in all (begin, lock, write, commit).
A flush that fails for a non-transient reason is split and each request is
retried alone, so one bad request cannot sink its neighbours.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from datetime import datetime

from service import tracing
from service.correlation import begin_round
from service.domain.reservations import Outcome
from service.logging import get_logger
from service.observability.metrics import count_flush
from service.storage.database import Database
from service.storage.outage import DatabaseUnavailable
from service.storage.pool import Connection
from service.usecases.reservation_flush import Flush
from service.usecases.reservation_steps import Origin, Pending, Step

log = get_logger(__name__)


class ReservationEngine:
    """Queues requests and flushes them in batches, one flush at a time per process
    (a flush costs mostly per batch, not per request: overlapping flushes only made
    batches smaller; docs/performance.md)."""

    def __init__(self, db: Database, *, max_batch: int = 500) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: list[Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0
        self.requests = 0

    async def submit(self, step: Step, origin: Origin) -> Outcome:
        """Decide ``step`` and return its outcome once it is committed."""
        return await self.enqueue(step, origin)

    def enqueue(self, step: Step, origin: Origin) -> asyncio.Future[Outcome]:
        """Queue ``step`` for the next flush; the future is resolved after its commit
        (or fails with the flush's error). For callers that await many at once."""
        if self._task is None or self._task.done():
            # An empty context: the engine must not log with its first caller's request id.
            self._task = asyncio.create_task(
                self._run(), name="reservation-engine", context=contextvars.Context()
            )
        pending = Pending(step, origin)
        self._queue.append(pending)
        self._wakeup.set()
        return pending.future

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for pending in self._queue:
            if not pending.future.done():
                pending.future.set_exception(RuntimeError("reservation engine stopped"))
        self._queue.clear()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                # The flush's own lines (a split) carry an id of their own; each
                # request's events and failure lines keep its id (Pending.context).
                begin_round()
                await self._flush(batch)

    async def _flush(self, batch: list[Pending]) -> None:
        started = time.perf_counter()
        try:
            outcomes = await self._decide(batch)
        except DatabaseUnavailable as exc:  # no request's own fault: no split, no retries
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        except Exception as exc:
            if len(batch) > 1:
                log.warning("reservation_batch_split", size=len(batch), error=type(exc).__name__)
                for pending in batch:
                    await self._flush([pending])
                return
            batch[0].context.run(
                log.exception, "reservation_request_failed", error=type(exc).__name__
            )
            if not batch[0].future.done():
                batch[0].future.set_exception(exc)
            return
        self.flushes += 1
        self.requests += len(batch)
        count_flush(batch, outcomes, started)
        for pending, outcome in zip(batch, outcomes, strict=True):
            if not pending.future.done():
                pending.future.set_result(outcome)

    async def _decide(self, batch: list[Pending]) -> list[Outcome]:
        """The flush's transaction; with tracing on, in one span linked to the span of
        each request it decides (service/tracing.py)."""
        if not tracing.ON:
            return await self.db.run(lambda conn: Flush(conn, batch).run())
        contexts = [pending.context for pending in batch]
        with tracing.linked_span("reservation.flush", contexts, {"batch.size": len(batch)}):
            return await self.db.run(lambda conn: Flush(conn, batch).run())


async def decide_in_transaction(
    conn: Connection, steps: list[tuple[Step, Origin]], now: datetime | None = None
) -> list[Outcome]:
    """Decide ``steps`` inside the caller's transaction, without batching.

    For aggregates that own reservations (pickups): their own rows (the pickup,
    the slot's capacity) are locked by the caller first, then these steps lock
    reservations and balances in the usual order, all in one transaction.
    """
    return await Flush(conn, [Pending(step, origin) for step, origin in steps], now).run()
