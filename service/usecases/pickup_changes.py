"""Changes to a booked pickup: cancel, reschedule, and the no-show sweep.

Locking story: as for booking (service/usecases/pickup_booking.py): the pickup row, then
slot capacity rows sorted by start, then reservations and balances through
``decide_in_transaction``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from service.contracts.messages import (
    PickupCancelled,
    PickupNoShow,
)
from service.domain.errors import (
    InvalidTransition,
    PickupNotFound,
    SlotOutOfRange,
    SlotUnavailable,
)
from service.domain.pickup_slots import Slot, SlotRules, bookable
from service.domain.pickups import PickupState
from service.logging import get_logger
from service.storage.database import Database
from service.storage.outbox import OutboxRepository
from service.storage.pickups import PickupRepository
from service.storage.pool import Connection
from service.storage.reservations import ReservationRepository
from service.usecases.pickup_slots import find_slot, pickup_store
from service.usecases.pickup_transfers import call_off_transfers
from service.usecases.pickup_views import pickup_event
from service.usecases.reservation_engine import decide_in_transaction
from service.usecases.reservation_steps import Cancel, Expire, Origin

log = get_logger(__name__)


async def lock_pickup(conn: Connection, pickup_id: str) -> PickupState:
    state = await PickupRepository(conn).lock(pickup_id)
    if state is None:
        raise PickupNotFound(f"pickup {pickup_id!r} does not exist", field="pickup_id")
    return state


async def cancel_pickup(
    db: Database,
    pickup_id: str,
    reason: str | None,
    *,
    actor: str,
    may_act_at: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> PickupState:
    """Cancel a booked or ready pickup: release its stock, free its place in the slot.
    Cancelling a cancelled pickup answers the same. Raises PickupNotFound,
    InvalidTransition, and whatever ``may_act_at(location_id)`` raises."""
    return await db.run(
        lambda conn: cancel(conn, pickup_id, reason, actor=actor, may_act_at=may_act_at, now=now)
    )


async def cancel(
    conn: Connection,
    pickup_id: str,
    reason: str | None,
    *,
    actor: str,
    may_act_at: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> PickupState:
    """``cancel_pickup`` inside the caller's transaction."""
    at = now or datetime.now(UTC)
    state = await lock_pickup(conn, pickup_id)
    if may_act_at is not None:
        may_act_at(state.location_id)
    if state.status == "cancelled":
        return state
    if state.status not in ("booked", "ready"):
        raise InvalidTransition(f"pickup {pickup_id!r} is {state.status}; it cannot be cancelled")
    repo = PickupRepository(conn)
    if state.slot_start > at:
        await repo.lock_slot(state.location_id, state.slot_start)
        await repo.add_to_slot(state.location_id, state.slot_start, -1)
    await decide_in_transaction(
        conn,
        [
            (Cancel(rid, reason or "pickup cancelled"), Origin(actor=actor))
            for rid in state.reservation_ids
        ],
        at,
    )
    await call_off_transfers(conn, state, actor, at)
    cancelled = state.moved("cancelled", at)
    await repo.update(cancelled)
    await OutboxRepository(conn).add([pickup_event(PickupCancelled, cancelled, at, reason=reason)])
    log.info("pickup_cancelled", pickup_id=pickup_id, location_id=state.location_id, reason=reason)
    return cancelled


