"""The store counter: today's pickups, ready, collect with the customer's code,
returns at the counter.

``may_act_at(location_id)`` is the caller's location check (a staff key may act
only at its own stores); it raises Forbidden.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.contracts.messages import PickupCollected, PickupReady
from service.contracts.pickups import StoreReturn
from service.contracts.stock import MovementsPosted, PostMovements, Return, WriteOff
from service.domain import pickups as rules
from service.domain.errors import (
    InvalidInput,
    InvalidTransition,
    LocationNotFound,
    PickupCodeUnavailable,
    PickupLocked,
    PickupNotFound,
    WrongPickupCode,
)
from service.domain.pickups import CodeSecrets, PickupState
from service.domain.reservations import Line, SkuQuantity, validate_lines
from service.logging import get_logger
from service.storage.database import Database
from service.storage.ledger import LedgerRepository
from service.storage.locations import LocationRepository
from service.storage.outbox import OutboxRepository
from service.storage.pickups import PickupRepository
from service.storage.pool import Connection
from service.usecases.pickup_changes import lock_pickup
from service.usecases.pickup_views import pickup_event
from service.usecases.reservation_engine import decide_in_transaction
from service.usecases.reservation_steps import Fulfil, Origin, Step, TransferIn
from service.usecases.stock import post_movements

LocationCheck = Callable[[str], None]

log = get_logger(__name__)


async def pickups_of_day(
    db: Database, location_id: str, day: date | None, status: str | None, limit: int = 500
) -> list[PickupState]:
    """A store's pickups of one local day (default today), ordered by slot."""
    async with db.connection() as conn:
        store = await LocationRepository(conn).get(location_id)
        if store is None:
            raise LocationNotFound(f"location {location_id!r} does not exist", field="location_id")
        zone = ZoneInfo(store.timezone)
        local_day = day or datetime.now(UTC).astimezone(zone).date()
        start = datetime.combine(local_day, time(0), tzinfo=zone)
        end = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone)
        return await PickupRepository(conn).list_for_location(
            location_id, start, end, status, limit
        )


async def get_pickup(db: Database, pickup_id: str, may_act_at: LocationCheck) -> PickupState:
    """Raises PickupNotFound, and whatever ``may_act_at(location_id)`` raises."""
    async with db.connection() as conn:
        state = await PickupRepository(conn).get(pickup_id)
    if state is None:
        raise PickupNotFound(f"pickup {pickup_id!r} does not exist", field="pickup_id")
    may_act_at(state.location_id)
    return state


async def mark_ready(
    db: Database,
    pickup_id: str,
    *,
    actor: str,
    may_act_at: LocationCheck,
    now: datetime | None = None,
) -> PickupState:
    """The goods are picked (and, for lines from a warehouse, arrived): the
    warehouse reservation becomes stock received and reserved at the store.
    Marking a ready pickup ready again answers the same. Raises PickupNotFound,
    InvalidTransition, Forbidden."""

    async def work(conn: Connection) -> PickupState:
        at = now or datetime.now(UTC)
        state = await lock_pickup(conn, pickup_id)
        may_act_at(state.location_id)
        if state.status == "ready":
            return state
        if state.status != "booked":
            raise InvalidTransition(
                f"pickup {pickup_id!r} is {state.status}; it cannot be made ready"
            )
        ready = await _receive_at_store(conn, state, actor, at)
        await OutboxRepository(conn).add([pickup_event(PickupReady, ready, at)])
        log.info("pickup_ready", pickup_id=pickup_id, location_id=state.location_id)
        return ready

    return await db.run(work)


async def _receive_at_store(
    conn: Connection, state: PickupState, actor: str, at: datetime
) -> PickupState:
    """The booked pickup, ready: the lines from warehouses are received at the store and
    their reservations move there. Raises InvalidTransition when a warehouse reservation
    expired or was released."""
    store_rid = rules.store_reservation_id(state.pickup_id) + ":arrived"
    moves: list[tuple[Step, Origin]] = [
        (TransferIn(rid, store_rid, state.location_id), Origin(actor=actor))
        for rid in sorted(
            {x.reservation_id for x in state.lines if x.source_location_id != state.location_id}
        )
    ]
    arriving = rules.pending_transfers(state)
    ledger = LedgerRepository(conn)
    keys = [(state.location_id, tid, x.sku) for tid, lines in arriving.items() for x in lines]
    if keys:  # transfer lines before reservations and balances: the global lock order
        await ledger.lock_transfer_lines(keys)
    if moves:
        for outcome in await decide_in_transaction(conn, moves, at):
            if not outcome.ok:  # the warehouse reservation expired or was released
                raise InvalidTransition(
                    f"the goods from the warehouse cannot be received: {outcome.detail}"
                )
    lines = tuple(
        x if x.source_location_id == state.location_id else replace(x, reservation_id=store_rid)
        for x in state.lines
    )
    ready = replace(state.moved("ready", at), lines=lines)
    await PickupRepository(conn).update(ready)
    if keys:
        received = [
            (state.location_id, tid, x.sku, x.quantity) for tid, xs in arriving.items() for x in xs
        ]
        await ledger.receive_transfer_lines(received)
    if moves:
        await PickupRepository(conn).set_line_reservations(ready)
    return ready


