"""Click-and-collect bookings: book, reschedule, cancel, and the no-show sweep.

Locking story (one READ COMMITTED transaction per command):
0. a booking first takes a transaction advisory lock on its pickup id, so twin
   requests for one new pickup queue up and the second finds the first's row;
1. the pickup row (``FOR UPDATE``; a new pickup id is protected by the unique
   index: a concurrent twin fails on insert and is retried, then sees the row);
2. the slot capacity rows, sorted by start (``INSERT … ON CONFLICT DO UPDATE``
   creates and locks): the last place in a slot goes to exactly one booking;
3. reservations and balances through ``decide_in_transaction``, in the engine's
   order. Every pickup command takes (1) before (2) before (3).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from service.contracts.locations import Location
from service.contracts.messages import (
    PickupBooked,
    PickupCancelled,
    PickupCollected,
    PickupNoShow,
    PickupReady,
    encoder,
)
from service.contracts.pickups import BookPickup, LineSource, PickupBooking
from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.domain import pickups as rules
from service.domain.errors import (
    InsufficientStock,
    PickupConflict,
    PickupNotOffered,
    Shortfall,
    SlotNotFound,
    SlotOutOfRange,
    SlotUnavailable,
    UnknownLocation,
)
from service.domain.ledger import Balance, BalanceKey, Delta
from service.domain.pickups import PickupLineState, PickupState
from service.domain.slots import Slot, SlotRules, bookable, out_of_range, slots_on
from service.ids import new_id
from service.logging import get_logger
from service.storage.database import Database
from service.storage.idempotency import fingerprint
from service.storage.ledger import LedgerRepository
from service.storage.locations import LocationRepository
from service.storage.outbox import OutboxRepository, OutgoingMessage, event
from service.storage.pickups import PickupRepository
from service.storage.pool import Connection
from service.usecases.reservation_engine import decide_in_transaction
from service.usecases.reservation_steps import Create, Origin, Step
from service.usecases.reservations import new_reservation

log = get_logger(__name__)


def pickup_event(
    kind: type[PickupBooked | PickupReady | PickupCollected | PickupCancelled | PickupNoShow],
    state: PickupState,
    now: datetime,
    **extra: object,
) -> OutgoingMessage:
    payload = kind(event_id=new_id(), occurred_at=now, pickup=state.view(), **extra)  # type: ignore[arg-type]
    tag = type(payload).__struct_config__.tag
    assert isinstance(tag, str)
    return event(tag, encoder.encode(payload), payload.event_id)


# ------------------------------------------------------------------ booking


async def book_pickup(
    db: Database, command: BookPickup, *, actor: str, code_secret: str, now: datetime | None = None
) -> tuple[PickupBooking, bool]:
    """Book a pickup: reserve the cart, take a place in the slot, issue the code.

    Returns the booking and whether it was created (False: the same request again,
    answered the same, code included). Raises PickupConflict, UnknownLocation,
    PickupNotOffered, SlotNotFound, SlotOutOfRange, SlotUnavailable, InsufficientStock.
    """
    return await db.run(
        lambda conn: book(conn, command, actor=actor, code_secret=code_secret, now=now)
    )


async def book(
    conn: Connection,
    command: BookPickup,
    *,
    actor: str,
    code_secret: str,
    now: datetime | None = None,
) -> tuple[PickupBooking, bool]:
    """``book_pickup`` inside the caller's transaction (``command`` may be a pickup.book
    message: a BookPickup too)."""
    request_fingerprint = pickup_fingerprint(command)
    at = now or datetime.now(UTC)
    repo = PickupRepository(conn)
    await repo.lock_new_id(command.pickup_id)
    existing = await repo.lock(command.pickup_id)
    if existing is not None:
        if existing.fingerprint != request_fingerprint:
            raise PickupConflict(
                f"pickup {command.pickup_id!r} exists with different content", field="pickup_id"
            )
        return booking_answer(existing, code_secret), False
    store = await pickup_store(conn, command.location_id)
    slot_rules = await repo.rules(store.location_id)
    reason = out_of_range(command.slot_start, at, slot_rules)  # before "closed that day"
    if reason is not None:
        raise SlotOutOfRange(reason.replace("_", " "), field="slot_start")
    slot = find_slot(store, slot_rules, command.slot_start)
    sources, best = await source_cart(conn, store.location_id, command.lines, at, slot_rules)
    check_bookable(slot, at, sources, best, slot_rules)
    await take_place(repo, store.location_id, slot, slot_rules)
    state = await reserve_cart(
        conn,
        command,
        store.location_id,
        slot,
        slot_rules,
        sources,
        actor,
        at,
        request_fingerprint,
        code_secret,
    )
    await repo.insert(state)
    await plan_transfers(conn, state, actor, at)
    await OutboxRepository(conn).add([pickup_event(PickupBooked, state, at)])
    log.info(
        "pickup_booked",
        pickup_id=state.pickup_id,
        location_id=state.location_id,
        slot_start=state.slot_start.isoformat(),
    )
    return booking_answer(state, code_secret), True


def pickup_fingerprint(command: BookPickup) -> str:
    """Content that makes two bookings "the same": the booking's own fields, as a
    BookPickup (a message's transport fields are left out). Stored with each pickup:
    the encoding must not change."""
    return fingerprint(
        BookPickup(
            pickup_id=command.pickup_id,
            location_id=command.location_id,
            slot_start=command.slot_start,
            lines=command.lines,
            customer=command.customer,
            channel=command.channel,
            external_ref=command.external_ref,
        )
    )


def booking_answer(state: PickupState, code_secret: str) -> PickupBooking:
    code = rules.issue_code(code_secret, state.code_nonce)
    return PickupBooking(pickup=state.view(), pickup_code=rules.display_code(code))


async def pickup_store(conn: Connection, location_id: str) -> Location:
    store = await LocationRepository(conn).get(location_id)
    if store is None:
        raise UnknownLocation(f"location {location_id!r} does not exist", field="location_id")
    if store.kind != "store" or not store.active or not store.pickup_offered:
        raise PickupNotOffered(
            f"{location_id!r} does not offer click-and-collect", field="location_id"
        )
    return store


def find_slot(store: Location, slot_rules: SlotRules, starts_at: datetime) -> Slot:
    """The slot that starts at ``starts_at``. Raises SlotNotFound, SlotUnavailable (closed)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(store.timezone)
    day = starts_at.astimezone(zone).date()
    day_slots = slots_on(store.opening_hours, zone, day, slot_rules.slot_minutes)
    if not day_slots:
        raise SlotUnavailable(f"{store.name} is closed on {day.isoformat()}", field="slot_start")
    for slot in day_slots:
        if slot.starts_at == starts_at:
            return slot
    raise SlotNotFound(
        f"no slot starts at {starts_at.isoformat()}; list them with GET /v1/locations/{store.location_id}/pickup-slots",
        field="slot_start",
    )


async def source_cart(
    conn: Connection,
    store_id: str,
    lines: list[ReservationLineIn],
    now: datetime,
    slot_rules: SlotRules,
) -> tuple[list[LineSource], dict[str, int]]:
    """Where each line would come from, and the most any one source has of each SKU
    (read without locks; the reservation re-checks)."""
    suppliers = await PickupRepository(conn).suppliers(store_id)
    balances = await balances_for(
        conn, [store_id, *(w for w, _ in suppliers)], [x.sku for x in lines]
    )
    sources = rules.source_lines(
        lines, store_id, balances, suppliers, now, timedelta(minutes=slot_rules.prep_minutes)
    )
    best: dict[str, int] = {}
    for balance in balances.values():
        best[balance.sku] = max(best.get(balance.sku, 0), balance.available)
    return sources, best


async def balances_for(
    conn: Connection, location_ids: list[str], skus: list[str]
) -> dict[BalanceKey, Balance]:
    found = await LedgerRepository(conn).balances_of_skus(skus)
    wanted = set(location_ids)
    return {b.key: b for b in found if b.location_id in wanted}


def check_bookable(
    slot: Slot,
    now: datetime,
    sources: list[LineSource],
    best: dict[str, int],
    slot_rules: SlotRules,
) -> None:
    short = [
        Shortfall(sku=s.sku, requested=s.quantity, available=best.get(s.sku, 0))
        for s in sources
        if s.source_location_id is None
    ]
    if short:
        raise InsufficientStock(
            "not enough stock at the store or its warehouses for "
            + ", ".join(s.sku for s in short),
            short,
        )
    ready_at = rules.cart_ready_at(sources)
    assert ready_at is not None
    reason = bookable(slot, now, ready_at, slot_rules)
    if reason == "slot_before_ready":
        raise SlotUnavailable(
            f"the cart can be ready at {ready_at.isoformat()} at the earliest", field="slot_start"
        )
    if reason is not None:
        raise SlotOutOfRange(reason.replace("_", " "), field="slot_start")


async def take_place(
    repo: PickupRepository, location_id: str, slot: Slot, slot_rules: SlotRules
) -> None:
    booked = await repo.lock_slot(location_id, slot.starts_at)
    if booked >= slot_rules.capacity:
        raise SlotUnavailable("the slot is full; choose another", field="slot_start")
    await repo.add_to_slot(location_id, slot.starts_at, 1)


async def reserve_cart(
    conn: Connection,
    command: BookPickup,
    store_id: str,
    slot: Slot,
    slot_rules: SlotRules,
    sources: list[LineSource],
    actor: str,
    now: datetime,
    request_fingerprint: str,
    code_secret: str,
) -> PickupState:
    """Reserve every line at its source, in this transaction; raises InsufficientStock."""
    hold_until = slot.hold_until(slot_rules)
    by_source: dict[str, list[ReservationLineIn]] = defaultdict(list)
    for source in sources:
        assert source.source_location_id is not None
        by_source[source.source_location_id].append(
            ReservationLineIn(sku=source.sku, quantity=source.quantity)
        )
    steps: list[tuple[Step, Origin]] = []
    reservation_of: dict[str, str] = {}
    for location_id, lines in sorted(by_source.items()):
        rid = (
            rules.store_reservation_id(command.pickup_id)
            if location_id == store_id
            else rules.warehouse_reservation_id(command.pickup_id, location_id)
        )
        create = CreateReservation(
            reservation_id=rid, location_id=location_id, lines=lines, channel=command.channel,
            external_ref=command.pickup_id,
        )  # fmt: skip
        step = Create(new_reservation(create), hold_until - now, expires_at=hold_until)
        steps.append((step, Origin(actor=actor)))
        reservation_of.update({x.sku: rid for x in lines})
    outcomes = await decide_in_transaction(conn, steps, now)
    refused = [o for o in outcomes if not o.ok]
    if refused:
        short = [line for o in refused for line in o.shortfalls]
        raise InsufficientStock(refused[0].detail or "the cart cannot be reserved", short)
    nonce = rules.new_nonce()
    code = rules.issue_code(code_secret, nonce)
    return PickupState(
        pickup_id=command.pickup_id, location_id=store_id, status="booked", slot_start=slot.starts_at,
        slot_end=slot.ends_at, hold_until=hold_until, customer=command.customer, channel=command.channel,
        external_ref=command.external_ref, fingerprint=request_fingerprint, code_nonce=nonce,
        code_hash=rules.hash_code(code, nonce, code_secret), failed_attempts=0, locked_until=None, created_at=now,
        updated_at=now,
        lines=tuple(
            PickupLineState(s.sku, s.quantity, s.source_location_id or store_id, reservation_of[s.sku])
            for s in sources
        ),
    )  # fmt: skip


# ------------------------------------------------------------------ transfers


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
