"""A store's click-and-collect settings: slot length, capacity, preparation time,
horizon, hold period and supplying warehouses."""

from __future__ import annotations

from service.contracts.pickups import PickupSettings, Supplier
from service.domain.errors import InvalidInput, LocationNotFound, UnknownLocation
from service.domain.pickup_slots import SlotRules
from service.storage.database import Database
from service.storage.ledger import LedgerRepository
from service.storage.locations import LocationRepository
from service.storage.pickups import PickupRepository
from service.storage.pool import Connection


async def get_settings(db: Database, location_id: str) -> PickupSettings:
    """Raises LocationNotFound."""
    async with db.connection() as conn:
        if await LocationRepository(conn).get(location_id) is None:
            raise LocationNotFound(f"location {location_id!r} does not exist", field="location_id")
        return await _stored(PickupRepository(conn), location_id)


async def put_settings(db: Database, location_id: str, settings: PickupSettings) -> PickupSettings:
    """Raises LocationNotFound, InvalidInput (not a store; a supplier that is not a
    warehouse), UnknownLocation (a supplier that does not exist)."""

    async def work(conn: Connection) -> PickupSettings:
        location = await LocationRepository(conn).get(location_id)
        if location is None:
            raise LocationNotFound(f"location {location_id!r} does not exist", field="location_id")
        if location.kind != "store":
            raise InvalidInput("pickup settings belong to a store", field="location_id")
        await _check_suppliers(conn, settings.suppliers)
        repo = PickupRepository(conn)
        await repo.save_settings(location_id, slot_rules_of(settings), suppliers_of(settings))
        return await _stored(repo, location_id)

    return await db.run(work)


async def _check_suppliers(conn: Connection, suppliers: list[Supplier]) -> None:
    known = await LedgerRepository(conn).existing_locations(s.warehouse_id for s in suppliers)
    for index, supplier in enumerate(suppliers):
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


async def _stored(repo: PickupRepository, location_id: str) -> PickupSettings:
    return settings_view(await repo.rules(location_id), await repo.suppliers(location_id))


def slot_rules_of(settings: PickupSettings) -> SlotRules:
    return SlotRules(
        slot_minutes=settings.slot_minutes,
        capacity=settings.capacity_per_slot,
        prep_minutes=settings.prep_minutes,
        horizon_days=settings.horizon_days,
        hold_hours=settings.hold_hours,
    )


def suppliers_of(settings: PickupSettings) -> list[tuple[str, int]]:
    """(warehouse_id, lead_time_minutes) per supplier."""
    return [(s.warehouse_id, s.lead_time_minutes) for s in settings.suppliers]


def settings_view(rules: SlotRules, suppliers: list[tuple[str, int]]) -> PickupSettings:
    return PickupSettings(
        slot_minutes=rules.slot_minutes,
        capacity_per_slot=rules.capacity,
        prep_minutes=rules.prep_minutes,
        horizon_days=rules.horizon_days,
        hold_hours=rules.hold_hours,
        suppliers=[Supplier(warehouse_id=w, lead_time_minutes=m) for w, m in suppliers],
    )