async def collect(
    db: Database,
    pickup_id: str,
    code: str,
    handed_over: Sequence[SkuQuantity] | None,
    *,
    actor: str,
    may_act_at: LocationCheck,
    code_secrets: CodeSecrets,
    now: datetime | None = None,
) -> PickupState:
    """The customer shows the code and takes the goods (maybe fewer than booked; the
    rest returns to available stock). The reservation becomes a sale in the ledger.
    A wrong code is counted (and committed); the fifth in a row locks the pickup.
    The code is checked against the secret that made it (the current one, or the
    previous one after a rotation) and no other.
    Raises PickupNotFound, InvalidTransition, WrongPickupCode, PickupLocked,
    PickupCodeUnavailable, InvalidInput, Forbidden."""

    async def work(conn: Connection) -> tuple[PickupState, bool]:
        at = now or datetime.now(UTC)
        state = await lock_pickup(conn, pickup_id)
        may_act_at(state.location_id)
        if state.status != "ready":  # a collected pickup is finished, whatever the code
            raise InvalidTransition(
                f"pickup {pickup_id!r} is {state.status}; only a ready pickup can be collected"
            )
        if rules.locked(state, at):
            raise PickupLocked(
                f"too many wrong codes; try again after {state.locked_until:%H:%M} UTC"
            )
        if code_secrets.made(state) is None:
            raise _unverifiable(state)
        if not rules.code_matches(state, code, code_secrets):
            return await _count_wrong_code(conn, state, at), False
        return await _hand_over(conn, state, handed_over, actor, at), True

    result, code_accepted = await db.run(work)
    if not code_accepted:
        _refuse_wrong_code(result)
    return result


def _unverifiable(state: PickupState) -> PickupCodeUnavailable:
    """No code can match, and the customer is not to blame: refused, and not counted as
    a wrong code, so the pickup does not lock while the configuration is put right."""
    log.error(
        "pickup_code_secret_missing",
        pickup_id=state.pickup_id,
        location_id=state.location_id,
        secret_id=state.code_secret_id,
    )
    return rules.code_unavailable(state)


async def _count_wrong_code(conn: Connection, state: PickupState, at: datetime) -> PickupState:
    """The count is committed with the transaction; the caller raises afterwards."""
    wrong = rules.after_wrong_code(state, at)
    await PickupRepository(conn).update(wrong)
    log.warning(
        "pickup_wrong_code",
        pickup_id=state.pickup_id,
        location_id=state.location_id,
        locked=wrong.locked_until is not None and wrong.locked_until > at,
    )
    return wrong


def _refuse_wrong_code(state: PickupState) -> None:
    """Raises WrongPickupCode, or PickupLocked when this wrong code locked the pickup."""
    if state.failed_attempts == 0:  # this wrong code was the one that locked it
        raise PickupLocked("wrong code; the pickup is now locked for 15 minutes")
    left = rules.MAX_FAILED_ATTEMPTS - state.failed_attempts
    raise WrongPickupCode(f"wrong code; {left} tries left before the pickup locks", field="code")


async def _hand_over(
    conn: Connection,
    state: PickupState,
    handed_over: Sequence[SkuQuantity] | None,
    actor: str,
    at: datetime,
) -> PickupState:
    if handed_over is not None:
        validate_lines(handed_over)
    try:
        taken = rules.collected_quantities(state, handed_over)
    except ValueError as exc:
        raise InvalidInput(
            "a line names a sku or a quantity that was not booked", field=str(exc)
        ) from None
    by_reservation: dict[str, list[Line]] = {}
    for line in state.lines:
        by_reservation.setdefault(line.reservation_id, []).append(Line(line.sku, taken[line.sku]))
    steps: list[tuple[Step, Origin]] = [
        (Fulfil(rid, tuple(x for x in lines if x.quantity > 0)), Origin(actor=actor))
        for rid, lines in sorted(by_reservation.items())
    ]
    outcomes = await decide_in_transaction(conn, steps, at)
    for outcome in outcomes:
        if not outcome.ok:
            raise InvalidTransition(outcome.detail)
    done = replace(
        state.moved("collected", at, failed_attempts=0, locked_until=None),
        lines=tuple(replace(x, collected=taken[x.sku]) for x in state.lines),
    )
    await PickupRepository(conn).update(done)
    await OutboxRepository(conn).add([pickup_event(PickupCollected, done, at)])
    log.info("pickup_collected", pickup_id=state.pickup_id, location_id=state.location_id)
    return done


async def record_return(
    db: Database,
    location_id: str,
    item: StoreReturn,
    *,
    idempotency_key: str,
    caller: str,
    actor: str,
    max_batch: int,
) -> MovementsPosted:
    """Goods returned at the counter: back into sellable stock, or (damaged) received
    and written off, so the ledger shows both what came back and what was lost."""
    movements: list[Return | WriteOff] = [
        Return(
            sku=item.sku, location_id=location_id, quantity=item.quantity, reference=item.reference
        )
    ]
    if item.condition == "damaged":
        movements.append(
            WriteOff(
                sku=item.sku,
                location_id=location_id,
                quantity=item.quantity,
                reference=item.reference,
                reason="damaged",
            )
        )
    return await post_movements(
        db,
        PostMovements(movements=list(movements), actor=actor),
        idempotency_key=f"return:{location_id}:{idempotency_key}",
        caller=caller,
        actor=actor,
        max_batch=max_batch,
    )
