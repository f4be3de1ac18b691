"""A store's click-and-collect settings: slot length, capacity, preparation time,
horizon, hold period and supplying warehouses."""

from __future__ import annotations

from service.contracts.pickups import PickupSettings
from service.domain.errors import InvalidInput, LocationNotFound, UnknownLocation
from service.storage.database import Database
from service.storage.ledger import LedgerRepository
from service.storage.locations import LocationRepository
from service.storage.pickups import PickupRepository, settings_view
from service.storage.pool import Connection


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
