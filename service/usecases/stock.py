"""Stock movements from integrations, and safety stock (a balance's ledger pages:
``movement_history.py``).

Locking story of ``post_movements`` (one READ COMMITTED transaction):
1. The idempotency key row (in the caller's own scope) is claimed first. A
   concurrent request with the same key blocks on it until the first commits, then
   reads the stored answer.
2. Transfer lines being received are locked (``FOR UPDATE``) in
   (to_location_id, transfer_id, sku) order, so over-receipt is impossible.
3. Every touched balance is created if missing and locked in one statement in
   (location_id, sku) order; the reservation engine locks balances in the same
   order, so two writers can wait for each other but never deadlock. (A deadlock
   caused by an outside writer is retried by ``Database.run``.)
4. The movements are decided in memory against the locked figures (a count needs
   the current on_hand), appended, and the balances updated by the summed deltas
   before commit, so each balance equals the sum of its movements at every commit.
Physical movements are never refused for lack of stock; shortages are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

import msgspec

from service.contracts import stock as wire
from service.contracts.messages import (
    StockShortage,
    encoder,
)
from service.contracts.stock import (
    BalanceView,
    MovementsPosted,
    PostMovements,
    Shortage,
)
from service.domain.errors import (
    BatchTooLarge,
    InactiveLocation,
    InvalidInput,
    LocationNotFound,
    TransferExists,
    TransferOverReceived,
    UnknownLocation,
    UnknownTransfer,
)
from service.domain.ledger import (
    Movement,
    Plan,
    Transfer,
    TransferReceipt,
    check_batch,
    plan_movements,
    touched_keys,
)
from service.ids import new_id
from service.logging import get_logger
from service.storage.database import Database
from service.storage.idempotency import IdempotencyRepository, StoredAnswer, fingerprint
from service.storage.ledger import LedgerRepository
from service.storage.outbox import OutboxRepository, OutgoingMessage, event
from service.storage.pool import Connection
from service.usecases.stock_views import balance_view, movement_of, recorded_view

log = get_logger(__name__)
MOVEMENTS_SCOPE = "stock.movements"


class MovementBatch(Protocol):
    """A batch as either edge decodes it: a PostMovements body or a stock.movements message."""

    @property
    def movements(self) -> Sequence[wire.Movement]: ...


async def post_movements(
    db: Database,
    command: PostMovements,
    *,
    idempotency_key: str,
    caller: str,
    actor: str,
    max_batch: int,
) -> MovementsPosted:
    """Apply a batch of movements, all or none; a repeated key returns the first answer.
    Keys are the caller's own: another caller's key of the same name is another request.

    Raises BatchTooLarge, UnknownLocation, InactiveLocation, UnknownTransfer,
    TransferOverReceived, TransferExists, IdempotencyKeyReused or InvalidInput.
    """
    if len(command.movements) > max_batch:
        raise BatchTooLarge(
            f"a batch holds at most {max_batch} movements, got {len(command.movements)}",
            field="movements",
        )
    request_fingerprint = fingerprint(command)

    scope = f"{MOVEMENTS_SCOPE}@{caller}"

    async def work(conn: Connection) -> MovementsPosted:
        idempotency = IdempotencyRepository(conn)
        stored = await idempotency.claim(scope, idempotency_key, request_fingerprint)
        if stored is None:
            stored = await _stored_for_everyone(idempotency, idempotency_key, request_fingerprint)
            if stored is not None:
                await idempotency.record(scope, idempotency_key, 200, stored.response)
        if stored is not None:
            return msgspec.convert(stored.response, MovementsPosted)
        answer = await apply_movements(
            conn, command, actor=command.actor or actor, idempotency_key=idempotency_key
        )
        await idempotency.record(scope, idempotency_key, 200, answer)
        return answer

    return await db.run(work)


async def _stored_for_everyone(
    idempotency: IdempotencyRepository, key: str, request_fingerprint: str
) -> StoredAnswer | None:
    """The answer to this very request stored before keys were each caller's own (one
    scope for all callers), so a retry across that change is not applied twice."""
    stored = await idempotency.stored(MOVEMENTS_SCOPE, key, request_fingerprint)
    return stored if stored is not None and stored.same else None


async def apply_movements(
    conn: Connection, command: MovementBatch, *, actor: str, idempotency_key: str
) -> MovementsPosted:
    """The body of ``post_movements``, inside the caller's transaction."""
    movements = [movement_of(m) for m in command.movements]
    check_batch(movements)
    ledger = LedgerRepository(conn)
    await _check_locations(ledger, movements)
    await _check_transfers(ledger, movements)
    balances = await ledger.lock_balances(k for m in movements for k in touched_keys(m))
    plan = plan_movements(movements, balances)
    now = datetime.now(UTC)
    occurred = _occurred_at(movements, plan, now)
    recorded = await ledger.write(
        plan.deltas, actor=actor, occurred_at=occurred, idempotency_key=idempotency_key
    )
    shortages = _report_shortages(plan)
    await OutboxRepository(conn).add([shortage_event(s, now) for s in shortages])
    touched = sorted({d.key for d in plan.deltas})
    return MovementsPosted(
        movements=[recorded_view(x) for x in recorded],
        balances=[balance_view(plan.balances[k]) for k in touched],
        shortages=shortages,
    )