async def reschedule_pickup(
    db: Database,
    pickup_id: str,
    new_start: datetime,
    *,
    may_act_at: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> PickupState:
    """Move a pickup to another slot of the same store: the reservation stays (its
    expiry follows the new hold period), the place moves. Raises PickupNotFound,
    InvalidTransition, SlotNotFound, SlotOutOfRange, SlotUnavailable."""

    async def work(conn: Connection) -> PickupState:
        at = now or datetime.now(UTC)
        state = await lock_pickup(conn, pickup_id)
        if may_act_at is not None:
            may_act_at(state.location_id)
        if state.status not in ("booked", "ready"):
            raise InvalidTransition(
                f"pickup {pickup_id!r} is {state.status}; it cannot be rescheduled"
            )
        if state.slot_start == new_start:
            return state
        repo = PickupRepository(conn)
        store = await pickup_store(conn, state.location_id)
        slot_rules = await repo.rules(store.location_id)
        slot = find_slot(store, slot_rules, new_start)
        await _check_ready_by(repo, state, slot, slot_rules, at)
        await _move_place(repo, state, slot, slot_rules)
        moved = state.moved(
            state.status,
            at,
            slot_start=slot.starts_at,
            slot_end=slot.ends_at,
            hold_until=slot.hold_until(slot_rules),
        )
        await ReservationRepository(conn).lock(moved.reservation_ids)
        await ReservationRepository(conn).set_expiry(moved.reservation_ids, moved.hold_until)
        await repo.update(moved)
        return moved

    return await db.run(work)


async def _check_ready_by(
    repo: PickupRepository, state: PickupState, slot: Slot, slot_rules: SlotRules, at: datetime
) -> None:
    """Raises SlotUnavailable when the goods cannot be ready by ``slot``, SlotOutOfRange
    when it cannot be booked at all now."""
    ready_at = (
        at
        if state.status == "ready"
        else at + _lead(state, slot_rules, await repo.suppliers(state.location_id))
    )
    reason = bookable(slot, at, ready_at, slot_rules)
    if reason == "slot_before_ready":
        raise SlotUnavailable(
            f"the cart can be ready at {ready_at.isoformat()} at the earliest",
            field="slot_start",
        )
    if reason is not None:
        raise SlotOutOfRange(reason.replace("_", " "), field="slot_start")


async def _move_place(
    repo: PickupRepository, state: PickupState, slot: Slot, slot_rules: SlotRules
) -> None:
    """Free the pickup's place in its slot and take one in ``slot``; both capacity rows
    are locked in start order first. Raises SlotUnavailable when ``slot`` is full."""
    for start in sorted({state.slot_start, slot.starts_at}):
        await repo.lock_slot(state.location_id, start)
    booked = await repo.lock_slot(state.location_id, slot.starts_at)
    if booked >= slot_rules.capacity:
        raise SlotUnavailable("the slot is full; choose another", field="slot_start")
    await repo.add_to_slot(state.location_id, state.slot_start, -1)
    await repo.add_to_slot(state.location_id, slot.starts_at, 1)


def _lead(state: PickupState, slot_rules: SlotRules, suppliers: list[tuple[str, int]]) -> timedelta:
    leads = dict(suppliers)
    minutes = max(
        (
            leads.get(x.source_location_id, 0)
            for x in state.lines
            if x.source_location_id != state.location_id
        ),
        default=0,
    )
    return timedelta(minutes=minutes + slot_rules.prep_minutes)


async def mark_no_shows(db: Database, limit: int, now: datetime | None = None) -> int:
    """Pickups not collected within their hold period become no-shows; their stock is
    released (if the reservation sweeper has not done so already). Returns how many."""
    at = now or datetime.now(UTC)
    async with db.connection() as conn:
        due = await PickupRepository(conn).due_no_show(at, limit)
    done = 0
    for pickup_id in due:
        done += await db.run(lambda conn, pid=pickup_id: _no_show(conn, pid, at))  # type: ignore[misc]
    return done


async def _no_show(conn: Connection, pickup_id: str, at: datetime) -> int:
    """A ready pickup not collected in time is a no-show; a pickup the store never made
    ready is cancelled instead (the customer is not to blame). Either way the stock is
    released (if the reservation sweeper has not done so already)."""
    state = await lock_pickup(conn, pickup_id)
    if state.status not in ("booked", "ready") or state.hold_until > at:
        return 0
    await decide_in_transaction(
        conn, [(Expire(rid), Origin(actor="no-show-sweeper")) for rid in state.reservation_ids], at
    )
    await call_off_transfers(conn, state, "no-show-sweeper", at)
    if state.status == "ready":
        gone = state.moved("no_show", at)
        message = pickup_event(PickupNoShow, gone, at)
    else:
        gone = state.moved("cancelled", at)
        message = pickup_event(
            PickupCancelled, gone, at, reason="never made ready within the hold period"
        )
    await PickupRepository(conn).update(gone)
    await OutboxRepository(conn).add([message])
    log.info(
        "pickup_hold_ended", pickup_id=pickup_id, location_id=state.location_id, status=gone.status
    )
    return 1
