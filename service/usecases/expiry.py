"""Background steps: expire due reservations, announce availability changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from service.contracts.messages import AvailabilityChanged, encoder
from service.domain.ledger import status
from service.domain.reservations import OutcomeKind
from service.ids import new_id
from service.storage.database import Database
from service.storage.ledger import LedgerRepository
from service.storage.outbox import OutboxRepository, event
from service.storage.pool import Connection
from service.storage.reservations import ReservationRepository
from service.usecases.reservation_engine import ReservationEngine
from service.usecases.reservation_steps import Expire, Origin

SWEEPER = Origin(actor="expiry-sweeper")


async def expire_due(db: Database, engine: ReservationEngine, limit: int) -> int:
    """Release up to ``limit`` reservations past their expiry; returns how many expired.

    Safe with several sweepers (replicas) at once: each expiry goes through the
    engine, which locks the reservation row and expires it only if it is still
    active and due, so a reservation is released exactly once.
    """
    async with db.connection() as conn:
        due = await ReservationRepository(conn).due_for_expiry(datetime.now(UTC), limit)
    if not due:
        return 0
    outcomes = await asyncio.gather(*(engine.submit(Expire(rid), SWEEPER) for rid in due))
    return sum(1 for o in outcomes if o.kind is OutcomeKind.DONE)


async def announce_availability_changes(db: Database, limit: int) -> int:
    """Turn up to ``limit`` availability marks into availability.changed events (one per
    balance, with its figures as of now); returns how many. One transaction: a mark
    is deleted only with its event in the outbox."""

    async def work(conn: Connection) -> int:
        marks = await LedgerRepository(conn).take_availability_changes(limit)
        now = datetime.now(UTC)
        messages = []
        for balance, threshold in marks:
            payload = AvailabilityChanged(
                event_id=new_id(),
                occurred_at=now,
                sku=balance.sku,
                location_id=balance.location_id,
                on_hand=balance.on_hand,
                reserved=balance.reserved,
                available=balance.available,
                status=status(balance.available, threshold),
            )
            messages.append(
                event("availability.changed", encoder.encode(payload), payload.event_id)
            )
        await OutboxRepository(conn).add(messages)
        return len(marks)

    return await db.run(work)
