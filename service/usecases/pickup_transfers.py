"""The transfers that bring a pickup's warehouse lines to its store, and calling them off."""

from __future__ import annotations

from datetime import datetime

from service.domain import pickups as rules
from service.domain.ledger import Delta
from service.domain.pickups import PickupLineState, PickupState
from service.storage.ledger import LedgerRepository
from service.storage.pool import Connection


async def plan_transfers(conn: Connection, state: PickupState, actor: str, at: datetime) -> None:
    """Create the transfers that bring a booking's warehouse lines to the store: the
    transfer lines, and the store's ``incoming`` raised. The stock stays reserved at the
    warehouse until the goods arrive (``ready``). The store's balances are locked after
    the warehouse's here; a deadlock with a writer taking them the other way is
    retried by ``Database.run``."""
    pending = rules.pending_transfers(state)
    if pending:
        await _move_incoming(conn, state, pending, actor, at, sign=1)
        await LedgerRepository(conn).insert_transfer_lines(
            [
                (state.location_id, tid, x.sku, x.source_location_id, x.quantity)
                for tid, lines in pending.items()
                for x in lines
            ]
        )


async def call_off_transfers(
    conn: Connection, state: PickupState, actor: str, at: datetime
) -> None:
    """A booking with goods still to come was cancelled: they will not come."""
    pending = rules.pending_transfers(state)
    if pending:
        await _move_incoming(conn, state, pending, actor, at, sign=-1)
        await LedgerRepository(conn).cancel_transfer_lines(list(pending))


async def _move_incoming(
    conn: Connection,
    state: PickupState,
    pending: dict[str, list[PickupLineState]],
    actor: str,
    at: datetime,
    sign: int,
) -> None:
    ledger = LedgerRepository(conn)
    await ledger.lock_balances(
        (state.location_id, x.sku) for lines in pending.values() for x in lines
    )
    reason = "pickup transfer booked" if sign > 0 else "pickup transfer called off"
    deltas = [
        Delta(
            state.location_id,
            x.sku,
            "transfer_in",
            incoming=sign * x.quantity,
            reference=tid,
            reason=reason,
        )
        for tid, lines in pending.items()
        for x in lines
    ]
    await ledger.write(deltas, actor=actor, occurred_at=[at] * len(deltas))
