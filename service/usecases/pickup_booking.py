"""Booking a click-and-collect pickup: reserve the cart, take a place in the slot, issue
the code.

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

from collections.abc import Sequence
from datetime import UTC, datetime

from service.contracts import pickups as wire
from service.contracts.messages import PickupBooked
from service.domain import pickups as rules
from service.domain.errors import (
    InsufficientStock,
    PickupConflict,
    Shortfall,
    SlotOutOfRange,
    SlotUnavailable,
)
from service.domain.pickup_slots import Slot, SlotRules, bookable, out_of_range
from service.domain.pickups import (
    CodeSecrets,
    Customer,
    LineSource,
    NewPickup,
    PickupLineState,
    PickupState,
)
from service.logging import get_logger
from service.storage.database import Database
from service.storage.idempotency import fingerprint
from service.storage.outbox import OutboxRepository
from service.storage.pickups import PickupRepository
from service.storage.pool import Connection
from service.usecases.pickup_cart import reserve_cart
from service.usecases.pickup_slots import find_slot, pickup_store
from service.usecases.pickup_sourcing import source_cart
from service.usecases.pickup_transfers import plan_transfers
from service.usecases.pickup_views import pickup_event, pickup_view
from service.usecases.reservations import lines_of

log = get_logger(__name__)


async def book_pickup(
    db: Database,
    command: wire.BookPickup,
    *,
    actor: str,
    caller: str,
    code_secrets: CodeSecrets,
    now: datetime | None = None,
) -> tuple[wire.PickupBooking, bool]:
    """Book a pickup: reserve the cart, take a place in the slot, issue the code (with
    the current secret). ``caller`` names who books (``key:<key_id>``,
    ``message:<message_id>``): the only one the code is shown to again.

    Returns the booking and whether it was created (False: the same request again,
    answered the same, with its code only to the caller that booked it, whichever
    configured secret made it). Raises
    PickupConflict, UnknownLocation, PickupNotOffered, SlotNotFound, SlotOutOfRange,
    SlotUnavailable, InsufficientStock, PickupCodeUnavailable (a repeat whose code was
    made with a secret this service does not have).
    """
    return await db.run(
        lambda conn: book(
            conn, command, actor=actor, caller=caller, code_secrets=code_secrets, now=now
        )
    )


async def book(
    conn: Connection,
    command: wire.BookPickup,
    *,
    actor: str,
    caller: str,
    code_secrets: CodeSecrets,
    now: datetime | None = None,
) -> tuple[wire.PickupBooking, bool]:
    """``book_pickup`` inside the caller's transaction (``command`` may be a pickup.book
    message: a BookPickup too)."""
    request = new_pickup(command)
    repo = PickupRepository(conn)
    await repo.lock_new_id(request.pickup_id)
    existing = await repo.lock(request.pickup_id)
    if existing is not None:
        if existing.fingerprint != request.fingerprint:
            raise PickupConflict(
                f"pickup {request.pickup_id!r} exists with different content", field="pickup_id"
            )
        if existing.created_by != caller:  # the booking, but its code is not theirs
            return wire.PickupBooking(pickup=pickup_view(existing)), False
        return booking_answer(existing, code_secrets), False
    at = now or datetime.now(UTC)
    state = await _book_new(conn, request, actor, caller, at, code_secrets)
    return booking_answer(state, code_secrets), True


def new_pickup(command: wire.BookPickup) -> NewPickup:
    return NewPickup(
        pickup_id=command.pickup_id,
        location_id=command.location_id,
        slot_start=command.slot_start,
        lines=lines_of(command.lines),
        customer=Customer(
            name=command.customer.name, email=command.customer.email, phone=command.customer.phone
        ),
        channel=command.channel,
        external_ref=command.external_ref,
        fingerprint=pickup_fingerprint(command),
    )


def pickup_fingerprint(command: wire.BookPickup) -> str:
    """Content that makes two bookings "the same": the booking's own fields, as a
    BookPickup (a message's transport fields are left out). Stored with each pickup:
    the encoding must not change."""
    return fingerprint(
        wire.BookPickup(
            pickup_id=command.pickup_id,
            location_id=command.location_id,
            slot_start=command.slot_start,
            lines=command.lines,
            customer=command.customer,
            channel=command.channel,
            external_ref=command.external_ref,
        )
    )


def booking_answer(state: PickupState, code_secrets: CodeSecrets) -> wire.PickupBooking:
    """Raises PickupCodeUnavailable when the secret that made the code is gone."""
    code = rules.code_of(state, code_secrets)
    if code is None:
        raise rules.code_unavailable(state)
    return wire.PickupBooking(pickup=pickup_view(state), pickup_code=rules.display_code(code))


async def _book_new(
    conn: Connection,
    request: NewPickup,
    actor: str,
    caller: str,
    at: datetime,
    code_secrets: CodeSecrets,
) -> PickupState:
    repo = PickupRepository(conn)
    store = await pickup_store(conn, request.location_id)
    slot_rules = await repo.rules(store.location_id)
    reason = out_of_range(request.slot_start, at, slot_rules)  # before "closed that day"
    if reason is not None:
        raise SlotOutOfRange(reason.replace("_", " "), field="slot_start")
    slot = find_slot(store, slot_rules, request.slot_start)
    sources, best = await source_cart(conn, store.location_id, request.lines, at, slot_rules)
    check_bookable(slot, at, sources, best, slot_rules)
    await take_place(repo, store.location_id, slot, slot_rules)
    hold_until = slot.hold_until(slot_rules)
    reservation_of = await reserve_cart(
        conn, request, store.location_id, sources, hold_until, actor, at
    )
    lines = tuple(
        PickupLineState(
            s.sku, s.quantity, s.source_location_id or store.location_id, reservation_of[s.sku]
        )
        for s in sources
    )
    state = _booked(request, store.location_id, slot, hold_until, lines, code_secrets, at, caller)
    await repo.insert(state)
    await plan_transfers(conn, state, actor, at)
    await OutboxRepository(conn).add([pickup_event(PickupBooked, state, at)])
    log.info(
        "pickup_booked",
        pickup_id=state.pickup_id,
        location_id=state.location_id,
        slot_start=state.slot_start.isoformat(),
    )
    return state


def check_bookable(
    slot: Slot,
    now: datetime,
    sources: Sequence[LineSource],
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


def _booked(
    request: NewPickup,
    store_id: str,
    slot: Slot,
    hold_until: datetime,
    lines: tuple[PickupLineState, ...],
    code_secrets: CodeSecrets,
    now: datetime,
    caller: str,
) -> PickupState:
    """The new pickup, with a fresh nonce and the hash of the code derived from it and
    the current secret, whose id it records, and who booked it."""
    nonce = rules.new_nonce()
    secret = code_secrets.current
    code = rules.issue_code(secret, nonce)
    return PickupState(
        pickup_id=request.pickup_id,
        location_id=store_id,
        status="booked",
        slot_start=slot.starts_at,
        slot_end=slot.ends_at,
        hold_until=hold_until,
        customer=request.customer,
        channel=request.channel,
        external_ref=request.external_ref,
        fingerprint=request.fingerprint,
        code_nonce=nonce,
        code_hash=rules.hash_code(code, nonce, secret),
        code_secret_id=code_secrets.current_id,
        created_by=caller,
        failed_attempts=0,
        locked_until=None,
        created_at=now,
        updated_at=now,
        lines=lines,
    )
