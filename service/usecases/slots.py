"""Pickup slots of a store, with remaining capacity and, for a cart, when it can
be ready; and the store's click-and-collect settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from service.contracts.pickups import PickupSettings, PickupSlots, SlotView
from service.contracts.reservations import ReservationLineIn
from service.domain import pickups as rules
from service.domain.errors import InvalidInput, LocationNotFound, UnknownLocation
from service.domain.slots import bookable, local_today, slots_between
from service.storage.database import Database
from service.storage.ledger import LedgerRepository
from service.storage.locations import LocationRepository
from service.storage.pickups import PickupRepository, settings_view
from service.storage.pool import Connection
from service.usecases.pickups import pickup_store, source_cart


async def list_slots(
    db: Database,
    location_id: str,
    first: date | None,
    last: date | None,
    lines: list[ReservationLineIn] | None,
    now: datetime | None = None,
) -> PickupSlots:
    """Slots from local day ``first`` to ``last`` (default: today to the horizon).
    Raises UnknownLocation, PickupNotOffered, InvalidInput."""
    at = now or datetime.now(UTC)
    async with db.connection() as conn:
        store = await pickup_store(conn, location_id)
        repo = PickupRepository(conn)
        slot_rules = await repo.rules(location_id)
        today = local_today(store.timezone, at)
        first = first or today
        last = last or today + timedelta(days=slot_rules.horizon_days)
        if last < first or (last - first).days > 92:
            raise InvalidInput("'to' must be on or after 'from', at most 92 days later", field="to")
        bookable_until = at + timedelta(days=slot_rules.horizon_days)
        slots = [
            s
            for s in slots_between(
                store.opening_hours, store.timezone, first, last, slot_rules.slot_minutes
            )
            if s.ends_at > at and s.starts_at <= bookable_until
        ]
        used = (
            await repo.usage_between(location_id, slots[0].starts_at, slots[-1].ends_at)
            if slots
            else {}
        )
        sources = (
            (await source_cart(conn, location_id, lines, at, slot_rules))[0] if lines else None
        )
    ready_at = rules.cart_ready_at(sources) if sources is not None else None
    views = []
    for slot in slots:
        remaining = max(0, slot_rules.capacity - used.get(slot.starts_at, 0))
        cart_ready = None
        if sources is not None:
            cart_ready = ready_at is not None and bookable(slot, at, ready_at, slot_rules) is None
        soonest = at + timedelta(minutes=slot_rules.prep_minutes)
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
    earliest = next((v for v in views if v.cart_ready and v.bookable), None)
    return PickupSlots(
        location_id=location_id,
        timezone=store.timezone,
        slots=views,
        earliest_ready=earliest,
        sourcing=sources,
    )


async def get_settings(db: Database, location_id: str) -> PickupSettings:
    async with db.connection() as conn:
        if await LocationRepository(conn).get(location_id) is None:
            raise LocationNotFound(f"location {location_id!r} does not exist", field="location_id")
        repo = PickupRepository(conn)
        return settings_view(await repo.rules(location_id), await repo.suppliers(location_id))


async def put_settings(db: Database, location_id: str, settings: PickupSettings) -> PickupSettings:
    """Raises LocationNotFound, InvalidInput (a supplier that is not a warehouse)."""

    async def work(conn: Connection) -> PickupSettings:
        location = await LocationRepository(conn).get(location_id)
        if location is None:
            raise LocationNotFound(f"location {location_id!r} does not exist", field="location_id")
        if location.kind != "store":
            raise InvalidInput("pickup settings belong to a store", field="location_id")
        known = await LedgerRepository(conn).existing_locations(
            s.warehouse_id for s in settings.suppliers
        )
        for index, supplier in enumerate(settings.suppliers):
            other = (
                await LocationRepository(conn).get(supplier.warehouse_id)
                if supplier.warehouse_id in known
                else None
            )
            if other is None:
                raise UnknownLocation(
                    f"location {supplier.warehouse_id!r} does not exist",
                    field=f"suppliers[{index}].warehouse_id",
                )
            if other.kind != "warehouse":
                raise InvalidInput(
                    f"{supplier.warehouse_id!r} is not a warehouse",
                    field=f"suppliers[{index}].warehouse_id",
                )
        await PickupRepository(conn).save_settings(location_id, settings)
        repo = PickupRepository(conn)
        return settings_view(await repo.rules(location_id), await repo.suppliers(location_id))

    return await db.run(work)
