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
   the same order ``post_movements`` uses. Every writer takes (2) before (3),
   so flushes on several replicas, movement batches and sweepers can wait for
   each other but cannot deadlock; a deadlock with an outside writer, or a
   unique violation from a concurrent create of the same new id elsewhere, is a
   transient fault and the flush is retried from the start.
4. Decisions in memory on the locked figures: the check that prevents
   overselling is ``available >= requested`` on the locked row, updated after
   every accepted request of the batch.
A flush that fails for a non-transient reason is split and each request is
retried alone, so one bad request cannot sink its neighbours.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import msgspec
import structlog

from service.contracts.messages import encoder
from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.domain.ledger import Balance, BalanceKey, Delta
from service.domain.reservations import (
    Decision,
    Outcome,
    ReservationState,
    decide_cancel,
    decide_create,
    decide_expire,
    decide_fulfil,
    decide_transfer_in,
)
from service.logging import get_logger
from service.storage.database import Database
from service.storage.idempotency import IdempotencyRepository, StoredAnswer
from service.storage.ledger import LedgerRepository
from service.storage.outbox import OutboxRepository, OutgoingMessage, event, reply
from service.storage.pool import Connection
from service.storage.reservations import ReservationRepository
from service.usecases.message_answers import MESSAGE_SCOPE
from service.usecases.reservation_events import announce, rejected, step_name

log = get_logger(__name__)


# ------------------------------------------------------------------ requests


@dataclass(frozen=True, slots=True)
class Create:
    command: CreateReservation
    fingerprint: str
    ttl: timedelta
    expires_at: datetime | None = None  # an exact expiry (a pickup's hold_until), not now + ttl

    @property
    def reservation_id(self) -> str:
        return self.command.reservation_id


@dataclass(frozen=True, slots=True)
class Cancel:
    reservation_id: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Fulfil:
    reservation_id: str
    lines: list[ReservationLineIn] | None = None


@dataclass(frozen=True, slots=True)
class Expire:
    reservation_id: str


@dataclass(frozen=True, slots=True)
class TransferIn:
    """Warehouse-reserved goods arrived at ``store_id``: see ``decide_transfer_in``."""

    source_reservation_id: str
    reservation_id: str  # the new reservation at the store
    store_id: str


Step = Create | Cancel | Fulfil | Expire | TransferIn


def reservation_ids_of(step: Step) -> list[str]:
    if isinstance(step, TransferIn):
        return [step.source_reservation_id, step.reservation_id]
    return [step.reservation_id]


@dataclass(frozen=True, slots=True)
class Origin:
    """How a request arrived. Messages carry an idempotency key and maybe a reply_to."""

    actor: str
    idempotency_key: str | None = None
    fingerprint: str = ""
    reply_to: str | None = None
    correlation_id: str | None = None


