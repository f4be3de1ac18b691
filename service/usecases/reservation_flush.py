"""One flush of the reservation engine: a batch's single transaction.

Claim message ids, lock reservation rows then balances (in the global order of
docs/architecture.md), decide every step in arrival order in memory, write all
rows in one statement (reservation_batch.sql). See reservation_engine.py for why
and for the locking story.
"""

from __future__ import annotations

from datetime import UTC, datetime

from service.contracts.messages import encoder
from service.domain.ledger import Balance, BalanceKey, Delta
from service.domain.pickup_transfers import decide_transfer_in
from service.domain.reservation_decisions import (
    decide_cancel,
    decide_create,
    decide_expire,
    decide_fulfil,
)
from service.domain.reservations import Decision, Outcome, OutcomeKind, ReservationState
from service.storage.idempotency import StoredAnswer
from service.storage.ledger import LedgerRepository
from service.storage.outbox import OutgoingMessage, event, reply
from service.storage.pool import Connection
from service.storage.reservation_batch import BatchWrite, ReservationBatchRepository
from service.storage.reservations import ReservationRepository
from service.usecases.message_idempotency import (
    MESSAGE_SCOPE,
    STORED_STATUS,
    claim_messages,
    repeat_outcome,
    stored_payload,
)
from service.usecases.reservation_events import announce, rejection
from service.usecases.reservation_steps import (
    Cancel,
    Create,
    Expire,
    Fulfil,
    Pending,
    TransferIn,
    reservation_ids_of,
)


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
        self.answers: dict[str, tuple[int, object]] = {}  # message id -> (status, stored)
        self.fingerprints: dict[str, str] = {}  # message id -> its first message's content

    async def run(self) -> list[Outcome]:
        claimed_before = await self._claim_message_ids()
        active = await self._lock()
        known_locations = await self._known_locations(active)
        outcomes = [
            self._repeat(pending, claimed_before) or self._decide(pending, known_locations)
            for pending in self.batch
        ]
        await self._write()
        return outcomes

    # -- phase 1: message ids (docs: message_idempotency.py) -------------------

    async def _claim_message_ids(self) -> dict[str, StoredAnswer]:
        for pending in self.batch:
            if pending.origin.message_id is not None:
                self.fingerprints.setdefault(pending.origin.message_id, pending.origin.fingerprint)
        if not self.fingerprints:
            return {}
        return await claim_messages(self.conn, self.fingerprints)

    def _repeat(self, pending: Pending, claimed_before: dict[str, StoredAnswer]) -> Outcome | None:
        """The answer to a message seen before (in an earlier transaction or earlier in
        this batch), or None when the step is to be decided."""
        message_id = pending.origin.message_id
        if message_id is None:
            return None
        if message_id in self.answers:  # the same message id twice in one batch
            status, stored = self.answers[message_id]
            same = pending.origin.fingerprint == self.fingerprints[message_id]
            stored_before = StoredAnswer(status, stored, same)
        elif message_id in claimed_before:
            stored_before = claimed_before[message_id]
        else:
            return None
        outcome = repeat_outcome(message_id, stored_before)
        if stored_before.same:
            self._reply(pending, stored_payload(stored_before))
        else:
            refusal = rejection(pending.step, outcome, self.now, pending.origin.correlation_id)
            self._reply(pending, encoder.encode(refusal))
        return outcome

    # -- phases 2 and 3: what to lock ---------------------------------------

    async def _lock(self) -> dict[str, bool]:
        """Lock reservations, then balances; returns location_id -> active for the
        balances' locations. A batch of creates alone (the flash sale) knows its
        balances before it sees any reservation: both are locked in one statement."""
        ids = [rid for p in self.batch for rid in reservation_ids_of(p.step)]
        if all(isinstance(p.step, Create) for p in self.batch):
            return await self._lock_for_creates(ids)
        self.reservations = await self.repo.lock(ids)
        self.balances, active = await self.ledger.lock_existing_balances(self._balance_keys())
        arriving = self._arriving_keys() - set(self.balances)
        if arriving:  # goods arriving where the SKU never was: create (and lock) the balance
            self.balances.update(await self.ledger.lock_balances(arriving))
        return active

    async def _lock_for_creates(self, ids: list[str]) -> dict[str, bool]:
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

    def _balance_keys(self) -> set[BalanceKey]:
        keys: set[BalanceKey] = set()
        for pending in self.batch:
            step = pending.step
            if isinstance(step, Create):
                keys.update((step.request.location_id, x.sku) for x in step.request.lines)
                continue
            for rid in reservation_ids_of(step):
                if (existing := self.reservations.get(rid)) is not None:
                    keys.update((existing.location_id, x.sku) for x in existing.lines)
        return keys

    def _arriving_keys(self) -> set[BalanceKey]:
        keys: set[BalanceKey] = set()
        for pending in self.batch:
            step = pending.step
            if isinstance(step, TransferIn) and (
                source := self.reservations.get(step.source_reservation_id)
            ):
                keys.update((step.store_id, x.sku) for x in source.lines)
        return keys

    async def _known_locations(self, active: dict[str, bool]) -> dict[str, bool]:
        """location_id -> active for every location a create names. The balances just
        locked tell most of them; only locations without one are looked up."""
        wanted = {p.step.request.location_id for p in self.batch if isinstance(p.step, Create)}
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
                decision = decide_expire(existing, self.now)
            case TransferIn():
                source = self.reservations.get(step.source_reservation_id)
                decision = decide_transfer_in(source, step.reservation_id, step.store_id, self.now)
        self._fold(decision, pending.origin.actor)
        self._announce(pending, decision)
        return decision.outcome

    def _decide_create(
        self, step: Create, existing: ReservationState | None, known: dict[str, bool]
    ) -> Decision:
        location_id = step.request.location_id
        if existing is None and location_id not in known:
            detail = f"location {location_id!r} does not exist"
            return _invalid("unknown_location", detail)
        if existing is None and not known[location_id]:
            return _invalid("inactive_location", f"location {location_id!r} is not active")
        expires_at = step.expires_at or self.now + step.ttl
        return decide_create(step.request, existing, self.balances, self.now, expires_at)

    def _fold(self, decision: Decision, actor: str) -> None:
        """Fold a decision into the batch: balances, reservations, rows to write."""
        for delta in decision.deltas:
            self.balances[delta.key] = self.balances[delta.key].moved(delta)
        self.deltas.extend(decision.deltas)
        self.actors.extend([actor] * len(decision.deltas))
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
        announcement = announce(pending.step, decision, self.now, origin.correlation_id)
        if announcement is None:
            return
        if announcement.publish:
            # In the request's own context: its correlation id and span, not the flush's.
            self.messages.append(
                pending.context.run(
                    event, announcement.routing_key, announcement.payload, announcement.event_id
                )
            )
        self._reply(pending, announcement.payload)
        if origin.message_id is not None:
            status = STORED_STATUS[decision.outcome.kind]
            self.answers[origin.message_id] = (status, announcement.stored())

    def _reply(self, pending: Pending, payload: bytes | None) -> None:
        origin = pending.origin
        if origin.reply_to and payload is not None:
            answering = (origin.message_id or "", origin.fingerprint)
            self.messages.append(
                pending.context.run(
                    reply, origin.reply_to, payload, origin.correlation_id, answering
                )
            )

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


def _invalid(code: str, detail: str) -> Decision:
    return Decision(Outcome(OutcomeKind.INVALID, code, detail, field="location_id"))
