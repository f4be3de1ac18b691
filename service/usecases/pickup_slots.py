"""Pickup slots of a store: which store offers them, the slot a booking names, and the
list with remaining capacity and, for a cart, when it can be ready."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.contracts.pickups import PickupSlots, SlotView
from service.domain import pickups as rules
from service.domain.errors import (
    InvalidInput,
    PickupNotOffered,
    SlotNotFound,
    SlotUnavailable,
    UnknownLocation,
)
from service.domain.locations import Location
from service.domain.pickup_slots import (
    Slot,
    SlotRules,
    bookable,
    local_today,
    slots_between,
    slots_on,
)
from service.domain.pickups import LineSource
from service.domain.reservations import SkuQuantity
from service.storage.database import Database
from service.storage.locations import LocationRepository
from service.storage.pickups import PickupRepository
from service.storage.pool import Connection
from service.usecases.pickup_sourcing import source_cart
from service.usecases.pickup_views import source_views


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


async def list_slots(
    db: Database,
    location_id: str,
    first: date | None,
    last: date | None,
    lines: Sequence[SkuQuantity] | None,
    now: datetime | None = None,
) -> PickupSlots:
    """Slots from local day ``first`` to ``last`` (default: today to the horizon).
    Raises UnknownLocation, PickupNotOffered, InvalidInput."""
    at = now or datetime.now(UTC)
    async with db.connection() as conn:
        store = await pickup_store(conn, location_id)
        repo = PickupRepository(conn)
        slot_rules = await repo.rules(location_id)
        slots = _slots_to_list(store, slot_rules, first, last, at)
        used = (
            await repo.usage_between(location_id, slots[0].starts_at, slots[-1].ends_at)
            if slots
            else {}
        )
        sources = (
            (await source_cart(conn, location_id, lines, at, slot_rules))[0] if lines else None
        )
    views = _slot_views(slots, used, sources, slot_rules, at)
    return PickupSlots(
        location_id=location_id,
        timezone=store.timezone,
        slots=views,
        earliest_ready=next((v for v in views if v.cart_ready and v.bookable), None),
        sourcing=None if sources is None else source_views(sources),
    )


def _slots_to_list(
    store: Location, slot_rules: SlotRules, first: date | None, last: date | None, at: datetime
) -> list[Slot]:
    """The slots of the asked days that have not ended and start within the horizon.
    Raises InvalidInput for a range that runs backwards or spans over 92 days."""
    today = local_today(store.timezone, at)
    first = first or today
    last = last or today + timedelta(days=slot_rules.horizon_days)
    if last < first or (last - first).days > 92:
        raise InvalidInput("'to' must be on or after 'from', at most 92 days later", field="to")
    bookable_until = at + timedelta(days=slot_rules.horizon_days)
    return [
        s
        for s in slots_between(
            store.opening_hours, store.timezone, first, last, slot_rules.slot_minutes
        )
        if s.ends_at > at and s.starts_at <= bookable_until
    ]


def _slot_views(
    slots: list[Slot],
    used: dict[datetime, int],
    sources: list[LineSource] | None,
    slot_rules: SlotRules,
    at: datetime,
) -> list[SlotView]:
    """Each slot's remaining places and whether it can be booked now (with a cart: whether
    the cart can be ready by then)."""
    ready_at = rules.cart_ready_at(sources) if sources is not None else None
    soonest = at + timedelta(minutes=slot_rules.prep_minutes)
    views = []
    for slot in slots:
        remaining = max(0, slot_rules.capacity - used.get(slot.starts_at, 0))
        cart_ready = None
        if sources is not None:
            cart_ready = ready_at is not None and bookable(slot, at, ready_at, slot_rules) is None
        can_book = remaining > 0 and (
            cart_ready
            if cart_ready is not None
            else bookable(slot, at, soonest, slot_rules) is None
        )
        views.append(
            SlotView(
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                capacity=slot_rules.capacity,
                remaining=remaining,
                cart_ready=cart_ready,
                bookable=can_book,
            )
        )
    return views