@dataclass(slots=True)
class Pending:
    step: Step
    origin: Origin
    log_context: dict[str, object] = field(default_factory=dict)
    future: asyncio.Future[Outcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


# ------------------------------------------------------------------ engine


class ReservationEngine:
    """Queues requests and flushes them in batches, one flush at a time per process."""

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
        if self._task is None or self._task.done():
            # An empty context: the engine must not log with its first caller's request id.
            self._task = asyncio.create_task(
                self._run(), name="reservation-engine", context=contextvars.Context()
            )
        pending = Pending(step, origin, structlog.contextvars.get_contextvars())
        self._queue.append(pending)
        self._wakeup.set()
        return await pending.future

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
                await self._flush(batch)

    async def _flush(self, batch: list[Pending]) -> None:
        try:
            outcomes = await self.db.run(lambda conn: Flush(conn, batch).run())
        except Exception as exc:
            if len(batch) > 1:
                log.warning("reservation_batch_split", size=len(batch), error=type(exc).__name__)
                for pending in batch:
                    await self._flush([pending])
                return
            log.exception(
                "reservation_request_failed", error=type(exc).__name__, **batch[0].log_context
            )
            if not batch[0].future.done():
                batch[0].future.set_exception(exc)
            return
        self.flushes += 1
        self.requests += len(batch)
        for pending, outcome in zip(batch, outcomes, strict=True):
            if not pending.future.done():
                pending.future.set_result(outcome)


async def decide_in_transaction(
    conn: Connection, steps: list[tuple[Step, Origin]], now: datetime | None = None
) -> list[Outcome]:
    """Decide ``steps`` inside the caller's transaction, without batching.

    For aggregates that own reservations (pickups): their own rows (the pickup,
    the slot's capacity) are locked by the caller first, then these steps lock
    reservations and balances in the usual order, all in one transaction.
    """
    return await Flush(conn, [Pending(step, origin) for step, origin in steps], now).run()


class Flush:
    """One batch's transaction: claim, lock, decide, write."""

    def __init__(self, conn: Connection, batch: list[Pending], now: datetime | None = None) -> None:
        self.conn = conn
        self.batch = batch
        self.now = now or datetime.now(UTC)
        self.ledger = LedgerRepository(conn)
        self.repo = ReservationRepository(conn)
        self.balances: dict[BalanceKey, Balance] = {}
        self.reservations: dict[str, ReservationState] = {}
        self.deltas: list[Delta] = []
        self.actors: list[str] = []
        self.created: dict[str, ReservationState] = {}
        self.updated: dict[str, ReservationState] = {}
        self.messages: list[OutgoingMessage] = []
        self.answers: dict[str, tuple[int, object]] = {}  # idempotency key -> (status, stored)

    async def run(self) -> list[Outcome]:
        answered = await self._claim_idempotency_keys()
        self.reservations = await self.repo.lock(
            rid for p in self.batch for rid in reservation_ids_of(p.step)
        )
        self.balances = await self.ledger.lock_existing_balances(self._balance_keys())
        arriving = self._arriving_keys() - set(self.balances)
        if arriving:  # goods arriving where the SKU never was: create (and lock) the balance
            self.balances.update(await self.ledger.lock_balances(arriving))
        known_locations = await self._known_locations()
        outcomes: list[Outcome] = []
        for index, pending in enumerate(self.batch):
            key = pending.origin.idempotency_key
            if index in answered:
                outcomes.append(answered[index])
            elif key is not None and key in self.answers:  # the same message twice in one batch
                status, stored = self.answers[key]
                outcomes.append(Outcome(status, "duplicate", "already processed"))
                self._reply_stored(pending, stored)
            else:
                outcomes.append(self._decide(pending, known_locations))
        await self._write()
        return outcomes

    # -- phase 1: idempotency of message-borne requests ----------------------

    async def _claim_idempotency_keys(self) -> dict[int, Outcome]:
        """Claim message keys in sorted order; return the stored answers of keys seen before."""
        repo = IdempotencyRepository(self.conn)
        first: dict[str, int] = {}
        for index, pending in enumerate(self.batch):
            if pending.origin.idempotency_key is not None:
                first.setdefault(pending.origin.idempotency_key, index)
        answered: dict[int, Outcome] = {}
        if not first:
            return answered
        fingerprints = {key: self.batch[index].origin.fingerprint for key, index in first.items()}
        for key, stored in (await repo.claim_many(MESSAGE_SCOPE, fingerprints)).items():
            answered.update(self._answers_from_store(key, stored))
        return answered

    def _answers_from_store(self, key: str, stored: StoredAnswer) -> dict[int, Outcome]:
        answers: dict[int, Outcome] = {}
        for index, pending in enumerate(self.batch):
            if pending.origin.idempotency_key != key:
                continue
            if stored.same:
                answers[index] = Outcome(stored.status_code, "duplicate", "already processed")
                self._reply_stored(pending, stored.response)
                continue
            outcome = Outcome(
                409, "message_id_reused", f"message id {key!r} was used for another message"
            )
            answers[index] = outcome
            payload = rejected(
                step_name(pending.step),
                pending.step.reservation_id,
                outcome,
                self.now,
                uuid4_hex(),
                pending.origin.correlation_id,
            )
            self._reply(pending, m_encode(payload))
        return answers

    # -- phase 2 and 3: what to lock ----------------------------------------

    def _balance_keys(self) -> set[BalanceKey]:
        keys: set[BalanceKey] = set()
        for pending in self.batch:
            step = pending.step
            if isinstance(step, Create):
                keys.update((step.command.location_id, x.sku) for x in step.command.lines)
            else:
                for rid in reservation_ids_of(step):
                    if (existing := self.reservations.get(rid)) is not None:
                        keys.update((existing.location_id, x.sku) for x in existing.lines)
        return keys

    def _arriving_keys(self) -> set[BalanceKey]:
        keys: set[BalanceKey] = set()
        for pending in self.batch:
            step = pending.step
            if isinstance(step, TransferIn) and (
                src := self.reservations.get(step.source_reservation_id)
            ):
                keys.update((step.store_id, x.sku) for x in src.lines)
        return keys

    async def _known_locations(self) -> dict[str, bool]:
        wanted = {p.step.command.location_id for p in self.batch if isinstance(p.step, Create)}
        return await self.ledger.existing_locations(wanted) if wanted else {}

    # -- phase 4: decide, in arrival order -----------------------------------

    def _decide(self, pending: Pending, known_locations: dict[str, bool]) -> Outcome:
        step = pending.step
        existing = self.reservations.get(step.reservation_id)
        match step:
            case Create():
                decision = self._decide_create(step, existing, known_locations)
            case Cancel():
                decision = decide_cancel(existing, step.reservation_id, self.now, step.reason)
            case Fulfil():
                decision = decide_fulfil(existing, step.reservation_id, self.now, step.lines)
            case Expire():
                decision = decide_expire(existing, self.now) or Decision(Outcome(204, "not_due"))
            case TransferIn():
                source = self.reservations.get(step.source_reservation_id)
                decision = decide_transfer_in(
                    source, step.reservation_id, step.store_id, self.now, "transfer-in"
                )
        self._take(decision, pending.origin)
        self._announce(pending, decision)
        return decision.outcome

    def _decide_create(
        self, step: Create, existing: ReservationState | None, known: dict[str, bool]
    ) -> Decision:
        location_id = step.command.location_id
        if existing is None and location_id not in known:
            return Decision(
                Outcome(
                    422,
                    "unknown_location",
                    f"location {location_id!r} does not exist",
                    field="location_id",
                )
            )
        if existing is None and not known[location_id]:
            return Decision(
                Outcome(
                    422,
                    "inactive_location",
                    f"location {location_id!r} is not active",
                    field="location_id",
                )
            )
        expires_at = step.expires_at or self.now + step.ttl
        return decide_create(
            step.command, step.fingerprint, existing, self.balances, self.now, expires_at
        )

    def _take(self, decision: Decision, origin: Origin) -> None:
        """Fold a decision into the batch: balances, reservations, rows to write."""
        for delta in decision.deltas:
            self.balances[delta.key] = self.balances[delta.key].moved(delta)
        self.deltas.extend(decision.deltas)
        self.actors.extend([origin.actor] * len(decision.deltas))
        if decision.created is not None:
            self.created[decision.created.reservation_id] = decision.created
            self.reservations[decision.created.reservation_id] = decision.created
        if decision.updated is not None:
            state = decision.updated
            target = self.created if state.reservation_id in self.created else self.updated
            target[state.reservation_id] = state
            self.reservations[state.reservation_id] = state

    def _announce(self, pending: Pending, decision: Decision) -> None:
        origin = pending.origin
        said = announce(
            step_name(pending.step),
            pending.step.reservation_id,
            decision,
            self.now,
            origin.correlation_id,
        )
        if said is None:
            return
        if said.publish:
            self.messages.append(event(said.routing_key, said.payload, said.event_id))
        self._reply(pending, said.payload)
        if origin.idempotency_key is not None:
            self.answers[origin.idempotency_key] = (decision.outcome.status, said.stored())

    def _reply(self, pending: Pending, payload: bytes) -> None:
        if pending.origin.reply_to:
            self.messages.append(
                reply(pending.origin.reply_to, payload, pending.origin.correlation_id)
            )

    def _reply_stored(self, pending: Pending, stored: object) -> None:
        if isinstance(stored, dict) and isinstance(stored.get("payload"), str):
            self._reply(pending, stored["payload"].encode())

    # -- phase 5: write ------------------------------------------------------

    async def _write(self) -> None:
        await self.repo.insert(list(self.created.values()))
        await self.repo.update(list(self.updated.values()))
        if self.deltas:
            await self.ledger.insert_movements(
                self.deltas, actor=self.actors, occurred_at=[self.now] * len(self.deltas)
            )
            await self.ledger.apply_deltas(self.deltas)
            await self.ledger.balances_changed({d.key for d in self.deltas})
        await OutboxRepository(self.conn).add(self.messages)
        if self.answers:
            await IdempotencyRepository(self.conn).record_many(MESSAGE_SCOPE, self.answers)


def uuid4_hex() -> str:
    return uuid.uuid4().hex


def m_encode(payload: msgspec.Struct) -> bytes:
    return encoder.encode(payload)