async def _check_locations(ledger: LedgerRepository, movements: Sequence[Movement]) -> None:
    named: list[tuple[str, str]] = []
    for i, m in enumerate(movements):
        named.append((f"movements[{i}].location_id", m.location_id))
        if isinstance(m, Transfer):
            named.append((f"movements[{i}].to_location_id", m.to_location_id))
    known = await ledger.existing_locations(loc for _, loc in named)
    for field, location_id in named:
        if location_id not in known:
            raise UnknownLocation(f"location {location_id!r} does not exist", field=field)
        if not known[location_id]:
            raise InactiveLocation(f"location {location_id!r} is not active", field=field)


async def _check_transfers(ledger: LedgerRepository, movements: Sequence[Movement]) -> None:
    """Create transfer lines for new transfers; check and book receipts against them.
    Transfers of click-and-collect bookings (``pickup:…``) move only with their pickup."""
    for index, m in enumerate(movements):
        if isinstance(m, Transfer | TransferReceipt) and m.transfer_id.startswith("pickup:"):
            raise InvalidInput(
                "this transfer belongs to a pickup; it is received when the store marks the pickup ready",
                field=f"movements[{index}].transfer_id",
            )
    new = [
        (m.to_location_id, m.transfer_id, m.sku, m.location_id, m.quantity)
        for m in movements
        if isinstance(m, Transfer)
    ]
    if new:
        inserted = await ledger.insert_transfer_lines(new)
        for index, line in enumerate(new):
            if (line[1], line[2]) not in inserted:
                raise TransferExists(
                    f"transfer {line[1]!r} already has a line for sku {line[2]!r}",
                    field=f"movements[{index}].transfer_id",
                )
    receipts = [(i, m) for i, m in enumerate(movements) if isinstance(m, TransferReceipt)]
    if not receipts:
        return
    lines = await ledger.lock_transfer_lines(
        (m.location_id, m.transfer_id, m.sku) for _, m in receipts
    )
    booked: dict[tuple[str, str, str], int] = {}
    for index, m in receipts:
        key = (m.location_id, m.transfer_id, m.sku)
        if key not in lines:
            raise UnknownTransfer(
                f"no transfer {m.transfer_id!r} of sku {m.sku!r} is incoming at {m.location_id!r}",
                field=f"movements[{index}].transfer_id",
            )
        quantity, received = lines[key]
        booked[key] = booked.get(key, received) + m.quantity
        if booked[key] > quantity:
            raise TransferOverReceived(
                f"transfer {m.transfer_id!r} has {quantity - received} units of {m.sku!r} "
                "still incoming",
                field=f"movements[{index}].quantity",
            )
    await ledger.receive_transfer_lines([(*k, q - lines[k][1]) for k, q in booked.items()])


def _occurred_at(movements: Sequence[Movement], plan: Plan, now: datetime) -> list[datetime]:
    """One timestamp per delta: the movement's own, or now (a transfer writes two deltas)."""
    stamps: list[datetime] = []
    for m in movements:
        stamps.extend([m.occurred_at or now] * (2 if isinstance(m, Transfer) else 1))
    assert len(stamps) == len(plan.deltas)
    return stamps


def shortage_event(shortage: Shortage, now: datetime) -> OutgoingMessage:
    payload = StockShortage(
        event_id=new_id(),
        occurred_at=now,
        sku=shortage.sku,
        location_id=shortage.location_id,
        on_hand=shortage.on_hand,
        reserved=shortage.reserved,
        short_by=shortage.short_by,
    )
    return event("stock.shortage", encoder.encode(payload), payload.event_id)


def _report_shortages(plan: Plan) -> list[Shortage]:
    shortages = [
        Shortage(
            sku=b.sku,
            location_id=b.location_id,
            on_hand=b.on_hand,
            reserved=b.reserved,
            short_by=b.short_by,
        )
        for b in plan.shortages()
    ]
    for s in shortages:
        log.warning(
            "stock_shortage",
            sku=s.sku,
            location_id=s.location_id,
            on_hand=s.on_hand,
            reserved=s.reserved,
            short_by=s.short_by,
        )
    return shortages


async def set_safety_stock(
    db: Database, location_id: str, sku: str, value: int | None
) -> BalanceView:
    """Set (or, with None, reset to the location default) one balance's safety stock."""

    async def work(conn: Connection) -> BalanceView:
        ledger = LedgerRepository(conn)
        if location_id not in await ledger.existing_locations([location_id]):
            raise LocationNotFound(f"location {location_id!r} does not exist", field="location_id")
        return balance_view(await ledger.set_safety_stock(location_id, sku, value))

    return await db.run(work)
