"""One flush of the reservation engine: a batch's single transaction.

Claim message keys, lock reservation rows then balances (in the global order of
docs/architecture.md), decide every step in arrival order in memory, write all
rows in one statement (reservation_batch.sql). See reservation_engine.py for why and how.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from service.contracts.messages import encoder
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
from service.ids import new_id
from service.logging import get_logger
from service.storage.idempotency import IdempotencyRepository, StoredAnswer
from service.storage.ledger import LedgerRepository
from service.storage.outbox import OutgoingMessage, event, reply
from service.storage.pool import Connection
from service.storage.reservation_batch import BatchWrite, ReservationBatchRepository
from service.storage.reservations import ReservationRepository
from service.usecases.message_answers import MESSAGE_SCOPE
from service.usecases.reservation_events import announce, rejected, step_name
from service.usecases.reservation_steps import (
    Cancel,
    Create,
    Expire,
    Fulfil,
    Origin,
    Pending,
    TransferIn,
    reservation_ids_of,
)

log = get_logger(__name__)


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
        active = await self._lock()
        known_locations = await self._known_locations(active)
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
                new_id(),
                pending.origin.correlation_id,
            )
            self._reply(pending, m_encode(payload))
        return answers

    # -- phase 2 and 3: what to lock ----------------------------------------

    async def _lock(self) -> dict[str, bool]:
        """Lock reservations, then balances; returns location_id -> active for the
        balances' locations. A batch of creates alone (the flash sale) knows its
        balances before it sees any reservation: both are locked in one statement."""
        ids = [rid for p in self.batch for rid in reservation_ids_of(p.step)]
        if all(isinstance(p.step, Create) for p in self.batch):
            keys = self._balance_keys()
            locked, self.balances, active = await ReservationBatchRepository(
                self.conn
            ).lock_for_creates(ids, list(keys))
            if locked:  # a create sent again; its lock may have made the statement wait
                self.reservations = await self.repo.with_lines(locked)
                # One snapshot served the whole statement: a balance created while it
                # waited was not seen. Read them again (already locked: no wait).
                self.balances, active = await self.ledger.lock_existing_balances(keys)
            return active
        self.reservations = await self.repo.lock(ids)
        self.balances, active = await self.ledger.lock_existing_balances(self._balance_keys())
        arriving = self._arriving_keys() - set(self.balances)
        if arriving:  # goods arriving where the SKU never was: create (and lock) the balance
            self.balances.update(await self.ledger.lock_balances(arriving))
        return active

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

    async def _known_locations(self, active: dict[str, bool]) -> dict[str, bool]:
        """location_id -> active for every location a create names. The balances just
        locked tell most of them; only locations without one are looked up."""
        wanted = {p.step.command.location_id for p in self.batch if isinstance(p.step, Create)}
        unseen = wanted - set(active)
        if not unseen:
            return active
        return active | await self.ledger.existing_locations(unseen)

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
        step = pending.step
        said = announce(
            step_name(step),
            step.reservation_id,
            decision,
            self.now,
            origin.correlation_id,
            step.command.location_id if isinstance(step, Create) else None,
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
        """Every row of the batch in one statement (see reservation_batch.sql for why)."""
        await ReservationBatchRepository(self.conn).write_batch(
            BatchWrite(
                occurred_at=self.now,
                created=list(self.created.values()),
                updated=list(self.updated.values()),
                deltas=self.deltas,
                actors=self.actors,
                messages=self.messages,
                answer_scope=MESSAGE_SCOPE,
                answers=self.answers,
            )
        )


def m_encode(payload: msgspec.Struct) -> bytes:
    return encoder.encode(payload)
